# 1. Create a project
PROJECT_ID=$(curl -X POST https://app.cronpulse.live/api/v1/projects \
-H "X-API-Key: cpk_your_api_key" \
-H "Content-Type: application/json" \
-d '{"name": "My API Project", "url": "https://example.com"}' \
| jq -r '.id')
# 2. Create a job
JOB_ID=$(curl -X POST https://app.cronpulse.live/api/v1/jobs \
-H "X-API-Key: cpk_your_api_key" \
-H "Content-Type: application/json" \
-d '{
"name": "Health Check",
"projectId": "'$PROJECT_ID'",
"url": "https://example.com/health",
"method": "GET",
"schedule": "*/5 * * * *",
"heartbeat": true
}' \
| jq -r '.id')
# 3. Monitor the job
curl -H "X-API-Key: cpk_your_api_key" \
https://app.cronpulse.live/api/v1/jobs/$JOB_ID
