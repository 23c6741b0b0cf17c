package checker

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// switchable answers with whatever status it is set to.
func switchable(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var code atomic.Int32
	code.Store(http.StatusOK)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(int(code.Load()))
	}))
	t.Cleanup(srv.Close)
	return srv, &code
}

func TestFailureThresholdAndFlips(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, store *models.Store) {
		srv, code := switchable(t)
		e := newEngine(t, store, nil, nil)
		p := newProject(t, store)
		j := newCheck(t, store, p.ID, srv.URL, func(r *models.JobRequest) { r.FailureThreshold = ptr(3) })

		trigger := func() {
			t.Helper()
			_, err := e.Trigger(t.Context(), j)
			require.NoError(t, err)
		}
		trigger()
		assert.Equal(t, models.StatusUp, job(t, store, j.ID).Status, "new → up on the first success")
		assert.Empty(t, flips(t, store, j.ID), "new → up is not an alerting change")

		code.Store(http.StatusServiceUnavailable)
		trigger()
		trigger()
		after := job(t, store, j.ID)
		assert.Equal(t, models.StatusUp, after.Status, "two failures stay below a threshold of 3")
		assert.Equal(t, 2, after.ConsecutiveFailures)
		assert.Equal(t, models.LastFailure, after.LastStatus)
		assert.Empty(t, flips(t, store, j.ID))

		trigger()
		assert.Equal(t, models.StatusDown, job(t, store, j.ID).Status, "the third failure takes it down")
		fs := flips(t, store, j.ID)
		require.Len(t, fs, 1)
		assert.Equal(t, models.StatusUp, fs[0].FromStatus)
		assert.Equal(t, models.StatusDown, fs[0].ToStatus)
		assert.Equal(t, "3 consecutive checks failed: expected 200, got 503", fs[0].Reason)

		trigger()
		trigger()
		assert.Len(t, flips(t, store, j.ID), 1, "staying down writes no more flips")
		assert.Equal(t, 5, job(t, store, j.ID).ConsecutiveFailures)

		code.Store(http.StatusOK)
		trigger()
		after = job(t, store, j.ID)
		assert.Equal(t, models.StatusUp, after.Status, "the next success brings it up")
		assert.Equal(t, 0, after.ConsecutiveFailures)
		fs = flips(t, store, j.ID)
		require.Len(t, fs, 2)
		assert.Equal(t, models.StatusDown, fs[1].FromStatus)
		assert.Equal(t, models.StatusUp, fs[1].ToStatus)
		assert.Contains(t, fs[1].Reason, "check succeeded: HTTP 200")

		trigger()
		assert.Len(t, flips(t, store, j.ID), 2, "staying up writes no more flips")
		assert.Len(t, checkRuns(t, store, j.ID), 8, "every run is stored")
	})
}

func TestDefaultThresholdGoesDownAtOnce(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, store *models.Store) {
		e := newEngine(t, store, nil, nil)
		p := newProject(t, store)
		j := newCheck(t, store, p.ID, refusedURL(t), nil)
		_, err := e.Trigger(t.Context(), j)
		require.NoError(t, err)
		assert.Equal(t, models.StatusDown, job(t, store, j.ID).Status)
		fs := flips(t, store, j.ID)
		require.Len(t, fs, 1)
		assert.Equal(t, models.StatusNew, fs[0].FromStatus)
		assert.Equal(t, "check failed: connection refused", fs[0].Reason)
	})
}

// Runs stored in one batch (the scheduled path) follow the same machine as
// single ones, one flip per change however the runs are grouped.
func TestRecordRunsBatch(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, store *models.Store) {
		p := newProject(t, store)
		a := newCheck(t, store, p.ID, "http://a.example/", func(r *models.JobRequest) { r.FailureThreshold = ptr(2) })
		b := newCheck(t, store, p.ID, "http://b.example/", nil)
		gone := newCheck(t, store, p.ID, "http://gone.example/", nil)
		require.NoError(t, store.DeleteJob(gone.ID))

		t0 := store.Now()
		run := func(jobID, result string, i int) *models.CheckRun {
			at := t0.Add(time.Duration(i) * time.Second)
			code := 500
			return &models.CheckRun{JobID: jobID, Result: result, HTTPStatus: &code, Error: "expected 200, got 500",
				Trigger: models.TriggerSchedule, ScheduledAt: &at, CreatedAt: at}
		}
		n, err := store.RecordRuns([]*models.CheckRun{
			run(a.ID, models.RunFailure, 0), run(b.ID, models.RunFailure, 0), run(gone.ID, models.RunFailure, 0),
			run(a.ID, models.RunFailure, 1), run(a.ID, models.RunFailure, 2),
		})
		require.NoError(t, err)
		assert.Equal(t, 4, n, "the deleted job's run is dropped, the others stored")
		assert.Equal(t, models.StatusDown, job(t, store, a.ID).Status)
		assert.Len(t, flips(t, store, a.ID), 1)
		assert.Equal(t, models.StatusDown, job(t, store, b.ID).Status)
		assert.Len(t, flips(t, store, b.ID), 1)
		runs := checkRuns(t, store, a.ID)
		require.Len(t, runs, 3)
		assert.Equal(t, 500, *runs[0].HTTPStatus)
		assert.Equal(t, t0, runs[0].ScheduledAt.UTC())
		assert.Equal(t, models.TriggerSchedule, runs[0].Trigger)
	})
}

