package handlers_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cronpulse/cronpulse/app"
	"github.com/cronpulse/cronpulse/checker"
	"github.com/cronpulse/cronpulse/handlers"
	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/cronpulse/cronpulse/notifier"
	"github.com/jonboulle/clockwork"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// metricsEnv is the application with its metrics wired as Service.Run
// wires them: the engine (for triggered checks and watchdog ticks), a
// notifier worker (driven with RunOnce) and the flip counter on the store.
type metricsEnv struct {
	*env
	engine *checker.Engine
	worker *notifier.Worker
	clock  *clockwork.FakeClock // of /ping, the API and the engine
}

func newMetricsEnv(t *testing.T, db modelstest.Database, token string) *metricsEnv {
	t.Helper()
	me := &metricsEnv{clock: clockwork.NewFakeClockAt(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))}
	cfg := app.TestConfig(db.URL)
	cfg.APIRateLimit = 1_000_000
	cfg.MetricsToken = token
	store := modelstest.Open(t, db.URL, nil)
	m := app.NewMetrics(store)
	eng, err := checker.New(checker.Options{Store: store, Log: quietLog(), Concurrency: 8, PerHost: 4,
		AllowPrivate: true, CheckHistory: 1000, PingHistory: 1000, UserAgent: "CronPulse/test", Metrics: m, Clock: me.clock})
	require.NoError(t, err)
	f := app.New(cfg, app.Deps{Store: store, Log: quietLog(), Now: me.clock.Now, Metrics: m,
		Hooks: handlers.JobHooks{Changed: eng.JobChanged, Deleted: eng.JobDeleted, Trigger: eng.Trigger}})
	t.Cleanup(func() { _ = f.Shutdown() }) // stops the ping writer; nothing listens
	me.worker = notifier.NewWorker(notifier.WorkerOptions{Store: store, Log: quietLog(), Metrics: m, Clock: me.clock,
		Dispatcher: notifier.NewDispatcher(app.NotifierConfig(cfg, nil))})
	// RunOnce claims the notifications itself: the flip counter alone
	// listens, as Run adds it to the notifier's listener.
	store.SetFlipListener(m.FlipListener(nil))
	me.env = &env{t: t, db: db, cfg: cfg, store: store, app: f}
	me.admin = me.key("admin", models.PermAll)
	me.engine = eng
	return me
}

// ping sends a ping to path (after /ping/) and requires it stored.
func (me *metricsEnv) ping(path string) {
	me.t.Helper()
	r := me.do("POST", "/ping/"+path, "", "")
	require.Equal(me.t, http.StatusOK, r.Code, "ping %s: %s", path, r.Body)
}

// scrape GETs path and parses the exposition text with the Prometheus
// library's own parser. headers are name, value pairs.
func (me *metricsEnv) scrape(path, key string, headers ...string) (map[string]*dto.MetricFamily, []byte) {
	me.t.Helper()
	r := me.do("GET", path, key, "", headers...)
	require.Equal(me.t, http.StatusOK, r.Code, "GET %s: %s", path, r.Body)
	assert.Contains(me.t, r.Header.Get("Content-Type"), "text/plain")
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(bytes.NewReader(r.Body))
	require.NoError(me.t, err, "body:\n%s", r.Body)
	return mfs, r.Body
}

// series returns the metric of family name whose labels include want,
// failing the test when there is none.
func series(t *testing.T, mfs map[string]*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
	t.Helper()
	mf, ok := mfs[name]
	require.True(t, ok, "no metric family %s", name)
	for _, m := range mf.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range want {
			if got[k] != v {
				match = false
			}
		}
		if match {
			return m
		}
	}
	require.Failf(t, "no such series", "%s%v", name, want)
	return nil
}

// value is a counter's or gauge's value.
func value(t *testing.T, mfs map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	t.Helper()
	m := series(t, mfs, name, labels)
	if m.GetCounter() != nil {
		return m.GetCounter().GetValue()
	}
	require.NotNil(t, m.GetGauge(), "%s is neither counter nor gauge", name)
	return m.GetGauge().GetValue()
}

// histogram is a histogram's sample count and sum.
func histogram(t *testing.T, mfs map[string]*dto.MetricFamily, name string) (uint64, float64) {
	t.Helper()
	h := series(t, mfs, name, nil).GetHistogram()
	require.NotNil(t, h, "%s is not a histogram", name)
	return h.GetSampleCount(), h.GetSampleSum()
}

