package models_test

import (
	"io"
	"log/slog"
	"math"
	"testing"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/cronpulse/cronpulse/models/pingwriter"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// run is one heartbeat run as the test knows it: when it finished, whether
// it failed, and how long it took.
type run struct {
	at     time.Time
	failed bool
	durMs  int64 // 0: unknown (a paused job tracks no starts)
}

// expected computes, independently of the store, the stats of runs and
// of the down and paused stretches over the days of a window in loc.
type expected struct {
	runs   []run
	downs  [][2]time.Time // [from, to)
	pauses [][2]time.Time
}

func (e expected) day(date string, loc *time.Location) (success, failure, durSum, durCount int64) {
	for _, r := range e.runs {
		if date != "" && r.at.In(loc).Format(time.DateOnly) != date {
			continue
		}
		if r.failed {
			failure++
		} else {
			success++
		}
		if r.durMs > 0 {
			durSum += r.durMs
			durCount++
		}
	}
	return
}

// overlap is the length of [a, b) ∩ [c, d).
func overlap(a, b, c, d time.Time) time.Duration {
	from, to := a, b
	if c.After(from) {
		from = c
	}
	if d.Before(to) {
		to = d
	}
	if to.After(from) {
		return to.Sub(from)
	}
	return 0
}

func (e expected) uptime(from, to time.Time) float64 {
	var down, paused time.Duration
	for _, d := range e.downs {
		down += overlap(d[0], d[1], from, to)
	}
	for _, p := range e.pauses {
		paused += overlap(p[0], p[1], from, to)
	}
	watched := to.Sub(from) - paused
	return math.Round(100*(1-down.Seconds()/watched.Seconds())*100) / 100
}

// TestStatsOutliveHistory drives three weeks of a heartbeat job through
// the real ping writer, which keeps only 20 pings, across the change to
// summer time in Berlin, with a failure stretch and a pause, and checks
// every figure of the 30-day stats against the test's own arithmetic:
// before compaction (hourly buckets), after it (daily rows), and after the
// hourly buckets are pruned.
func TestStatsOutliveHistory(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	created := time.Date(2024, 3, 15, 12, 0, 0, 0, berlin)
	now := created
	clock := func() time.Time { return now }
	modelstest.Run(t, func(t *testing.T, db modelstest.Database) {
		store := modelstest.Open(t, db.URL, clock)
		h := modelstest.NewHeartbeat(t, store, "0 * * * *", "Europe/Berlin", 600, created.UTC())
		h.W.Close()
		h.W = pingwriter.New(store, pingwriter.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), History: 20})
		t.Cleanup(h.W.Close)

		var want expected
		var downSince *time.Time
		// Every day from 15 March to 4 April, runs at 00:30, 06:00, 12:00 and
		// 23:30 local time (the first run on day one is 23:30), each a
		// start and a finish some minutes later; the runs of 20 March fail,
		// and the job is paused from 25 March 10:00 to 27 March 10:00.
		pauseFrom := time.Date(2024, 3, 25, 10, 0, 0, 0, berlin)
		pauseTo := time.Date(2024, 3, 27, 10, 0, 0, 0, berlin)
		paused, pausedOnce := false, false
		for d := 0; d < 21; d++ {
			for i, hm := range [][2]int{{0, 30}, {6, 0}, {12, 0}, {23, 30}} {
				start := time.Date(2024, 3, 15+d, hm[0], hm[1], 0, 0, berlin)
				if !start.After(created) {
					continue
				}
				if !pausedOnce && !start.Before(pauseFrom) {
					pausedOnce = true
					now = pauseFrom
					yes := true
					_, err := store.UpdateJob(h.Job.ID, &models.JobRequest{Paused: &yes})
					require.NoError(t, err)
					paused = true
					if downSince != nil { // a pause ends downtime
						want.downs = append(want.downs, [2]time.Time{*downSince, pauseFrom})
						downSince = nil
					}
				}
				if paused && !start.Before(pauseTo) {
					now = pauseTo
					no := false
					_, err := store.UpdateJob(h.Job.ID, &models.JobRequest{Paused: &no})
					require.NoError(t, err)
					paused = false
					want.pauses = append(want.pauses, [2]time.Time{pauseFrom, pauseTo})
				}
				durMs := int64(60_000 * (1 + (d+i)%7))
				finish := start.Add(time.Duration(durMs) * time.Millisecond)
				failed := start.Day() == 20 && start.Month() == 3
				h.Ping(models.PingStart, start, "")
				kind := models.PingSuccess
				if failed {
					kind = models.PingFail
				}
				h.Ping(kind, finish, "")
				if paused {
					durMs = 0
				}
				want.runs = append(want.runs, run{at: finish, failed: failed, durMs: durMs})
				if paused {
					continue // pings while paused change no status: no flips
				}
				switch {
				case failed && downSince == nil:
					at := finish
					downSince = &at
				case !failed && downSince != nil:
					want.downs = append(want.downs, [2]time.Time{*downSince, finish})
					downSince = nil
				}
			}
		}
		now = time.Date(2024, 4, 5, 9, 0, 0, 0, berlin)
		h.W.Close() // waits for the background pruner (PostgreSQL prunes there)
		require.Less(t, h.StoredPings(), int64(40), "raw history is pruned")

		check := func(t *testing.T, what string) {
			st, err := store.JobStatsOf(h.Job.ID, "30d", "")
			require.NoError(t, err)
			require.Len(t, st.DailyRuns, 30, "%s: one entry per day", what)
			var total, success int64
			for i, d := range st.DailyRuns {
				date := time.Date(2024, 3, 7+i, 0, 0, 0, 0, berlin).Format(time.DateOnly)
				require.Equal(t, date, d.Date, "%s: days in order, none missing", what)
				ws, wf, wd, wn := want.day(date, berlin)
				assert.Equal(t, ws, d.Success, "%s: %s success", what, date)
				assert.Equal(t, wf, d.Failure, "%s: %s failure", what, date)
				assert.Equal(t, ws+wf, d.Total, "%s: %s total", what, date)
				if wn > 0 && assert.NotNil(t, d.AvgDurationMs, "%s: %s", what, date) {
					assert.Equal(t, int64(math.Round(float64(wd)/float64(wn))), *d.AvgDurationMs, "%s: %s avg", what, date)
				} else if wn == 0 {
					assert.Nil(t, d.AvgDurationMs, "%s: %s has no durations", what, date)
				}
				dayFrom := time.Date(2024, 3, 7+i, 0, 0, 0, 0, berlin)
				dayTo := time.Date(2024, 3, 8+i, 0, 0, 0, 0, berlin)
				if dayTo.After(now) {
					dayTo = now
				}
				if dayFrom.Before(created) {
					dayFrom = created
				}
				if !dayFrom.Before(dayTo) {
					assert.Nil(t, d.UptimePercent, "%s: %s before the job existed", what, date)
				} else if dayFrom.After(pauseFrom) && dayTo.Before(pauseTo) {
					assert.Nil(t, d.UptimePercent, "%s: %s paused all day", what, date)
				} else if assert.NotNil(t, d.UptimePercent, "%s: %s", what, date) {
					assert.InDelta(t, want.uptime(dayFrom, dayTo), *d.UptimePercent, 0.011, "%s: %s uptime", what, date)
				}
				total += d.Total
				success += d.Success
			}
			assert.Equal(t, int64(len(want.runs)), st.TotalRuns, what)
			assert.Equal(t, total, st.TotalRuns, "%s: totals are the sum of the days", what)
			assert.Equal(t, success, st.SuccessRuns, what)
			assert.Equal(t, st.TotalRuns-st.SuccessRuns, st.FailedRuns, what)
			require.NotNil(t, st.SuccessRate, what)
			assert.Equal(t, math.Round(1000*float64(success)/float64(total))/10, *st.SuccessRate, "%s: success rate", what)
			require.NotNil(t, st.AvgDurationMs, what)
			_, _, durSum, durCount := want.day("", berlin)
			assert.Equal(t, int64(math.Round(float64(durSum)/float64(durCount))), *st.AvgDurationMs, what)
			require.NotNil(t, st.P95DurationMs, what)
			assert.InDelta(t, 7*60_000, *st.P95DurationMs, 60_000, "%s: p95 within a bucket of the longest runs", what)
			require.NotNil(t, st.UptimePercent, what)
			assert.InDelta(t, want.uptime(created, now), *st.UptimePercent, 0.011, "%s: uptime", what)
			var down time.Duration
			for _, d := range want.downs {
				down += d[1].Sub(d[0])
			}
			assert.InDelta(t, down.Seconds(), float64(st.DowntimeSeconds), 1, "%s: downtime", what)
			assert.Equal(t, int64(2), st.Flips, "%s: down on the 20th, up on the 21st", what)
			day, err := store.JobStatsOf(h.Job.ID, "24h", "")
			require.NoError(t, err)
			var last24 int64
			for _, r := range want.runs {
				if !r.at.Before(now.Add(-24*time.Hour).Truncate(time.Hour)) && r.at.Before(now) {
					last24++
				}
			}
			assert.Equal(t, last24, day.TotalRuns, "%s: the last 24 hours, whatever was compacted", what)
			require.NotNil(t, st.LastRunAt, what)
			assert.True(t, st.LastRunAt.Equal(want.runs[len(want.runs)-1].at), "%s: last run %s", what, st.LastRunAt)
		}
		t.Run("hourly", func(t *testing.T) { check(t, "hourly") })
		n, err := store.CompactStats(now)
		require.NoError(t, err)
		assert.Equal(t, 21, n, "every finished day since the first bucket")
		t.Run("compacted", func(t *testing.T) { check(t, "compacted") })
		n, err = store.CompactStats(now)
		require.NoError(t, err)
		assert.Zero(t, n, "compacting again does nothing")
		require.NoError(t, store.PruneStats(now, 90*24*time.Hour))
		var hourly int64
		require.NoError(t, store.DB().Raw("SELECT count(*) FROM stats_hourly").Scan(&hourly).Error)
		assert.Positive(t, hourly, "the last days' buckets are kept")
		assert.Less(t, hourly, int64(8*24+1), "older hourly buckets are pruned")
		t.Run("pruned", func(t *testing.T) { check(t, "pruned") })
	})
}

