package models_test

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/stretchr/testify/require"
)

// BenchmarkHourlyStrips reads the strips of one page of 50 jobs among
// 10,000, each with the 8 days of hourly buckets HourlyStatsKept keeps
// (1.9 million rows) and a pause, on SQLite, or on PostgreSQL when
// CRONPULSE_TEST_DATABASE_URL is set:
//
//	go test ./models -run '^$' -bench HourlyStrips -benchtime 200x -benchmem
func BenchmarkHourlyStrips(b *testing.B) {
	db := modelstest.Databases(b)[0]
	if os.Getenv(modelstest.EnvPostgres) != "" {
		db = modelstest.Databases(b)[1]
	}
	now := time.Date(2026, 3, 9, 10, 30, 0, 0, time.UTC)
	store := modelstest.Open(b, db.URL, func() time.Time { return now })
	pname := "bench"
	p, err := store.NewProject(&models.ProjectRequest{Name: &pname})
	require.NoError(b, err)
	require.NoError(b, store.CreateProject(p))
	const jobs, hours = 10_000, 8 * 24
	var js []*models.Job
	var pauses []*models.Pause
	for i := range jobs {
		name, sched, url, method := fmt.Sprintf("job %05d", i), "@hourly", "https://example.com/", "GET"
		j, err := store.NewJob(&models.JobRequest{Name: &name, ProjectID: &p.ID, Schedule: &sched, URL: &url, Method: &method})
		require.NoError(b, err)
		j.ID = fmt.Sprintf("%s%05d", j.ID[:len(j.ID)-5], i) // ids made in one microsecond must still differ
		j.CreatedAt = now.Add(-10 * 24 * time.Hour)
		js = append(js, j)
		from, to := now.Add(-time.Duration(i%30)*time.Hour), now.Add(-time.Duration(i%30)*time.Hour+2*time.Hour)
		pauses = append(pauses, &models.Pause{JobID: j.ID, PausedAt: from, ResumedAt: &to})
	}
	gdb := store.DB()
	require.NoError(b, gdb.CreateInBatches(js, 200).Error)
	require.NoError(b, gdb.CreateInBatches(pauses, 500).Error)
	for start := 0; start < jobs; start += 100 {
		var r models.Rollups
		for _, j := range js[start : start+100] {
			for h := range hours {
				d := int64(100 + h)
				r.Add(j.ID, p.ID, now.Add(-time.Duration(h)*time.Hour), models.RunSuccess, &d)
			}
		}
		require.NoError(b, store.AddRollups(gdb, &r))
	}
	require.NoError(b, gdb.Exec("ANALYZE").Error)
	page := make([]string, 50)
	for i := range page {
		page[i] = js[i*7].ID // scattered over the table
	}
	// A job's 90-day stats (BENCHMARKS.md, Stats) run alongside, as a
	// yardstick on a shared machine.
	b.Run("strips", func(b *testing.B) {
		for b.Loop() {
			got, err := store.HourlyStrips(page, now)
			if err != nil || len(got) != len(page) || got[page[0]][0].Runs != 1 {
				b.Fatalf("strips: %v, %d jobs", err, len(got))
			}
		}
	})
	b.Run("jobstats90d", func(b *testing.B) {
		for b.Loop() {
			if _, err := store.JobStatsOf(page[0], "90d", ""); err != nil {
				b.Fatal(err)
			}
		}
	})
}