// TestMetrics drives real pings (with a flip each way), a real HTTP check
// against a test server, a watchdog tick and the delivery of the flips'
// notifications, then reads /metrics and /api/v1/metrics as Prometheus
// would.
func TestMetrics(t *testing.T) {
	for _, db := range modelstest.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
			t.Cleanup(target.Close)
			hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasSuffix(r.URL.Path, "/gone") {
					w.WriteHeader(http.StatusGone) // failed for good
				}
			}))
			t.Cleanup(hook.Close)
			me := newMetricsEnv(t, db, "")
			p := me.mustCreate("/projects", `{"name":"Acme Ops"}`)
			for _, path := range []string{"/ok", "/gone"} {
				me.mustCreate("/channels", `{"projectId":`+quote(p)+`,"name":"hook`+path+`","kind":"webhook","config":{"url":`+quote(hook.URL+path)+`}}`)
			}
			hbID := me.mustCreate("/jobs", `{"projectId":`+quote(p)+`,"name":"nightly backup","slug":"backup","heartbeat":true,"schedule":"@daily","tags":["prod","db"]}`)
			checkID := me.mustCreate("/jobs", `{"projectId":`+quote(p)+`,"name":"api health","url":`+quote(target.URL)+`,"method":"GET","schedule":"@every 1m"}`)
			hb, err := me.store.Job(hbID)
			require.NoError(t, err)

			me.ping(hb.PingToken + "/1") // exit status 1: a fail, new → down
			me.clock.Advance(time.Minute)
			me.ping(hb.PingToken + "/start")
			me.ping(hb.PingToken + "/log")
			me.clock.Advance(2 * time.Minute)
			me.ping(hb.PingToken + "/0") // exit status 0: a success, down → up, the run took 2 minutes
			lastPing := me.clock.Now()

			r := me.do("POST", "/api/v1/jobs/"+checkID+"/trigger", me.admin, "")
			require.Equal(t, http.StatusCreated, r.Code, "trigger: %s", r.Body)
			_, err = me.engine.CheckHeartbeats(context.Background())
			require.NoError(t, err)
			n, err := me.worker.RunOnce(context.Background())
			require.NoError(t, err)
			require.Equal(t, 4, n, "two flips, two channels each")

			mfs, body := me.scrape("/metrics", "")
			for _, name := range []string{"process_cpu_seconds_total", "go_goroutines"} {
				assert.Contains(t, mfs, name)
			}
			for kind, want := range map[string]float64{"success": 1, "fail": 1, "start": 1, "log": 1} {
				assert.Equal(t, want, value(t, mfs, "cronpulse_pings_received_total", map[string]string{"kind": kind}), "pings %s", kind)
			}
			count, sum := histogram(t, mfs, "cronpulse_ping_batch_size")
			assert.Equal(t, uint64(4), count, "one batch per ping: they came one after the other")
			assert.Equal(t, 4.0, sum)
			assert.Equal(t, 1.0, value(t, mfs, "cronpulse_checks_total", map[string]string{"result": "success"}))
			assert.Equal(t, 0.0, value(t, mfs, "cronpulse_checks_total", map[string]string{"result": "timeout"}))
			count, sum = histogram(t, mfs, "cronpulse_check_duration_seconds")
			assert.Equal(t, uint64(1), count)
			assert.Greater(t, sum, 0.0)
			count, _ = histogram(t, mfs, "cronpulse_watchdog_tick_duration_seconds")
			assert.Equal(t, uint64(1), count)
			assert.Equal(t, 1.0, value(t, mfs, "cronpulse_flips_total", map[string]string{"to": "down"}))
			assert.Equal(t, 1.0, value(t, mfs, "cronpulse_flips_total", map[string]string{"to": "up"}))
			assert.Equal(t, 2.0, value(t, mfs, "cronpulse_notifications_total", map[string]string{"kind": "webhook", "outcome": "sent"}))
			assert.Equal(t, 2.0, value(t, mfs, "cronpulse_notifications_total", map[string]string{"kind": "webhook", "outcome": "failed"}))
			assert.Equal(t, 0.0, value(t, mfs, "cronpulse_notifications_total", map[string]string{"kind": "webhook", "outcome": "retry"}))
			assert.Equal(t, 0.0, value(t, mfs, "cronpulse_outbox_notifications", map[string]string{"state": "pending"}))
			assert.Equal(t, 2.0, value(t, mfs, "cronpulse_outbox_notifications", map[string]string{"state": "failed"}))
			assert.Equal(t, 2.0, value(t, mfs, "cronpulse_jobs", map[string]string{"status": "up"}))
			assert.Equal(t, 0.0, value(t, mfs, "cronpulse_jobs", map[string]string{"status": "down"}))
			for _, secret := range []string{"nightly backup", "api health", "Acme Ops", hb.PingToken} {
				assert.NotContains(t, string(body), secret, "/metrics is open: it names no job nor project")
			}

			// Per job, with an API key.
			r = me.do("GET", "/api/v1/metrics", "", "")
			assert.Equal(t, http.StatusUnauthorized, r.Code)
			r = me.do("GET", "/api/v1/metrics", me.key("projects", models.PermReadProjects), "")
			assert.Equal(t, http.StatusForbidden, r.Code)
			mfs, _ = me.scrape("/api/v1/metrics", me.key("scraper", models.PermReadJobs))
			hbLabels := map[string]string{"project": "Acme Ops", "job": "nightly backup", "slug": "backup", "tags": "prod,db"}
			checkLabels := map[string]string{"project": "Acme Ops", "job": "api health", "slug": "api-health", "tags": ""}
			assert.Equal(t, 1.0, value(t, mfs, "cronpulse_job_up", hbLabels))
			assert.Equal(t, 1.0, value(t, mfs, "cronpulse_job_up", checkLabels))
			assert.Equal(t, float64(lastPing.Unix()), value(t, mfs, "cronpulse_job_last_ping_timestamp_seconds", hbLabels))
			assert.Len(t, mfs["cronpulse_job_last_ping_timestamp_seconds"].GetMetric(), 1, "only heartbeat jobs that have been pinged")
			assert.Equal(t, 120.0, value(t, mfs, "cronpulse_job_last_duration_seconds", hbLabels))
			assert.GreaterOrEqual(t, value(t, mfs, "cronpulse_job_last_duration_seconds", checkLabels), 0.0)

			// Down is 0.
			me.ping(hb.PingToken + "/fail")
			mfs, _ = me.scrape("/api/v1/metrics", me.admin)
			assert.Equal(t, 0.0, value(t, mfs, "cronpulse_job_up", hbLabels))
			assert.Equal(t, 1.0, value(t, mfs, "cronpulse_job_up", checkLabels))
		})
	}
}