// newCheck stores an HTTP check in a new project and returns it.
func newCheck(t *testing.T, store *models.Store, project string) *models.Job {
	t.Helper()
	p, err := store.NewProject(&models.ProjectRequest{Name: &project})
	require.NoError(t, err)
	require.NoError(t, store.CreateProject(p))
	name, url, method, sched := "api", "https://example.com/health", "GET", "@every 1m"
	j, err := store.NewJob(&models.JobRequest{Name: &name, ProjectID: &p.ID, URL: &url, Method: &method, Schedule: &sched})
	require.NoError(t, err)
	require.NoError(t, store.CreateJob(j))
	return j
}

// TestCheckRunsRollUp: the check-run writer adds each run to its job's and
// its project's buckets; a run's duration is its response time, and
// timeouts and errors count as failed runs. GET /stats sums the projects,
// or reads one.
func TestCheckRunsRollUp(t *testing.T) {
	now := time.Date(2024, 6, 10, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	modelstest.Run(t, func(t *testing.T, db modelstest.Database) {
		store := modelstest.Open(t, db.URL, clock)
		a, b := newCheck(t, store, "a"), newCheck(t, store, "b")
		results := []string{models.RunSuccess, models.RunSuccess, models.RunFailure, models.RunTimeout, models.RunError, models.RunSuccess}
		var runs []*models.CheckRun
		for i, r := range results {
			at := now.Add(-time.Duration(len(results)-i) * 6 * time.Hour) // over the last day and a half
			runs = append(runs, &models.CheckRun{JobID: a.ID, Result: r, ResponseTimeMs: int64(100 * (i + 1)), CreatedAt: at})
		}
		runs = append(runs, &models.CheckRun{JobID: b.ID, Result: models.RunSuccess, ResponseTimeMs: 50, CreatedAt: now.Add(-time.Hour)})
		n, err := store.RecordRuns(runs[:4])
		require.NoError(t, err)
		require.Equal(t, 4, n)
		for _, r := range runs[4:] { // the manual path too
			require.NoError(t, store.RecordRun(r))
		}

		st, err := store.JobStatsOf(a.ID, "7d", "")
		require.NoError(t, err)
		assert.Equal(t, int64(6), st.TotalRuns)
		assert.Equal(t, int64(3), st.SuccessRuns)
		assert.Equal(t, int64(3), st.FailedRuns, "failure, timeout and error")
		require.NotNil(t, st.SuccessRate)
		assert.Equal(t, 50.0, *st.SuccessRate)
		require.NotNil(t, st.AvgDurationMs)
		assert.Equal(t, int64(350), *st.AvgDurationMs, "the mean response time")
		require.Len(t, st.DailyRuns, 7)
		var sum int64
		for _, d := range st.DailyRuns {
			sum += d.Total
		}
		assert.Equal(t, int64(6), sum)
		assert.Equal(t, int64(2), st.DailyRuns[6].Total, "today: the runs at 06:00 and 12:00 less 6h")

		g, err := store.GlobalStatsOf("7d", "")
		require.NoError(t, err)
		assert.Equal(t, int64(7), g.RunsInPeriod)
		assert.Equal(t, int64(4), g.SuccessRuns)
		assert.Equal(t, int64(2), g.TotalJobs)
		assert.Equal(t, int64(2), g.ActiveJobs)
		require.Len(t, g.DailyRuns, 7)
		assert.Equal(t, "2024-06-10", g.DailyRuns[6].Date, "days in UTC, today last")
		one, err := store.GlobalStatsOf("24h", b.ProjectID)
		require.NoError(t, err)
		assert.Equal(t, int64(1), one.RunsInPeriod)
		assert.Equal(t, int64(1), one.TotalJobs)
		_, err = store.GlobalStatsOf("7d", "no-such-project")
		var ve *models.ValidationError
		require.ErrorAs(t, err, &ve)
		assert.Equal(t, "projectId", ve.Field)
		_, err = store.JobStatsOf(a.ID, "1y", "")
		require.ErrorAs(t, err, &ve)
		assert.Equal(t, "period", ve.Field)

		require.NoError(t, store.DeleteJob(a.ID))
		var left int64
		require.NoError(t, store.DB().Raw("SELECT count(*) FROM stats_hourly WHERE job_id = ?", a.ID).Scan(&left).Error)
		assert.Zero(t, left, "a deleted job's stats go with it")
	})
}

// TestPercentileFromHistogram reads quantiles off the histogram, within
// the bucket they fall in and never past the longest duration.
func TestPercentileFromHistogram(t *testing.T) {
	cases := []struct {
		name     string
		durs     []int64
		q        float64
		min, max int64
	}{
		{"one run", []int64{420}, 0.95, 420, 420},
		{"all in one bucket", []int64{120, 130, 140, 150}, 0.5, 100, 150},
		{"tail", []int64{10, 10, 10, 10, 10, 10, 10, 10, 10, 9000}, 0.95, 5000, 9000},
		{"median of spread", []int64{5, 60, 400, 2000, 40_000}, 0.5, 250, 500},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var r models.Rollups
			for _, d := range c.durs {
				r.Add("j", "p", time.Unix(0, 0), models.RunSuccess, &d)
			}
			got := models.RollupCounters(&r, "j")
			p := got.Percentile(c.q)
			require.NotNil(t, p)
			assert.GreaterOrEqual(t, *p, c.min)
			assert.LessOrEqual(t, *p, c.max)
		})
	}
	var empty models.Counters
	assert.Nil(t, empty.Percentile(0.5), "no durations, no percentile")
}

