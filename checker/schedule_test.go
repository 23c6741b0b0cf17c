package checker

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// t0 is a Saturday, 09:00 in New York (EST); clocks there spring forward
// the next night.
var t0 = time.Date(2026, 3, 7, 14, 0, 0, 0, time.UTC)

// fakeEnv is an engine and a store on one database, both on a fake clock.
type fakeEnv struct {
	t       *testing.T
	db      modelstest.Database
	clock   *clockwork.FakeClock
	store   *models.Store
	engine  *Engine
	project string
	url     string
}

// eachFake runs fn on every database with a started engine on a fake clock
// at t0 and a target that answers 200.
func eachFake(t *testing.T, fn func(t *testing.T, f *fakeEnv)) {
	for _, db := range modelstest.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			db.SkipIfMissing(t)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
			t.Cleanup(srv.Close)
			f := &fakeEnv{t: t, db: db, clock: clockwork.NewFakeClockAt(t0), url: srv.URL}
			f.store = modelstest.Open(t, db.URL, f.clock.Now)
			f.project = newProject(t, f.store).ID
			f.engine = newEngine(t, f.store, f.clock, nil)
			startEngine(t, f.engine)
			fn(t, f)
		})
	}
}

// step moves the fake clock on by d, dispatches what is due at the new time
// and waits until the runs it started are stored. (gocron fires the
// dispatcher on the same fake clock too; dispatching here as well makes the
// step deterministic, and a tick is claimed once whoever dispatches it.)
func (f *fakeEnv) step(d time.Duration) {
	f.t.Helper()
	f.clock.Advance(d)
	f.engine.dispatch()
	f.waitStored()
}

// until steps in increments of d until the clock reaches end.
func (f *fakeEnv) until(end time.Time, d time.Duration) {
	f.t.Helper()
	for f.clock.Now().Before(end) {
		f.step(min(d, end.Sub(f.clock.Now())))
	}
}

func (f *fakeEnv) waitStored() {
	f.t.Helper()
	require.Eventually(f.t, func() bool { return f.engine.check.unstored.Load() == 0 }, 10*time.Second, time.Millisecond)
}

func (f *fakeEnv) newCheck(tune func(r *models.JobRequest)) *models.Job {
	f.t.Helper()
	j := newCheck(f.t, f.store, f.project, f.url, tune)
	f.engine.JobChanged(j)
	return j
}

func (f *fakeEnv) update(id string, r *models.JobRequest) *models.Job {
	f.t.Helper()
	j, err := f.store.UpdateJob(id, r)
	require.NoError(f.t, err)
	f.engine.JobChanged(j)
	return j
}

func at(d time.Duration) time.Time { return t0.Add(d) }

func TestScheduleEvery(t *testing.T) {
	eachFake(t, func(t *testing.T, f *fakeEnv) {
		j := f.newCheck(nil)
		assert.Equal(t, at(10*time.Second), j.NextRunAt.UTC())
		f.step(9 * time.Second)
		assert.Empty(t, scheduledTicks(t, f.store, j.ID), "nothing runs before the first tick")
		f.until(at(35*time.Second), time.Second)
		assert.Equal(t, []time.Time{at(10 * time.Second), at(20 * time.Second), at(30 * time.Second)},
			scheduledTicks(t, f.store, j.ID))
		after := job(t, f.store, j.ID)
		assert.Equal(t, at(40*time.Second), after.NextRunAt.UTC(), "nextRunAt follows")
		assert.Equal(t, models.LastSuccess, after.LastStatus)
		assert.Equal(t, models.StatusUp, after.Status)
		runs := checkRuns(t, f.store, j.ID)
		assert.Equal(t, at(30*time.Second), runs[2].CreatedAt.UTC(), "a run starts at its tick on the engine's clock")
	})
}

