package handlers_test

import (
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/stretchr/testify/require"
)

// BenchmarkJobMetrics scrapes GET /api/v1/metrics with 10,000 jobs (half
// checks with runs, half heartbeats with timed runs), on SQLite, or on
// PostgreSQL when CRONPULSE_TEST_DATABASE_URL is set:
//
//	go test ./handlers -run '^$' -bench JobMetrics -benchtime 5x
func BenchmarkJobMetrics(b *testing.B) {
	db := modelstest.Databases(b)[0]
	if os.Getenv(modelstest.EnvPostgres) != "" {
		db = modelstest.Databases(b)[1]
	}
	e := newEnv(b, db, nil)
	p := e.project("bench")
	const jobs = 10_000
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	var js []*models.Job
	var runs []*models.CheckRun
	var pings []*models.Ping
	for i := range jobs {
		name, sched, hb, tags := fmt.Sprintf("job %05d", i), "@hourly", i%2 == 0, models.Tags{"bench", "t" + fmt.Sprint(i%10)}
		r := &models.JobRequest{Name: &name, ProjectID: &p, Schedule: &sched, Heartbeat: &hb, Tags: &tags}
		if !hb {
			url, method := "https://example.com/"+fmt.Sprint(i), "GET"
			r.URL, r.Method = &url, &method
		}
		j, err := e.store.NewJob(r)
		require.NoError(b, err)
		j.ID = fmt.Sprintf("%s%05d", j.ID[:len(j.ID)-5], i) // ids made in one microsecond must still differ
		js = append(js, j)
		if hb {
			at, d := t0.Add(time.Minute), int64(60_000)
			j.Status, j.LastPingAt, j.PingCount = models.StatusUp, &at, 2
			pings = append(pings, &models.Ping{JobID: j.ID, N: 1, Kind: models.PingStart, CreatedAt: t0},
				&models.Ping{JobID: j.ID, N: 2, Kind: models.PingSuccess, DurationMs: &d, CreatedAt: at})
		} else {
			for k := range 3 {
				runs = append(runs, &models.CheckRun{JobID: j.ID, Result: models.RunSuccess, ResponseTimeMs: int64(10 + k), Trigger: models.TriggerSchedule, CreatedAt: t0})
			}
		}
	}
	gdb := e.store.DB()
	require.NoError(b, gdb.CreateInBatches(js, 200).Error)
	require.NoError(b, gdb.CreateInBatches(runs, 500).Error)
	require.NoError(b, gdb.CreateInBatches(pings, 500).Error)
	key := e.key("scraper", models.PermReadJobs)
	b.ResetTimer()
	for b.Loop() {
		r := e.do("GET", "/api/v1/metrics", key, "")
		require.Equal(b, http.StatusOK, r.Code)
		b.ReportMetric(float64(len(r.Body)), "bytes")
	}
}
