package models_test

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// timedRun is a run as the chart tests know it.
type timedRun struct {
	job    string
	at     time.Time
	failed bool
	durMs  int64
}

// roll stores runs through the rollups, as the writers do.
func roll(t *testing.T, store *models.Store, project string, runs []timedRun) {
	t.Helper()
	var r models.Rollups
	for _, run := range runs {
		outcome := models.RunSuccess
		if run.failed {
			outcome = models.RunFailure
		}
		d := run.durMs
		r.Add(run.job, project, run.at, outcome, &d)
	}
	require.NoError(t, store.AddRollups(store.DB(), &r))
}

func setPaused(t *testing.T, store *models.Store, id string, paused bool) {
	t.Helper()
	_, err := store.UpdateJob(id, &models.JobRequest{Paused: &paused})
	require.NoError(t, err)
}

func TestHourlyStrips(t *testing.T) {
	now := time.Date(2024, 6, 10, 12, 34, 0, 0, time.UTC)
	clock := now
	from := time.Date(2024, 6, 9, 13, 0, 0, 0, time.UTC) // 23 hours before the current one
	hour := func(i int) time.Time { return from.Add(time.Duration(i) * time.Hour) }
	modelstest.Run(t, func(t *testing.T, db modelstest.Database) {
		store := modelstest.Open(t, db.URL, func() time.Time { return clock })
		clock = now.Add(-72 * time.Hour)
		a := newCheck(t, store, "p")
		c := addCheck(t, store, a.ProjectID, "paused one")
		clock = hour(10).Add(30 * time.Minute)
		b := addCheck(t, store, a.ProjectID, "new one")
		clock = hour(3).Add(20 * time.Minute)
		setPaused(t, store, c.ID, true)
		clock = hour(6)
		setPaused(t, store, c.ID, false)
		clock = hour(20).Add(59 * time.Minute)
		setPaused(t, store, c.ID, true) // still paused at now

		var runs []timedRun
		runs = append(runs, timedRun{job: a.ID, at: from.Add(-time.Minute)}) // before the strip
		for i := 0; i < 24; i++ {
			for k := 0; k < i%3+1; k++ {
				runs = append(runs, timedRun{job: a.ID, at: hour(i).Add(time.Duration(10+k) * time.Minute), failed: i == 5 && k == 0})
			}
		}
		runs = append(runs, timedRun{job: b.ID, at: hour(12).Add(time.Minute)}, timedRun{job: b.ID, at: hour(23), failed: true})
		roll(t, store, a.ProjectID, runs)

		got, err := store.HourlyStrips([]string{a.ID, b.ID, c.ID, "no-such-job"}, now)
		require.NoError(t, err)
		require.Len(t, got, 3, "only the jobs that exist")
		for _, id := range []string{a.ID, b.ID, c.ID} {
			require.Len(t, got[id], models.StripHours)
			for i, cell := range got[id] {
				assert.True(t, hour(i).Equal(cell.Hour), "cell %d of %s starts at %s", i, id, cell.Hour)
			}
		}
		// The test's own count of each cell's runs.
		counted := func(id string, i int) (n, failed int64) {
			for _, r := range runs {
				if r.job == id && !r.at.Before(hour(i)) && r.at.Before(hour(i+1)) {
					n++
					if r.failed {
						failed++
					}
				}
			}
			return n, failed
		}
		for _, id := range []string{a.ID, b.ID, c.ID} {
			for i, cell := range got[id] {
				n, failed := counted(id, i)
				assert.Equal(t, n, cell.Runs, "runs of %s at %d", id, i)
				assert.Equal(t, failed, cell.Failed, "failed runs of %s at %d", id, i)
			}
		}
		states := func(id string) []string {
			var out []string
			for _, cell := range got[id] {
				out = append(out, cell.State)
			}
			return out
		}
		want := make([]string, 24)
		for i := range want {
			want[i] = models.HourSuccess
		}
		want[5] = models.HourFailure
		assert.Equal(t, want, states(a.ID))

		for i := range want {
			switch {
			case i < 10:
				want[i] = models.HourBefore
			case i == 12:
				want[i] = models.HourSuccess
			case i == 23:
				want[i] = models.HourFailure
			default:
				want[i] = models.HourNoRuns // hour 10 is the one it was created in
			}
		}
		assert.Equal(t, want, states(b.ID))

		for i := range want {
			switch {
			case i >= 3 && i < 6, i >= 20:
				want[i] = models.HourPaused
			default:
				want[i] = models.HourNoRuns
			}
		}
		assert.Equal(t, want, states(c.ID))

		none, err := store.HourlyStrips(nil, now)
		require.NoError(t, err)
		assert.Empty(t, none)
	})
}

// exactP95 is the nearest-rank 95th percentile of durations.
func exactP95(d []int64) int64 {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[int(math.Ceil(0.95*float64(len(s))))-1]
}

// histBucket is the index of the histogram bucket holding d.
func histBucket(d int64) int {
	i := 0
	for i < len(models.DurationBuckets) && d > models.DurationBuckets[i] {
		i++
	}
	return i
}

