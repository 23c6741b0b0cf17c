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

// TestScheduleSuggestion: a heartbeat job created with a guessed schedule
// pings daily at about 02:00 Berlin time; after five pings the API proposes
// "0 2 * * *", and the proposal is a valid update of the job.
func TestScheduleSuggestion(t *testing.T) {
	eachEnv(t, nil, func(t *testing.T, e *env) {
		berlin, err := time.LoadLocation("Europe/Berlin")
		require.NoError(t, err)
		day := func(d int) time.Time { return time.Date(2026, 3, 2+d, 2, 0, 0, 0, berlin) }
		h := modelstest.NewHeartbeat(t, e.store, "@hourly", "Europe/Berlin", 5, day(0).Add(-time.Hour))
		path := "/api/v1/jobs/" + h.Job.ID + "/schedule-suggestion"
		reader := e.key("reader", models.PermReadJobs)
		ping := func(d int) {
			t.Helper()
			h.Ping(models.PingStart, day(d), "")
			h.Ping(models.PingSuccess, day(d).Add(time.Duration(20+7*d)*time.Second), "")
		}

		for d := 0; d < 4; d++ {
			ping(d)
		}
		r := e.do("GET", path, reader, "")
		assert.Equal(t, http.StatusNotFound, r.Code)
		assert.Contains(t, r.Error(t), "at least 5", "the 404 says why")

		for d := 4; d < 10; d++ {
			ping(d)
		}
		r = e.do("GET", path, reader, "")
		require.Equal(t, http.StatusOK, r.Code, string(r.Body))
		var got struct {
			Schedule           string  `json:"schedule"`
			Timezone           string  `json:"timezone"`
			HeartbeatTolerance int     `json:"heartbeatTolerance"`
			Confidence         float64 `json:"confidence"`
			BasedOnPings       int     `json:"basedOnPings"`
		}
		r.JSON(t, &got)
		assert.Equal(t, "0 2 * * *", got.Schedule)
		assert.Equal(t, "Europe/Berlin", got.Timezone)
		assert.Equal(t, 10, got.BasedOnPings, "success pings only")
		assert.GreaterOrEqual(t, got.HeartbeatTolerance, 1)
		assert.Greater(t, got.Confidence, 0.7)
		assert.LessOrEqual(t, got.Confidence, 1.0)

		// The suggestion is what PUT /jobs/{id} takes.
		r = e.do("PUT", "/api/v1/jobs/"+h.Job.ID, e.admin, string(r.Body))
		require.Equal(t, http.StatusOK, r.Code, string(r.Body))
		j := h.Get()
		assert.Equal(t, "0 2 * * *", j.Schedule)
		assert.Equal(t, got.HeartbeatTolerance, j.HeartbeatTolerance)

		r = e.do("GET", "/api/v1/jobs/nope/schedule-suggestion", reader, "")
		assert.Equal(t, http.StatusNotFound, r.Code)
		r = e.do("GET", path, e.key("projects", models.PermReadProjects), "")
		assert.Equal(t, http.StatusForbidden, r.Code)
	})
}
