package handlers_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStatsEndpoints: GET /jobs/{id}/stats and GET /stats answer
// {"data": …} with every documented field, one dailyRuns entry per day of
// the period, days in the job's zone or ?tz=, and 4xx naming the bad
// parameter.
func TestStatsEndpoints(t *testing.T) {
	var now time.Time
	clock := func() time.Time { return now }
	modelstest.Run(t, func(t *testing.T, db modelstest.Database) {
		now = time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
		e := newEnvAt(t, db, nil, clock)
		p := e.project("stats")
		id := e.mustCreate("/jobs", `{"name":"nightly","projectId":`+quote(p)+`,"heartbeat":true,"schedule":"0 * * * *","timezone":"Europe/Berlin"}`)
		now = time.Date(2024, 6, 10, 1, 30, 0, 0, time.UTC) // 03:30 in Berlin
		// 23:30 UTC on 9 June is 01:30 on 10 June in Berlin.
		at := time.Date(2024, 6, 9, 23, 30, 0, 0, time.UTC)
		run := &models.CheckRun{JobID: id, Result: models.RunSuccess, ResponseTimeMs: 80, CreatedAt: at}
		require.NoError(t, e.store.RecordRun(run))

		r := e.do("GET", "/api/v1/jobs/"+id+"/stats", e.admin, "")
		require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
		var body struct {
			Data map[string]any `json:"data"`
		}
		r.JSON(t, &body)
		for _, f := range []string{"period", "totalRuns", "successRuns", "failedRuns", "successRate", "avgDurationMs",
			"p95DurationMs", "uptimePercent", "downtimeSeconds", "flips", "lastRunAt", "dailyRuns"} {
			assert.Contains(t, body.Data, f)
		}
		assert.Equal(t, "7d", body.Data["period"], "the default period")
		days := body.Data["dailyRuns"].([]any)
		require.Len(t, days, 7)
		last := days[6].(map[string]any)
		assert.Equal(t, "2024-06-10", last["date"])
		assert.EqualValues(t, 1, last["total"], "23:30 UTC is the 10th in Berlin")
		for _, f := range []string{"date", "success", "failure", "total", "avgDurationMs", "uptimePercent"} {
			assert.Contains(t, last, f)
		}
		assert.EqualValues(t, 100, body.Data["successRate"])

		var utc struct {
			Data models.JobStats `json:"data"`
		}
		r = e.do("GET", "/api/v1/jobs/"+id+"/stats?period=30d&tz=UTC", e.admin, "")
		require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
		r.JSON(t, &utc)
		require.Len(t, utc.Data.DailyRuns, 30)
		assert.Equal(t, "2024-06-09", utc.Data.DailyRuns[28].Date)
		assert.Equal(t, int64(1), utc.Data.DailyRuns[28].Total, "in UTC the run is on the 9th")
		assert.Equal(t, "UTC", utc.Data.Timezone)

		for _, c := range []struct{ name, query, field string }{
			{"bad period", "?period=1y", "period"},
			{"bad zone", "?tz=Mars/Olympus", "tz"},
		} {
			e.run(t, c.name, func(t *testing.T) {
				r := e.do("GET", "/api/v1/jobs/"+id+"/stats"+c.query, e.admin, "")
				require.Equal(t, http.StatusBadRequest, r.Code)
				assert.Contains(t, r.Error(t), c.field)
			})
		}
		e.run(t, "unknown job", func(t *testing.T) {
			r := e.do("GET", "/api/v1/jobs/nope/stats", e.admin, "")
			assert.Equal(t, http.StatusNotFound, r.Code)
		})

		r = e.do("GET", "/api/v1/stats?period=24h", e.admin, "")
		require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
		var g struct {
			Data map[string]any `json:"data"`
		}
		r.JSON(t, &g)
		for _, f := range []string{"totalJobs", "activeJobs", "pausedJobs", "jobsByStatus", "runsInPeriod", "successRate", "avgDurationMs", "dailyRuns"} {
			assert.Contains(t, g.Data, f)
		}
		assert.EqualValues(t, 1, g.Data["runsInPeriod"])
		assert.EqualValues(t, 1, g.Data["totalJobs"])
		byStatus := g.Data["jobsByStatus"].(map[string]any)
		for _, s := range []string{"up", "down", "late", "new", "paused"} {
			assert.Contains(t, byStatus, s)
		}
		r = e.do("GET", "/api/v1/stats?projectId=nope", e.admin, "")
		require.Equal(t, http.StatusBadRequest, r.Code)
		assert.Contains(t, r.Error(t), "projectId")
	})
}