func TestScheduleCronInTimeZone(t *testing.T) {
	eachFake(t, func(t *testing.T, f *fakeEnv) {
		j := f.newCheck(func(r *models.JobRequest) {
			r.Schedule = ptr("30 9 * * *")
			r.Timezone = ptr("America/New_York")
		})
		// 09:30 EST on Saturday is 14:30 UTC; on Sunday clocks have sprung
		// forward and 09:30 EDT is 13:30 UTC.
		sat := time.Date(2026, 3, 7, 14, 30, 0, 0, time.UTC)
		sun := time.Date(2026, 3, 8, 13, 30, 0, 0, time.UTC)
		assert.Equal(t, sat, j.NextRunAt.UTC())
		f.until(sat.Add(-time.Second), 10*time.Minute)
		assert.Empty(t, scheduledTicks(t, f.store, j.ID))
		f.until(sun.Add(time.Minute), 10*time.Minute)
		assert.Equal(t, []time.Time{sat, sun}, scheduledTicks(t, f.store, j.ID))
		assert.Equal(t, time.Date(2026, 3, 9, 13, 30, 0, 0, time.UTC), job(t, f.store, j.ID).NextRunAt.UTC())
	})
}

func TestScheduleUpdatePauseResume(t *testing.T) {
	eachFake(t, func(t *testing.T, f *fakeEnv) {
		j := f.newCheck(nil)
		f.until(at(15*time.Second), time.Second)
		require.Equal(t, []time.Time{at(10 * time.Second)}, scheduledTicks(t, f.store, j.ID))

		// Rescheduled on update: from now on every minute.
		j = f.update(j.ID, &models.JobRequest{Schedule: ptr("@every 1m")})
		assert.Equal(t, at(75*time.Second), j.NextRunAt.UTC())
		f.until(at(74*time.Second), time.Second)
		assert.Len(t, scheduledTicks(t, f.store, j.ID), 1, "the old 10s ticks no longer run")
		f.until(at(76*time.Second), time.Second)
		assert.Equal(t, []time.Time{at(10 * time.Second), at(75 * time.Second)}, scheduledTicks(t, f.store, j.ID))

		// Paused: no runs, however long.
		f.update(j.ID, &models.JobRequest{Paused: ptr(true)})
		f.until(at(10*time.Minute), 5*time.Second)
		assert.Len(t, scheduledTicks(t, f.store, j.ID), 2, "a paused job does not run")
		assert.Equal(t, models.StatusPaused, job(t, f.store, j.ID).Status)

		// Resumed: runs again, one interval after resuming.
		j = f.update(j.ID, &models.JobRequest{Paused: ptr(false)})
		assert.Equal(t, at(11*time.Minute), j.NextRunAt.UTC())
		f.until(at(11*time.Minute+time.Second), 5*time.Second)
		assert.Equal(t, []time.Time{at(10 * time.Second), at(75 * time.Second), at(11 * time.Minute)},
			scheduledTicks(t, f.store, j.ID))
		assert.Equal(t, models.StatusUp, job(t, f.store, j.ID).Status)

		// Deleted: its row, and with it its schedule, is gone.
		require.NoError(t, f.store.DeleteJob(j.ID))
		f.engine.JobDeleted(j.ID)
		f.until(at(15*time.Minute), 10*time.Second)
		var n int64
		require.NoError(t, f.store.DB().Table("check_runs").Where("job_id = ?", j.ID).Count(&n).Error)
		assert.Zero(t, n)
	})
}

// gocron alone drives the checks: no dispatch by hand, only the fake clock.
func TestGocronDrivesChecks(t *testing.T) {
	eachFake(t, func(t *testing.T, f *fakeEnv) {
		j := f.newCheck(nil)
		for _, tick := range []time.Time{at(10 * time.Second), at(20 * time.Second)} {
			f.gocronTo(tick)
			f.waitStored()
			assert.Contains(t, scheduledTicks(t, f.store, j.ID), tick, "gocron ran the tick at %s", tick)
		}
		assert.Equal(t, []time.Time{at(10 * time.Second), at(20 * time.Second)}, scheduledTicks(t, f.store, j.ID))
	})
}