// TestStatsEdges: a pause over before the window still ended the downtime
// before it; "" and "UTC" are one zone for compaction; a 7-day period read
// at midnight still has seven days.
func TestStatsEdges(t *testing.T) {
	var now time.Time
	clock := func() time.Time { return now }
	modelstest.Run(t, func(t *testing.T, db modelstest.Database) {
		now = time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
		store := modelstest.Open(t, db.URL, clock)
		h := modelstest.NewHeartbeat(t, store, "@daily", "", 60, now)
		h.Ping(models.PingSuccess, now.Add(time.Hour), "")
		h.Ping(models.PingFail, now.Add(24*time.Hour), "") // down on 2 June
		now = now.Add(48 * time.Hour)
		yes, no := true, false
		_, err := store.UpdateJob(h.Job.ID, &models.JobRequest{Paused: &yes}) // paused on 3 June
		require.NoError(t, err)
		now = now.Add(24 * time.Hour)
		_, err = store.UpdateJob(h.Job.ID, &models.JobRequest{Paused: &no}) // resumed on 4 June: new, not down
		require.NoError(t, err)

		now = time.Date(2024, 6, 20, 0, 0, 0, 0, time.UTC) // exactly midnight
		st, err := store.JobStatsOf(h.Job.ID, "7d", "")
		require.NoError(t, err)
		require.Len(t, st.DailyRuns, 7, "seven days, the last one just begun")
		assert.Equal(t, "2024-06-20", st.DailyRuns[6].Date)
		require.NotNil(t, st.UptimePercent)
		assert.Equal(t, 100.0, *st.UptimePercent, "the pause ended the downtime before the window")
		assert.Zero(t, st.DowntimeSeconds)

		// A second job names UTC as "UTC": one zone, one watermark, both compacted.
		other := modelstest.NewHeartbeat(t, store, "@daily", "UTC", 60, time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC))
		other.Ping(models.PingSuccess, time.Date(2024, 6, 2, 12, 0, 0, 0, time.UTC), "")
		_, err = store.CompactStats(now)
		require.NoError(t, err)
		var jobs []string
		require.NoError(t, store.DB().Raw("SELECT DISTINCT job_id FROM stats_daily ORDER BY job_id").Scan(&jobs).Error)
		assert.ElementsMatch(t, []string{h.Job.ID, other.Job.ID}, jobs, "both spellings of UTC compacted")
		st, err = store.JobStatsOf(other.Job.ID, "30d", "")
		require.NoError(t, err)
		assert.Equal(t, int64(1), st.TotalRuns)

		// A job that went down before the window and stayed down is down
		// all through it: the flip before the window sets its state.
		gone := modelstest.NewHeartbeat(t, store, "@daily", "UTC", 60, time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC))
		gone.Ping(models.PingFail, time.Date(2024, 6, 2, 12, 0, 0, 0, time.UTC), "")
		st, err = store.JobStatsOf(gone.Job.ID, "7d", "")
		require.NoError(t, err)
		require.NotNil(t, st.UptimePercent)
		assert.Equal(t, 0.0, *st.UptimePercent)
		assert.Equal(t, int64(6*86400), st.DowntimeSeconds, "six whole days and the first instant of the seventh")
		assert.Zero(t, st.Flips, "no flip inside the window")
	})
}
