package checker_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/cronpulse/cronpulse/checker"
	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/cronpulse/cronpulse/models/pingwriter"
	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// wdEnv is a store, a ping writer and heartbeat jobs on one database, with
// a fake clock shared by the store and the engines.
type wdEnv struct {
	t       *testing.T
	store   *models.Store
	clock   *clockwork.FakeClock
	writer  *pingwriter.Writer
	project string
}

func newWDEnv(t *testing.T, db modelstest.Database, start time.Time) *wdEnv {
	t.Helper()
	clock := clockwork.NewFakeClockAt(start)
	store := modelstest.Open(t, db.URL, clock.Now)
	w := pingwriter.New(store, pingwriter.Options{Log: discard()})
	t.Cleanup(w.Close)
	name := "wd"
	p, err := store.NewProject(&models.ProjectRequest{Name: &name})
	require.NoError(t, err)
	require.NoError(t, store.CreateProject(p))
	return &wdEnv{t: t, store: store, clock: clock, writer: w, project: p.ID}
}

// job stores an hourly heartbeat job with a 5-minute tolerance.
func (e *wdEnv) job(name string) *models.Job {
	e.t.Helper()
	sched, tol, yes := "0 * * * *", 5, true
	j, err := e.store.NewJob(&models.JobRequest{Name: &name, ProjectID: &e.project, Schedule: &sched, Heartbeat: &yes, HeartbeatTolerance: &tol})
	require.NoError(e.t, err)
	require.NoError(e.t, e.store.CreateJob(j))
	return j
}

// ping records a success ping for j at the fake clock's time.
func (e *wdEnv) ping(j *models.Job) {
	e.t.Helper()
	_, err := e.writer.Write(context.Background(), j.PingToken, models.Ping{Kind: models.PingSuccess, CreatedAt: e.clock.Now().UTC()})
	require.NoError(e.t, err)
}

func (e *wdEnv) engine() *checker.Engine {
	e.t.Helper()
	eng, err := checker.New(checker.Options{Store: e.store, Log: discard(), Clock: e.clock, Concurrency: 4, PerHost: 4, PingHistory: 1000})
	require.NoError(e.t, err)
	return eng
}

func (e *wdEnv) flips(jobID string) []models.Flip {
	e.t.Helper()
	f, err := e.store.Flips(jobID, 0, 100)
	require.NoError(e.t, err)
	return f
}

// TestWatchdogOnGocron runs the real engine on a fake clock: deadlines that
// passed while it was stopped flip on the first tick after Start, and a
// deadline passing while it runs flips within a tick.
func TestWatchdogOnGocron(t *testing.T) {
	for _, db := range modelstest.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			db.SkipIfMissing(t)
			e := newWDEnv(t, db, time.Date(2024, 5, 1, 10, 30, 0, 0, time.UTC))
			missed, fine := e.job("missed"), e.job("fine")
			e.ping(missed)
			e.ping(fine)
			// The server is "off" for three hours; fine keeps pinging.
			for i := 0; i < 3; i++ {
				e.clock.Advance(time.Hour)
				e.ping(fine)
			}
			eng := e.engine()
			require.NoError(t, eng.Start(context.Background()))
			t.Cleanup(func() { _ = eng.Stop() })
			require.EventuallyWithT(t, func(c *assert.CollectT) {
				f, err := e.store.Flips(missed.ID, 0, 100)
				assert.NoError(c, err)
				assert.Len(c, f, 1)
			}, 10*time.Second, 10*time.Millisecond, "the first tick after start flips the job whose deadline passed")
			j, err := e.store.Job(missed.ID)
			require.NoError(t, err)
			assert.Equal(t, models.StatusDown, j.Status)
			assert.Equal(t, models.LastMissed, j.LastStatus)
			assert.Empty(t, e.flips(fine.ID))

			// fine's next tick is 14:00; its deadline 14:05. Advance a second
			// at a time past it: the flip comes within a tick or two.
			e.clock.Advance(time.Date(2024, 5, 1, 14, 5, 0, 0, time.UTC).Sub(e.clock.Now()) - time.Second)
			deadline := time.Date(2024, 5, 1, 14, 5, 0, 0, time.UTC)
			require.EventuallyWithT(t, func(c *assert.CollectT) {
				e.clock.Advance(time.Second)
				f, err := e.store.Flips(fine.ID, 0, 100)
				assert.NoError(c, err)
				assert.Len(c, f, 1)
			}, 10*time.Second, 20*time.Millisecond)
			f := e.flips(fine.ID)[0]
			assert.False(t, f.CreatedAt.Before(deadline))
			assert.Len(t, e.flips(missed.ID), 1, "still one flip for the first job")
		})
	}
}

// TestWatchdogRacingEngines runs two engines' ticks at the same time over
// the same due jobs (two instances sharing a database): every job flips
// exactly once.
func TestWatchdogRacingEngines(t *testing.T) {
	for _, db := range modelstest.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			db.SkipIfMissing(t)
			e := newWDEnv(t, db, time.Date(2024, 5, 1, 10, 30, 0, 0, time.UTC))
			const n = 120
			jobs := make([]*models.Job, n)
			var wg sync.WaitGroup
			for i := range jobs {
				jobs[i] = e.job(fmt.Sprintf("job %d", i))
			}
			for _, j := range jobs {
				wg.Add(1)
				go func() { defer wg.Done(); e.ping(j) }()
			}
			wg.Wait()
			e.clock.Advance(2 * time.Hour)
			a, b := e.engine(), e.engine()
			var flips [2]int
			for i, eng := range []*checker.Engine{a, b} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					res, err := eng.CheckHeartbeats(context.Background())
					assert.NoError(t, err)
					flips[i] = res.Flips
				}()
			}
			wg.Wait()
			assert.Equal(t, n, flips[0]+flips[1], "one flip per job across both engines")
			for _, j := range jobs {
				assert.Len(t, e.flips(j.ID), 1, j.Name)
			}
			// A further tick finds nothing due.
			res, err := a.CheckHeartbeats(context.Background())
			require.NoError(t, err)
			assert.Equal(t, 0, res.Updated+res.Flips)
			due, err := e.store.DueHeartbeats(e.clock.Now(), 10)
			require.NoError(t, err)
			assert.Empty(t, due)
		})
	}
}