// gocronJobs is how many jobs the engine registers with gocron (the
// watchdog, the check dispatcher, check retention): with all of them
// waiting for their next run, the fake clock has this many waiters.
const gocronJobs = 3

// gocronTo moves the fake clock to end in one step once every gocron job
// waits on it, and waits until the dispatch gocron fires there has
// finished: the checks due at end are launched (and counted in unstored).
func (f *fakeEnv) gocronTo(end time.Time) {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(f.t.Context(), 10*time.Second)
	defer cancel()
	require.NoError(f.t, f.clock.BlockUntilContext(ctx, gocronJobs), "gocron's jobs never all waited on the clock")
	before := f.engine.check.dispatches.Load()
	f.clock.Advance(end.Sub(f.clock.Now()))
	require.Eventually(f.t, func() bool { return f.engine.check.dispatches.Load() > before }, 10*time.Second, time.Millisecond,
		"gocron did not dispatch at %s", end)
}

// Two engines on one database, and an engine restarted, never run a tick
// twice.
func TestNoTickRunsTwice(t *testing.T) {
	eachFake(t, func(t *testing.T, f *fakeEnv) {
		jobs := make([]*models.Job, 20)
		for i := range jobs {
			jobs[i] = f.newCheck(nil)
		}
		other := newEngine(t, f.store, f.clock, nil)
		startEngine(t, other)
		for i := 0; i < 5; i++ {
			f.clock.Advance(10 * time.Second)
			done := make(chan struct{})
			go func() { other.dispatch(); close(done) }()
			f.engine.dispatch()
			<-done
			f.waitStored()
			require.Eventually(t, func() bool { return other.check.unstored.Load() == 0 }, 10*time.Second, time.Millisecond)
		}
		// A restart: a new engine on the same database.
		require.NoError(t, other.Stop())
		again := newEngine(t, f.store, f.clock, nil)
		startEngine(t, again)
		again.dispatch()
		f.step(0)
		for _, j := range jobs {
			ticks := scheduledTicks(t, f.store, j.ID)
			assert.Equal(t, []time.Time{at(10 * time.Second), at(20 * time.Second), at(30 * time.Second),
				at(40 * time.Second), at(50 * time.Second)}, ticks, "every tick exactly once")
		}
	})
}

// Checks whose nextRunAt passed while the server was down are spread over
// their first interval, not all fired at start.
func TestFirstTicksAreSpread(t *testing.T) {
	for _, db := range modelstest.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			db.SkipIfMissing(t)
			clock := clockwork.NewFakeClockAt(t0)
			store := modelstest.Open(t, db.URL, clock.Now)
			p := newProject(t, store)
			var ids []string
			for i := 0; i < 200; i++ {
				ids = append(ids, newCheck(t, store, p.ID, "http://127.0.0.1:9/", nil).ID)
			}
			cron := newCheck(t, store, p.ID, "http://127.0.0.1:9/", func(r *models.JobRequest) { r.Schedule = ptr("0 * * * *") })
			clock.Advance(time.Hour + 30*time.Minute) // down for a while: every tick above is past
			start := clock.Now()
			e := newEngine(t, store, clock, nil)
			require.NoError(t, e.scheduleFirstTicks())

			buckets := make([]int, 10)
			for _, id := range ids {
				next := job(t, store, id).NextRunAt.UTC()
				require.False(t, next.Before(start), "no tick in the past")
				require.True(t, next.Before(start.Add(10*time.Second)), "within the first interval")
				buckets[next.Sub(start)/time.Second]++
			}
			for i, n := range buckets {
				assert.Greater(t, n, 5, "second %d of the interval has its share of the 200 jobs: %v", i, buckets)
			}
			next := job(t, store, cron.ID).NextRunAt.UTC()
			assert.True(t, !next.Before(start) && next.Before(start.Add(missedSpread)),
				"a missed cron tick runs soon after start, not an hour later: %s", next)
		})
	}
}
