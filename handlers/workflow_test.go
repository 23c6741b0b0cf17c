package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The "Complete Workflow Example" of the CronPulse API document, verbatim in
// testdata/workflow.sh, runs with bash, curl and jq against a real listening
// server; only the base URL and the key are replaced.
const (
	docBaseURL = "https://app.cronpulse.live/api/v1"
	docKey     = "cpk_your_api_key"
	// seedDoc is where the document lives in the project's workspace; when it
	// is present the test checks that testdata still matches it.
	seedDoc = "../../shared/seeds/001_30b35d2be56a6de7.txt"
)

func TestCompleteWorkflowExample(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			// In CI a missing tool is a failure (.ci/run installs them); on a
			// developer's machine without jq the rest of the suite still runs.
			if os.Getenv("CI") == "true" {
				t.Fatalf("the workflow test needs %s on PATH: %v", tool, err)
			}
			t.Skipf("the workflow test needs %s on PATH (.ci/run installs it)", tool)
		}
	}
	script, err := os.ReadFile("testdata/workflow.sh")
	require.NoError(t, err)
	if doc, err := os.ReadFile(seedDoc); err == nil {
		require.Contains(t, string(doc), string(script), "testdata/workflow.sh must be the document's script, verbatim")
	}
	require.Equal(t, 1, strings.Count(string(script), docBaseURL+"/projects"))

	// A fixed clock makes nextRunAt exact: the next */5 tick after 12:02:10.
	now := time.Date(2024, 1, 30, 12, 2, 10, 0, time.UTC)
	clock := func() time.Time { return now }

	for _, db := range modelstest.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			db.SkipIfMissing(t)
			e := newEnvAt(t, db, nil, clock)
			base := e.listen(t) + "/api/v1"

			body := strings.ReplaceAll(string(script), docBaseURL, base)
			body = strings.ReplaceAll(body, docKey, e.admin)
			// The epilogue only reports the ids the script captured.
			idsFile := filepath.Join(t.TempDir(), "ids")
			body += "\nprintf '%s %s' \"$PROJECT_ID\" \"$JOB_ID\" > \"$IDS_FILE\"\n"

			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, "bash", "-c", body)
			cmd.Env = append(os.Environ(), "IDS_FILE="+idsFile)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			require.NoError(t, cmd.Run(), "stderr: %s", stderr.String())

			ids, err := os.ReadFile(idsFile)
			require.NoError(t, err)
			parts := strings.Fields(string(ids))
			require.Len(t, parts, 2, "the script must capture both ids, got %q", ids)
			projectID, jobID := parts[0], parts[1]
			require.NotEqual(t, "null", projectID)
			require.NotEqual(t, "null", jobID)

			// Step 3's output is GET /jobs/$JOB_ID.
			var job map[string]any
			require.NoError(t, json.Unmarshal(stdout.Bytes(), &job), "step 3 output: %s", stdout.String())
			for _, field := range []string{"id", "name", "projectId", "url", "method", "schedule", "heartbeat",
				"heartbeatTolerance", "timeout", "expectedStatusCode", "headers", "body", "lastStatus",
				"lastActivityAt", "nextRunAt"} {
				assert.Contains(t, job, field, "GET /jobs/{id} must return the documented field %s", field)
			}
			assert.Equal(t, jobID, job["id"])
			assert.Equal(t, "Health Check", job["name"])
			assert.Equal(t, projectID, job["projectId"])
			assert.Equal(t, "https://example.com/health", job["url"])
			assert.Equal(t, "GET", job["method"])
			assert.Equal(t, "*/5 * * * *", job["schedule"])
			assert.Equal(t, true, job["heartbeat"])
			assert.Equal(t, 5.0, job["heartbeatTolerance"])
			assert.Equal(t, 30.0, job["timeout"])
			assert.Equal(t, 200.0, job["expectedStatusCode"])
			assert.Equal(t, map[string]any{}, job["headers"])
			assert.Nil(t, job["body"])
			assert.Equal(t, "pending", job["lastStatus"])
			assert.Nil(t, job["lastActivityAt"], "no run or ping yet")
			assert.Equal(t, "2024-01-30T12:05:00Z", job["nextRunAt"])
			// Ours beside them; the admin key may write jobs, so it sees the ping URL.
			assert.Equal(t, "UTC", job["timezone"])
			assert.Equal(t, "new", job["status"])
			assert.Equal(t, "http://localhost:8080/ping/"+job["pingToken"].(string), job["pingUrl"])

			// The project embeds the job in short form, as the document shows.
			r := e.do("GET", "/api/v1/projects/"+projectID, e.admin, "")
			require.Equal(t, 200, r.Code)
			var p struct {
				Name string `json:"name"`
				URL  string `json:"url"`
				Jobs []struct {
					ID, Name, LastStatus string
				} `json:"jobs"`
			}
			r.JSON(t, &p)
			assert.Equal(t, "My API Project", p.Name)
			assert.Equal(t, "https://example.com", p.URL)
			require.Len(t, p.Jobs, 1)
			assert.Equal(t, jobID, p.Jobs[0].ID)
			assert.Equal(t, "Health Check", p.Jobs[0].Name)
			assert.Equal(t, "pending", p.Jobs[0].LastStatus)
		})
	}
}
