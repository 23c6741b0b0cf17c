package models_test

import (
	"testing"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMonitorCounts(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		created := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		watched := modelstest.NewHeartbeat(t, s, "0 * * * *", "UTC", 5, created)
		waiting := modelstest.NewHeartbeat(t, s, "0 * * * *", "UTC", 5, created) // never pinged: no deadline yet
		watched.Ping(models.PingSuccess, created.Add(time.Minute), "")
		require.NotNil(t, watched.Get().AlertAt)
		require.Nil(t, waiting.Get().AlertAt)

		newCheck := func(name string, paused bool) {
			t.Helper()
			url, method, sched := "https://example.com/"+name, "GET", "*/5 * * * *"
			j, err := s.NewJob(&models.JobRequest{Name: &name, ProjectID: &watched.Job.ProjectID,
				URL: &url, Method: &method, Schedule: &sched, Paused: &paused})
			require.NoError(t, err)
			require.NoError(t, s.CreateJob(j))
		}
		newCheck("a", false)
		newCheck("b", false)
		newCheck("paused", true)

		checks, heartbeats, err := s.MonitorCounts()
		require.NoError(t, err)
		assert.Equal(t, int64(2), checks, "unpaused checks with a next tick")
		assert.Equal(t, int64(1), heartbeats, "heartbeat jobs with a deadline")
	})
}