func TestMetricsToken(t *testing.T) {
	for _, db := range modelstest.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			const token = "prom-0123456789abcdef"
			me := newMetricsEnv(t, db, token)
			cases := []struct {
				name    string
				headers []string
				code    int
			}{
				{"no token", nil, http.StatusUnauthorized},
				{"wrong token", []string{"Authorization", "Bearer prom-0123456789abcdeX"}, http.StatusUnauthorized},
				{"a prefix of the token", []string{"Authorization", "Bearer prom-0123"}, http.StatusUnauthorized},
				{"an API key instead", []string{"X-API-Key", me.admin}, http.StatusUnauthorized},
				{"not bearer", []string{"Authorization", "Basic " + token}, http.StatusUnauthorized},
				{"the token", []string{"Authorization", "Bearer " + token}, http.StatusOK},
				{"the token, scheme in lower case", []string{"Authorization", "bearer " + token}, http.StatusOK},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					r := me.do("GET", "/metrics", "", "", tc.headers...)
					require.Equal(t, tc.code, r.Code, "%s", r.Body)
					if tc.code == http.StatusUnauthorized {
						assert.Contains(t, r.Error(t), "METRICS_TOKEN")
						assert.Equal(t, `Bearer realm="metrics"`, r.Header.Get("WWW-Authenticate"))
					}
				})
			}
			mfs, _ := me.scrape("/metrics", "", "Authorization", "Bearer "+token)
			assert.Contains(t, mfs, "cronpulse_jobs")
		})
	}
}

// TestJobMetricsAlikeJobs: two jobs alike in every label are one series,
// reported once, and the scrape still parses.
func TestJobMetricsAlikeJobs(t *testing.T) {
	for _, db := range modelstest.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			me := newMetricsEnv(t, db, "")
			p := me.project("twins")
			for range 2 {
				me.mustCreate("/jobs", `{"projectId":`+quote(p)+`,"name":"backup","slug":"backup","heartbeat":true,"schedule":"@daily"}`)
			}
			mfs, _ := me.scrape("/api/v1/metrics", me.admin)
			require.Contains(t, mfs, "cronpulse_job_up")
			assert.Len(t, mfs["cronpulse_job_up"].GetMetric(), 1)
			assert.Equal(t, 1.0, value(t, mfs, "cronpulse_job_up", map[string]string{"project": "twins", "job": "backup", "slug": "backup"}))
		})
	}
}
