package handlers_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/cronpulse/cronpulse/app"
	"github.com/cronpulse/cronpulse/checker"
	"github.com/cronpulse/cronpulse/handlers"
	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// statusBody is the body of GET /status.
type statusBody struct {
	Running             bool       `json:"running"`
	Version             string     `json:"version"`
	StartedAt           time.Time  `json:"startedAt"`
	Database            string     `json:"database"`
	TickIntervalSeconds *float64   `json:"tickIntervalSeconds"`
	LastTickAt          *time.Time `json:"lastTickAt"`
	NextTickAt          *time.Time `json:"nextTickAt"`
	JobsCheckedLastTick *int       `json:"jobsCheckedLastTick"`
	MonitorsScheduled   int64      `json:"monitorsScheduled"`
	PingsStored         int64      `json:"pingsStored"`
	Outbox              struct {
		Pending int64 `json:"pending"`
		Failed  int64 `json:"failed"`
	} `json:"outbox"`
	Instance struct {
		ID     string `json:"id"`
		Leader bool   `json:"leader"`
	} `json:"instance"`
}

// status reads GET /status with key, requiring 200.
func (e *env) status(key string) (statusBody, map[string]any) {
	e.t.Helper()
	r := e.do("GET", "/api/v1/status", key, "")
	require.Equal(e.t, http.StatusOK, r.Code, string(r.Body))
	var st statusBody
	r.JSON(e.t, &st)
	var raw map[string]any
	r.JSON(e.t, &raw)
	return st, raw
}

func TestStatusWithoutEngine(t *testing.T) {
	eachEnv(t, nil, func(t *testing.T, e *env) {
		reader := e.key("reader", models.PermReadJobs)
		st, raw := e.status(reader)
		assert.False(t, st.Running)
		for _, field := range []string{"tickIntervalSeconds", "lastTickAt", "nextTickAt", "jobsCheckedLastTick"} {
			v, ok := raw[field]
			assert.True(t, ok, "%s is present", field)
			assert.Nil(t, v, "%s is null without an engine", field)
		}
		assert.Equal(t, app.Version, st.Version)
		assert.Equal(t, e.db.Name, st.Database)
		assert.False(t, st.StartedAt.IsZero())
		assert.Zero(t, st.MonitorsScheduled)
		assert.Zero(t, st.PingsStored)
		assert.Zero(t, st.Outbox.Pending)
		assert.Zero(t, st.Outbox.Failed)
		assert.Equal(t, e.cfg.InstanceID, st.Instance.ID)
		assert.NotEmpty(t, st.Instance.ID, "host name and pid by default")
		assert.True(t, st.Instance.Leader, "the one instance leads")

		r := e.do("GET", "/api/v1/status", e.key("projects only", models.PermReadProjects), "")
		assert.Equal(t, http.StatusForbidden, r.Code)
		assert.Contains(t, r.Error(t), models.PermReadJobs)
	})
}

// TestStatusWithEngine runs the engine on a fake clock: three cron checks
// fall due at 14:01:00, one dispatcher tick starts them, and the status
// says when that tick ran, when the next one is and what it did.
func TestStatusWithEngine(t *testing.T) {
	start := time.Date(2026, 3, 7, 14, 0, 55, 0, time.UTC)
	for _, db := range modelstest.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
			t.Cleanup(target.Close)
			clock := clockwork.NewFakeClockAt(start)
			e := newEngineEnv(t, db, clock)

			st, _ := e.status(e.admin)
			assert.True(t, st.Running)
			assert.Nil(t, st.LastTickAt, "no tick before the clock moves")
			assert.Equal(t, start, st.StartedAt)

			p := e.project("p")
			for _, name := range []string{"a", "b", "c"} {
				e.mustCreate("/jobs", `{"name":`+quote(name)+`,"projectId":`+quote(p)+`,"url":`+quote(target.URL)+
					`,"method":"GET","schedule":"* * * * *"}`)
			}
			hb := e.mustCreate("/jobs", `{"name":"hb","projectId":`+quote(p)+`,"heartbeat":true,"schedule":"0 * * * *"}`)
			require.Equal(t, http.StatusOK, e.do("GET", "/ping/"+e.mustJob(hb).PingToken, "", "").Code)

			// The dispatcher ticks every 200ms from start; jump just past
			// 14:01:00, off that grid, so that gocron fires it exactly once.
			tick := time.Date(2026, 3, 7, 14, 1, 0, 100_000_000, time.UTC)
			clock.Advance(tick.Sub(clock.Now()))
			require.Eventually(t, func() bool {
				st, _ = e.status(e.admin)
				return st.LastTickAt != nil
			}, 10*time.Second, time.Millisecond)

			assert.True(t, st.Running)
			require.NotNil(t, st.TickIntervalSeconds)
			assert.InDelta(t, 0.2, *st.TickIntervalSeconds, 1e-9)
			assert.Equal(t, tick, st.LastTickAt.UTC())
			require.NotNil(t, st.NextTickAt)
			assert.Equal(t, tick.Add(100*time.Millisecond), st.NextTickAt.UTC(), "the next point of the 200ms grid")
			require.NotNil(t, st.JobsCheckedLastTick)
			assert.Equal(t, 3, *st.JobsCheckedLastTick, "the tick started the three due checks")
			assert.Equal(t, int64(4), st.MonitorsScheduled, "three checks and one pinged heartbeat")
			assert.Equal(t, int64(1), st.PingsStored)
			assert.Equal(t, db.Name, st.Database)
		})
	}
}

// newEngineEnv is newEnv with a started engine, the store and the API all
// on clock, wired as app.Service wires them.
func newEngineEnv(t *testing.T, db modelstest.Database, clock *clockwork.FakeClock) *env {
	t.Helper()
	cfg := app.TestConfig(db.URL)
	cfg.APIRateLimit = 1_000_000
	store := modelstest.Open(t, db.URL, clock.Now)
	eng, err := checker.New(checker.Options{Store: store, Log: quietLog(), Clock: clock, Concurrency: 8, PerHost: 4,
		AllowPrivate: true, CheckHistory: 1000, PingHistory: 1000, UserAgent: "CronPulse/test"})
	require.NoError(t, err)
	require.NoError(t, eng.Start(t.Context()))
	t.Cleanup(func() { require.NoError(t, eng.Stop()) })
	f := app.New(cfg, app.Deps{Store: store, Log: quietLog(), Now: clock.Now, Engine: eng, Hooks: handlers.JobHooks{
		Changed: eng.JobChanged, Deleted: eng.JobDeleted, Trigger: eng.Trigger,
	}})
	e := &env{t: t, db: db, cfg: cfg, store: store, app: f}
	e.admin = e.key("admin", models.PermAll)
	return e
}
