package handlers_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cronpulse/cronpulse/app"
	"github.com/cronpulse/cronpulse/checker"
	"github.com/cronpulse/cronpulse/handlers"
	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newCheckEnv is newEnv with the checker's hooks wired in, as app.Service
// wires them.
func newCheckEnv(t *testing.T, db modelstest.Database) *env {
	t.Helper()
	cfg := app.TestConfig(db.URL)
	cfg.APIRateLimit = 1_000_000
	store := modelstest.Open(t, db.URL, nil)
	eng, err := checker.New(checker.Options{Store: store, Log: quietLog(), Concurrency: 8, PerHost: 4,
		AllowPrivate: true, CheckHistory: 1000, PingHistory: 1000, UserAgent: "CronPulse/test"})
	require.NoError(t, err)
	f := app.New(cfg, app.Deps{Store: store, Log: quietLog(), Hooks: handlers.JobHooks{
		Changed: eng.JobChanged, Deleted: eng.JobDeleted, Trigger: eng.Trigger,
	}})
	e := &env{t: t, db: db, cfg: cfg, store: store, app: f}
	e.admin = e.key("admin", models.PermAll)
	return e
}

// runsPage is the body of GET /jobs/{id}/runs.
type runsPage struct {
	Data []struct {
		Type  string           `json:"type"`
		Check *models.CheckRun `json:"check"`
	} `json:"data"`
	NextCursor *string `json:"nextCursor"`
}

func TestTriggerAndRuns(t *testing.T) {
	for _, db := range modelstest.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			db.SkipIfMissing(t)
			var code atomic.Int32
			code.Store(200)
			target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(int(code.Load()))
			}))
			t.Cleanup(target.Close)
			e := newCheckEnv(t, db)
			p := e.project("p")
			id := e.mustCreate("/jobs", `{"name":"api","projectId":`+quote(p)+`,"url":`+quote(target.URL)+
				`,"method":"GET","schedule":"@every 1m"}`)

			trigger := func(want string) models.CheckRun {
				t.Helper()
				r := e.do("POST", "/api/v1/jobs/"+id+"/trigger", e.admin, "")
				require.Equal(t, http.StatusCreated, r.Code, string(r.Body))
				var run models.CheckRun
				r.JSON(t, &run)
				assert.Equal(t, want, run.Result)
				assert.NotZero(t, run.ID)
				assert.Equal(t, models.TriggerManual, run.Trigger)
				return run
			}
			trigger(models.RunSuccess)
			code.Store(503)
			failed := trigger(models.RunFailure)
			assert.Equal(t, "expected 200, got 503", failed.Error)
			require.NotNil(t, failed.HTTPStatus)
			assert.Equal(t, 503, *failed.HTTPStatus)
			code.Store(200)
			trigger(models.RunSuccess)

			var job struct {
				LastStatus     string  `json:"lastStatus"`
				Status         string  `json:"status"`
				LastActivityAt *string `json:"lastActivityAt"`
			}
			e.do("GET", "/api/v1/jobs/"+id, e.admin, "").JSON(t, &job)
			assert.Equal(t, models.LastSuccess, job.LastStatus)
			assert.Equal(t, models.StatusUp, job.Status)
			assert.NotNil(t, job.LastActivityAt)

			var page runsPage
			r := e.do("GET", "/api/v1/jobs/"+id+"/runs", e.admin, "")
			require.Equal(t, http.StatusOK, r.Code, string(r.Body))
			r.JSON(t, &page)
			require.Len(t, page.Data, 3)
			assert.Equal(t, "check", page.Data[0].Type)
			assert.Greater(t, page.Data[0].Check.ID, page.Data[1].Check.ID, "newest first")
			assert.Nil(t, page.NextCursor)

			e.do("GET", "/api/v1/jobs/"+id+"/runs?status=failure&period=24h", e.admin, "").JSON(t, &page)
			require.Len(t, page.Data, 1)
			assert.Equal(t, failed.ID, page.Data[0].Check.ID)

			var seen []int64
			cursor := ""
			for i := 0; i < 5; i++ {
				path := "/api/v1/jobs/" + id + "/runs?limit=1"
				if cursor != "" {
					path += "&cursor=" + cursor
				}
				page = runsPage{}
				e.do("GET", path, e.admin, "").JSON(t, &page)
				for _, it := range page.Data {
					seen = append(seen, it.Check.ID)
				}
				if page.NextCursor == nil {
					break
				}
				cursor = *page.NextCursor
			}
			assert.Len(t, seen, 3, "the cursor walks every run once")

			r = e.do("GET", "/api/v1/jobs/"+id+"/runs?period=1y", e.admin, "")
			assert.Equal(t, http.StatusBadRequest, r.Code)
			assert.Contains(t, r.Error(t), "period")

			r = e.do("POST", "/api/v1/jobs/nope/trigger", e.admin, "")
			assert.Equal(t, http.StatusNotFound, r.Code)

			hb := e.mustCreate("/jobs", `{"name":"hb","projectId":`+quote(p)+`,"heartbeat":true,"schedule":"@daily"}`)
			r = e.do("POST", "/api/v1/jobs/"+hb+"/trigger", e.admin, "")
			assert.Equal(t, http.StatusConflict, r.Code)
			assert.True(t, strings.Contains(r.Error(t), "url"))
		})
	}
}
