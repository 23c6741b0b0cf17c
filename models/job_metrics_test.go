package models_test

import (
	"testing"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestJobMetrics(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
		hb := modelstest.NewHeartbeat(t, s, "@hourly", "UTC", 5, t0)
		hb.Ping(models.PingStart, t0.Add(time.Minute), "")
		hb.Ping(models.PingSuccess, t0.Add(3*time.Minute), "")
		hb.Ping(models.PingLog, t0.Add(4*time.Minute), "") // neither a finished run nor a success: nothing below moves

		name, url, sched, method := "api health", "https://example.com/health", "@every 1m", "GET"
		tags := models.Tags{"prod", "api"}
		check, err := s.NewJob(&models.JobRequest{Name: &name, ProjectID: &hb.Job.ProjectID, URL: &url, Method: &method, Schedule: &sched, Tags: &tags})
		require.NoError(t, err)
		require.NoError(t, s.CreateJob(check))
		for _, ms := range []int64{40, 25} {
			require.NoError(t, s.RecordRun(&models.CheckRun{JobID: check.ID, Result: models.RunSuccess, ResponseTimeMs: ms, Trigger: models.TriggerManual, CreatedAt: t0}))
		}

		got, err := s.JobMetrics(models.Page{Limit: 1})
		require.NoError(t, err)
		require.Len(t, got, 1)
		rest, err := s.JobMetrics(models.Page{Cursor: got[0].ID, Limit: 10})
		require.NoError(t, err)
		require.Len(t, rest, 1)
		byID := map[string]models.JobMetric{got[0].ID: got[0], rest[0].ID: rest[0]}

		h := byID[hb.Job.ID]
		assert.Equal(t, "proj", h.Project)
		assert.Equal(t, "backup", h.Name)
		assert.Equal(t, models.StatusUp, h.Status)
		require.NotNil(t, h.LastPingAt)
		assert.True(t, h.LastPingAt.Equal(t0.Add(3*time.Minute)), "last ping at %s", h.LastPingAt)
		require.NotNil(t, h.LastDurationMs)
		assert.Equal(t, int64(2*time.Minute/time.Millisecond), *h.LastDurationMs)

		c := byID[check.ID]
		assert.Equal(t, models.Tags{"prod", "api"}, c.Tags)
		assert.Nil(t, c.LastPingAt)
		require.NotNil(t, c.LastDurationMs)
		assert.Equal(t, int64(25), *c.LastDurationMs)

		counts, err := s.JobStatusCounts("")
		require.NoError(t, err)
		assert.Equal(t, map[string]int64{"new": 0, "up": 2, "late": 0, "down": 0, "paused": 0}, counts)
	})
}
