package main

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"gorm.io/gorm"
)

// statsScenario bulk-inserts n jobs into a project of their own and 90
// days of rollups for each, as CronPulse would have them after 90 days of
// one run every five minutes: a daily row per finished day (compacted, the
// watermark at yesterday), hourly buckets for the last 8 days
// (models.HourlyStatsKept) and the project's hourly buckets for 90 days.
// It returns the endpoints that measure GET /jobs/{id}/stats?period=90d on
// random jobs and GET /stats?period=30d.
func statsScenario(c *client, store *models.Store, n int) ([]endpoint, error) {
	start := time.Now()
	ids, rows, err := rollupProject(c, store, "apibench stats", n, 100)
	if err != nil {
		return nil, err
	}
	var got struct {
		Data struct {
			TotalRuns int64 `json:"totalRuns"`
			DailyRuns []struct {
				Total int64 `json:"total"`
			} `json:"dailyRuns"`
		} `json:"data"`
	}
	if err := c.call("GET", "/api/v1/jobs/"+ids[0]+"/stats?period=90d", "", &got); err != nil {
		return nil, err
	}
	if len(got.Data.DailyRuns) != 90 || got.Data.DailyRuns[0].Total == 0 || got.Data.TotalRuns < 89*288 {
		return nil, fmt.Errorf("90-day stats of a bulk job look wrong: %d runs over %d days", got.Data.TotalRuns, len(got.Data.DailyRuns))
	}
	fmt.Printf("apibench: %d jobs and %d rollup rows bulk-inserted in %s; a job's 90 days hold %d runs\n",
		n, rows, time.Since(start).Round(time.Millisecond), got.Data.TotalRuns)
	var seq atomic.Int64
	return []endpoint{
		{"jobstats", fmt.Sprintf("GET /jobs/{id}/stats?period=90d (%dk jobs)", n/1000), func() (*http.Request, error) {
			return c.req("GET", "/api/v1/jobs/"+ids[int(seq.Add(7919))%len(ids)]+"/stats?period=90d", "")
		}},
		{"globalstats", fmt.Sprintf("GET /stats?period=30d (%dk jobs)", n/1000), func() (*http.Request, error) {
			return c.req("GET", "/api/v1/stats?period=30d", "")
		}},
	}, nil
}

// rollupProject creates a project of n bulk-inserted jobs, one in
// downEvery down, with bulkRollups' 90 days each, and returns the jobs'
// ids and the rollup rows written. On PostgreSQL it runs ANALYZE, as
// autovacuum soon would.
func rollupProject(c *client, store *models.Store, name string, n, downEvery int) ([]string, int, error) {
	project, err := c.createProject(name)
	if err != nil {
		return nil, 0, err
	}
	if err := bulkJobs(store, project, n, downEvery); err != nil {
		return nil, 0, err
	}
	var ids []string
	if err := store.DB().Raw("SELECT id FROM jobs WHERE project_id = ? ORDER BY id", project).Scan(&ids).Error; err != nil {
		return nil, 0, fmt.Errorf("read job ids: %w", err)
	}
	rows, err := bulkRollups(store, project, ids, time.Now().UTC())
	if err != nil {
		return nil, 0, err
	}
	if store.Dialect() == models.Postgres {
		if err := store.DB().Exec("ANALYZE jobs; ANALYZE stats_hourly; ANALYZE stats_daily; ANALYZE project_stats_hourly").Error; err != nil {
			return nil, 0, fmt.Errorf("analyze: %w", err)
		}
	}
	return ids, rows, nil
}

// bulkRollups inserts the rollups statsScenario describes and returns how
// many rows it wrote.
func bulkRollups(store *models.Store, project string, ids []string, now time.Time) (int, error) {
	counters := func(runs, i int) []any {
		v := []any{int64(runs - i%3), int64(i % 3), int64(0), int64(0), int64(runs), int64(runs * 180), int64(400)}
		for h := 0; h < 16; h++ {
			n := 0
			if h == 3 || h == 4 {
				n = runs / 2
			}
			v = append(v, int64(n))
		}
		return v
	}
	// The counters' columns: those of a rollup row after its hour and id.
	counterCols := models.ColumnNames(models.RollupColumns("job_id")[2:])
	today := now.Truncate(24 * time.Hour)
	hour := now.Truncate(time.Hour)
	total := 0
	err := store.DB().Transaction(func(tx *gorm.DB) error {
		insert := func(table string, cols int, rows []any) error {
			for len(rows) > 0 {
				k := min(len(rows), 500*cols)
				q := "INSERT INTO " + table + " VALUES " + models.ValueRows(k/cols, cols)
				if err := tx.Exec(q, rows[:k]...).Error; err != nil {
					return fmt.Errorf("insert into %s: %w", table, err)
				}
				total += k / cols
				rows = rows[k:]
			}
			return nil
		}
		for _, id := range ids {
			var daily, hourly []any
			for d := 1; d < 90; d++ {
				day := today.AddDate(0, 0, -d).Format(time.DateOnly)
				daily = append(append(daily, id, day, "UTC"), counters(288, d)...)
			}
			for h := 0; h < 8*24; h++ {
				at := hour.Add(-time.Duration(h) * time.Hour)
				hourly = append(append(hourly, at, id), counters(12, h)...)
			}
			if err := insert("stats_daily (job_id, day, timezone, "+counterCols+")", 26, daily); err != nil {
				return err
			}
			if err := insert("stats_hourly (hour, job_id, "+counterCols+")", 25, hourly); err != nil {
				return err
			}
		}
		var projRows []any
		for h := 0; h < 90*24; h++ {
			projRows = append(append(projRows, hour.Add(-time.Duration(h)*time.Hour), project), counters(12*len(ids), h)...)
		}
		if err := insert("project_stats_hourly (hour, project_id, "+counterCols+")", 25, projRows); err != nil {
			return err
		}
		return tx.Exec(`INSERT INTO stats_compaction (timezone, day) VALUES ('UTC', ?) ON CONFLICT (timezone) DO NOTHING`, today.AddDate(0, 0, -1).Format(time.DateOnly)).Error
	})
	return total, err
}
