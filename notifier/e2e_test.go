package notifier_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cronpulse/cronpulse/app"
	"github.com/cronpulse/cronpulse/checker"
	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/cronpulse/cronpulse/notifier"
	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// e2e is CronPulse in one process on a fake clock: the HTTP app (for
// pings), the engine (watchdog and checks) and the notifier, with Slack
// played by fakeSlack.
type e2e struct {
	*fixture
	clock  *clockwork.FakeClock
	worker *notifier.Worker
	app    interface {
		Test(req *http.Request, msTimeout ...int) (*http.Response, error)
	}
	slack *fakeSlack
}

func newE2E(t *testing.T, db modelstest.Database, start time.Time) *e2e {
	t.Helper()
	clock := clockwork.NewFakeClockAt(start)
	s := modelstest.Open(t, db.URL, clock.Now)
	fx := newFixture(t, s)
	slk := newFakeSlack(t)
	fx.channel("slack", models.ChannelSlackWebhook, models.JSONMap{"url": slk.URL + "/services/T00/B00/XYZ"})

	cfg := app.TestConfig(db.URL)
	cfg.BaseURL = baseURL
	f := app.New(cfg, app.Deps{Store: s, Log: quietLog(), Now: clock.Now})
	t.Cleanup(func() { _ = f.Shutdown() }) // stops the ping writer

	eng, err := checker.New(checker.Options{Store: s, Log: quietLog(), Clock: clock, Concurrency: 4, PerHost: 4,
		AllowPrivate: true, CheckHistory: 100, PingHistory: 100, UserAgent: "CronPulse/test"})
	require.NoError(t, err)
	w := newWorker(s, clock, notifier.Config{})
	s.SetFlipListener(w.Listener())
	require.NoError(t, eng.Start(t.Context()))
	startWorker(t, w) // cleanups run last-in first-out: the engine stops before the notifier
	t.Cleanup(func() { require.NoError(t, eng.Stop()) })
	return &e2e{fixture: fx, clock: clock, worker: w, app: f, slack: slk}
}

// ping sends GET /ping/{token}.
func (e *e2e) ping() {
	e.t.Helper()
	res, err := e.app.Test(httptest.NewRequest("GET", "/ping/"+e.job.PingToken, nil), -1)
	require.NoError(e.t, err)
	require.Equal(e.t, http.StatusOK, res.StatusCode)
}

// waitMessage advances the clock a second at a time until Slack has n
// messages, and returns the last one.
func (e *e2e) waitMessage(n int) slackMessage {
	e.t.Helper()
	require.Eventually(e.t, func() bool {
		if len(e.slack.received()) >= n {
			return true
		}
		e.clock.Advance(time.Second)
		return false
	}, 20*time.Second, 20*time.Millisecond, "Slack message %d never came", n)
	msgs := e.slack.received()
	require.Len(e.t, msgs, n, "one message per flip")
	return msgs[n-1]
}

// TestEndToEndHeartbeat: a heartbeat job misses its ping → a DOWN message
// in Slack; a ping → an UP message with the downtime.
func TestEndToEndHeartbeat(t *testing.T) {
	for _, db := range modelstest.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			db.SkipIfMissing(t)
			start := time.Date(2026, 3, 2, 9, 0, 30, 0, time.UTC)
			e := newE2E(t, db, start)
			sched, tol := "*/5 * * * *", 1
			_, err := e.store.UpdateJob(e.job.ID, &models.JobRequest{Schedule: &sched, HeartbeatTolerance: &tol})
			require.NoError(t, err)
			e.ping() // up (new → up is not an alert)

			// Expected at 09:05, down from 09:06.
			e.clock.Advance(5 * time.Minute)
			down := e.waitMessage(1)
			text := down.AllText()
			for _, want := range []string{"DOWN: nightly backup (Acme)", "missed heartbeat", baseURL + "/jobs/" + e.job.ID, "Last ping"} {
				assert.Contains(t, text, want)
			}

			e.clock.Advance(10 * time.Minute)
			e.ping()
			up := e.waitMessage(2)
			text = up.AllText()
			assert.Contains(t, text, "UP: nightly backup (Acme)")
			fs, err := e.store.Flips(e.job.ID, 0, 10)
			require.NoError(t, err)
			require.Len(t, fs, 2)
			downtime := fs[0].CreatedAt.Sub(fs[1].CreatedAt)
			assert.InDelta(t, 10*time.Minute, downtime, float64(time.Minute))
			assert.Contains(t, text, "*Down for*\n"+notifier.Duration(downtime))
			idle(t, e.worker, e.clock.Now())
			assert.Len(t, e.slack.received(), 2, "no duplicates")
		})
	}
}

// TestEndToEndHTTPCheck: the target answers 503 → a DOWN message naming
// 503; it recovers → an UP message.
func TestEndToEndHTTPCheck(t *testing.T) {
	for _, db := range modelstest.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			db.SkipIfMissing(t)
			var status atomic.Int32
			status.Store(http.StatusServiceUnavailable)
			target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(int(status.Load()))
			}))
			t.Cleanup(target.Close)

			e := newE2E(t, db, time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
			u, method, sched, hb := target.URL+"/health", "GET", "@every 10s", false
			j, err := e.store.UpdateJob(e.job.ID, &models.JobRequest{URL: &u, Method: &method, Schedule: &sched, Heartbeat: &hb})
			require.NoError(t, err)
			_, err = e.store.ChangeStatus(j.ID, models.StatusUp, "", e.clock.Now()) // it was fine before
			require.NoError(t, err)

			down := e.waitMessage(1)
			text := down.AllText()
			assert.Contains(t, text, "DOWN: nightly backup (Acme)")
			assert.Contains(t, text, "503")
			assert.Contains(t, text, baseURL+"/jobs/"+j.ID)

			status.Store(http.StatusOK)
			up := e.waitMessage(2)
			text = up.AllText()
			assert.Contains(t, text, "UP: nightly backup (Acme)")
			assert.Contains(t, text, "Down for")
			assert.True(t, strings.Contains(text, "HTTP 200"), "the recovering check is shown: %s", text)
		})
	}
}