func TestResponseSeries(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	now := time.Date(2024, 6, 20, 10, 15, 0, 0, time.UTC)
	clock := now.Add(-40 * 24 * time.Hour)
	modelstest.Run(t, func(t *testing.T, db modelstest.Database) {
		store := modelstest.Open(t, db.URL, func() time.Time { return clock })
		j := newCheck(t, store, "p")
		tz := "Europe/Berlin"
		_, err := store.UpdateJob(j.ID, &models.JobRequest{Timezone: &tz})
		require.NoError(t, err)

		// 35 days of runs every 50 minutes, durations spread over several
		// histogram buckets, but none from 20 to 10 hours ago (a gap).
		var runs []timedRun
		for at, k := now.Add(-35*24*time.Hour), int64(0); at.Before(now); at, k = at.Add(50*time.Minute), k+1 {
			if at.After(now.Add(-20*time.Hour)) && at.Before(now.Add(-10*time.Hour)) {
				continue
			}
			runs = append(runs, timedRun{job: j.ID, at: at, durMs: 40 + (k*37)%900, failed: k%11 == 0})
		}
		roll(t, store, j.ProjectID, runs)
		clock = now
		_, err = store.CompactStats(now)
		require.NoError(t, err)
		require.NoError(t, store.PruneStats(now, 90*24*time.Hour)) // hourly buckets older than 8 days go

		// check compares points with the runs in each point's range.
		check := func(t *testing.T, points []models.SeriesPoint, n int, step time.Duration) {
			t.Helper()
			require.Len(t, points, n)
			last := points[n-1]
			assert.False(t, now.Before(last.From), "the last point holds now")
			assert.True(t, now.Before(last.To) || now.Equal(last.To))
			for i, p := range points {
				if i > 0 {
					assert.True(t, points[i-1].To.Equal(p.From), "point %d follows on", i)
				}
				if step > 0 {
					assert.Equal(t, step, p.To.Sub(p.From), "point %d", i)
				}
				var durs []int64
				var sum int64
				for _, r := range runs {
					if !r.at.Before(p.From) && r.at.Before(p.To) {
						durs = append(durs, r.durMs)
						sum += r.durMs
					}
				}
				assert.Equal(t, int64(len(durs)), p.Runs, "runs of point %d (%s)", i, p.From)
				if len(durs) == 0 {
					assert.Nil(t, p.AvgMs, "point %d is a gap", i)
					assert.Nil(t, p.P95Ms, "point %d is a gap", i)
					continue
				}
				require.NotNil(t, p.AvgMs, "point %d", i)
				require.NotNil(t, p.P95Ms, "point %d", i)
				assert.Equal(t, int64(math.Round(float64(sum)/float64(len(durs)))), *p.AvgMs, "mean of point %d", i)
				// The histogram places the 95th percentile in the bucket of the exact one.
				assert.Equal(t, histBucket(exactP95(durs)), histBucket(*p.P95Ms), "p95 of point %d: %d, exact %d", i, *p.P95Ms, exactP95(durs))
				assert.LessOrEqual(t, *p.P95Ms, slices.Max(durs))
			}
		}
		t.Run("24h", func(t *testing.T) {
			points, err := store.ResponseSeries(j.ID, "24h", now)
			require.NoError(t, err)
			check(t, points, 24, time.Hour)
			assert.Equal(t, now.Truncate(time.Hour), points[23].From)
			for i := 4; i < 13; i++ { // 15:00 to 24:00 on the 19th, inside the gap
				assert.Equal(t, 15+i-4, points[i].From.Hour())
				assert.Nil(t, points[i].AvgMs, "point %d is a gap", i)
			}
		})
		t.Run("7d", func(t *testing.T) {
			points, err := store.ResponseSeries(j.ID, "7d", now)
			require.NoError(t, err)
			check(t, points, 28, 6*time.Hour)
			assert.Equal(t, time.Date(2024, 6, 20, 6, 0, 0, 0, time.UTC), points[27].From)
		})
		t.Run("30d", func(t *testing.T) {
			points, err := store.ResponseSeries(j.ID, "30d", now)
			require.NoError(t, err)
			check(t, points, 30, 0)
			for i, p := range points {
				local := p.From.In(berlin)
				assert.Zero(t, local.Hour()+local.Minute(), "point %d starts at midnight in Berlin", i)
			}
			// The job's stats read the same days alike.
			st, err := store.JobStatsOf(j.ID, "30d", "")
			require.NoError(t, err)
			require.Len(t, st.DailyRuns, 30)
			for i, d := range st.DailyRuns {
				assert.Equal(t, d.Total, points[i].Runs)
				assert.Equal(t, d.AvgDurationMs, points[i].AvgMs)
			}
		})
		_, err = store.ResponseSeries(j.ID, "90d", now)
		var ve *models.ValidationError
		require.ErrorAs(t, err, &ve)
		assert.Equal(t, "period", ve.Field)
		_, err = store.ResponseSeries("no-such-job", "24h", now)
		assert.True(t, models.IsNotFound(err), "%v", err)
	})
}