// Many runs of one job recorded at once from several goroutines: every
// change is written exactly once.
func TestConcurrentRunsFlipOnce(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, store *models.Store) {
		p := newProject(t, store)
		j := newCheck(t, store, p.ID, "http://a.example/", nil)
		var wg sync.WaitGroup
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				assert.NoError(t, store.RecordRun(&models.CheckRun{JobID: j.ID, Result: models.RunError,
					Error: "connection refused", Trigger: models.TriggerManual, CreatedAt: store.Now()}))
			}()
		}
		wg.Wait()
		assert.Equal(t, models.StatusDown, job(t, store, j.ID).Status)
		assert.Len(t, flips(t, store, j.ID), 1)
		assert.Equal(t, 8, job(t, store, j.ID).ConsecutiveFailures)
	})
}

func TestCheckStatusAfter(t *testing.T) {
	cases := []struct {
		name             string
		from             string
		heartbeat, ok    bool
		failures, thresh int
		want             string
	}{
		{"new success", models.StatusNew, false, true, 0, 1, models.StatusUp},
		{"down success", models.StatusDown, false, true, 0, 1, models.StatusUp},
		{"up failure below threshold", models.StatusUp, false, false, 1, 2, models.StatusUp},
		{"up failure at threshold", models.StatusUp, false, false, 2, 2, models.StatusDown},
		{"zero threshold means one", models.StatusUp, false, false, 1, 0, models.StatusDown},
		{"paused never changes", models.StatusPaused, false, false, 9, 1, models.StatusPaused},
		{"heartbeat job: success leaves it to the pings", models.StatusDown, true, true, 0, 1, models.StatusDown},
		{"heartbeat job: failures still take it down", models.StatusLate, true, false, 1, 1, models.StatusDown},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, models.CheckStatusAfter(tc.from, tc.heartbeat, tc.ok, tc.failures, tc.thresh))
		})
	}
}

// TestStoreRunsInDoubt loses the result writer's PostgreSQL connection at
// the COMMIT of a batch of runs, through a proxy on loopback: before the
// server saw it (the writer stores the batch again, also when the database
// cannot be reached for a moment after), with the COMMIT sent, and after
// the server committed it (the writer must find it stored and not store it
// again, which would count the failure twice against the job's threshold
// and bring it down one run early). (SQLite runs in process: there is no
// connection to lose.)
func TestStoreRunsInDoubt(t *testing.T) {
	t.Run("postgres", func(t *testing.T) {
		db := modelstest.Postgres(t)
		cases := []struct {
			name   string
			at     modelstest.CutPoint
			outage int // new connections refused after the cut
		}{
			{"before send", modelstest.BeforeSend, 0},
			{"before send, then an outage", modelstest.BeforeSend, 5},
			{"after send", modelstest.AfterSend, 0},
			{"after commit", modelstest.AfterCommit, 0},
		}
		for _, c := range cases {
			at := c.at
			t.Run(c.name, func(t *testing.T) {
				proxy, viaProxy := modelstest.NewCutProxy(t, db.URL)
				store := modelstest.Open(t, viaProxy, nil)
				e := newEngine(t, store, clockwork.NewFakeClock(), nil)
				p := newProject(t, store)
				j := newCheck(t, store, p.ID, "http://a.example/", func(r *models.JobRequest) { r.FailureThreshold = ptr(3) })
				t0 := store.Now()
				fail := func(i int) []*models.CheckRun {
					at := t0.Add(time.Duration(i) * 10 * time.Second)
					return []*models.CheckRun{{JobID: j.ID, Result: models.RunFailure, Error: "connection refused",
						ScheduledAt: &at, CreatedAt: at}} // no Trigger: stored as schedule, and found as such
				}
				e.storeBatch(fail(0))
				proxy.CutQuery("commit", at)
				proxy.ThenOutage(c.outage)
				e.storeBatch(fail(1))
				require.Equal(t, 1, proxy.Cuts(), "the connection was cut")

				assert.Len(t, checkRuns(t, store, j.ID), 2, "each run stored once")
				assert.Equal(t, c.outage, proxy.Refused(), "connections refused")
				got := job(t, store, j.ID)
				assert.Equal(t, 2, got.ConsecutiveFailures)
				assert.NotEqual(t, models.StatusDown, got.Status, "two failures of three")
				e.storeBatch(fail(2))
				assert.Equal(t, models.StatusDown, job(t, store, j.ID).Status, "the third brings it down")
				assert.Len(t, flips(t, store, j.ID), 1)
			})
		}
	})
}
