package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cronpulse/cronpulse/app"
	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/cronpulse/cronpulse/notifier"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestServiceDeliversAlerts runs the whole service (Service.Run: HTTP,
// engine, notifier on its own pool) on a real port, and checks that a
// failing ping reaches a webhook, signed, and that the flip then lists the
// notification as sent.
func TestServiceDeliversAlerts(t *testing.T) {
	for _, db := range modelstest.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			db.SkipIfMissing(t)
			var mu sync.Mutex
			var got []map[string]any
			hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				ts := r.Header.Get(notifier.HeaderTimestamp)
				if r.Header.Get(notifier.HeaderSignature) != notifier.Sign("s3cret", ts, body) {
					http.Error(w, "bad signature", http.StatusUnauthorized)
					return
				}
				var p map[string]any
				_ = json.Unmarshal(body, &p) // a bad body shows up as a nil map
				mu.Lock()
				got = append(got, p)
				mu.Unlock()
			}))
			t.Cleanup(hook.Close)

			cfg := app.TestConfig(db.URL)
			cfg.ListenAddr = freeAddr(t)
			cfg.BaseURL = "http://" + cfg.ListenAddr
			rs := startService(t, cfg, "")
			p := rs.call("POST", "/api/v1/projects", `{"name":"Acme"}`)
			rs.call("POST", "/api/v1/channels", `{"projectId":"`+p["id"].(string)+`","name":"hook","kind":"webhook",
				"config":{"url":"`+hook.URL+`/h","secret":"s3cret"}}`)
			j := rs.call("POST", "/api/v1/jobs", `{"projectId":"`+p["id"].(string)+`","name":"backup","heartbeat":true,"schedule":"@daily"}`)

			res, err := http.Get(j["pingUrl"].(string) + "/fail")
			require.NoError(t, err)
			res.Body.Close()
			require.Equal(t, http.StatusOK, res.StatusCode)

			require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 1 }, 10*time.Second, 10*time.Millisecond)
			mu.Lock()
			assert.Equal(t, "down", got[0]["status"])
			assert.Equal(t, rs.base+"/jobs/"+j["id"].(string), got[0]["dashboardUrl"])
			mu.Unlock()
			require.EventuallyWithT(t, func(c *assert.CollectT) {
				assert.Equal(c, "sent", rs.notification(c, j["id"].(string))["state"])
			}, 10*time.Second, 20*time.Millisecond)
			rs.stop()
		})
	}
}

// runningService is a Service.Run in the background.
type runningService struct {
	t      *testing.T
	base   string
	key    string
	cancel context.CancelFunc
	done   chan error
	svc    *app.Service
}

// startService opens the database of cfg and runs the service on
// cfg.ListenAddr until stop.
func startService(t *testing.T, cfg *app.Config, key string) *runningService {
	t.Helper()
	svc, err := app.Open(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	if key == "" {
		_, key, err = svc.Store.CreateAPIKey("test", []string{models.PermAll})
		require.NoError(t, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rs := &runningService{t: t, base: "http://" + cfg.ListenAddr, key: key, cancel: cancel, done: make(chan error, 1), svc: svc}
	go func() { rs.done <- svc.Run(ctx) }()
	require.Eventually(t, func() bool {
		res, err := http.Get(rs.base + "/healthz")
		if err == nil {
			res.Body.Close()
		}
		return err == nil && res.StatusCode == http.StatusOK
	}, 10*time.Second, 20*time.Millisecond)
	return rs
}

// stop shuts the service down and closes its database.
func (rs *runningService) stop() {
	rs.t.Helper()
	rs.cancel()
	select {
	case err := <-rs.done:
		require.NoError(rs.t, err)
	case <-time.After(20 * time.Second):
		rs.t.Fatal("Run did not return after cancel")
	}
	require.NoError(rs.t, rs.svc.Close())
}

// call sends an API request and decodes the JSON object answered.
func (rs *runningService) call(method, path, body string) map[string]any {
	rs.t.Helper()
	out, err := rs.fetch(method, path, body)
	require.NoError(rs.t, err)
	return out
}

// fetch is call returning its error, for conditions that are polled.
func (rs *runningService) fetch(method, path, body string) (map[string]any, error) {
	req, err := http.NewRequest(method, rs.base+path, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("X-API-Key", rs.key)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode >= 300 {
		return nil, fmt.Errorf("%s %s answered %d", method, path, res.StatusCode)
	}
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	return out, nil
}

// notification collects the only notification of the job's only flip into
// c, failing c while there is none yet (or more than one).
func (rs *runningService) notification(c *assert.CollectT, jobID string) map[string]any {
	out, err := rs.fetch("GET", "/api/v1/jobs/"+jobID+"/flips", "")
	if !assert.NoError(c, err) {
		return nil
	}
	flips, _ := out["data"].([]any)
	if !assert.Len(c, flips, 1, "flips") {
		return nil
	}
	flip, _ := flips[0].(map[string]any)
	ns, _ := flip["notifications"].([]any)
	if !assert.Len(c, ns, 1, "notifications of the flip") {
		return nil
	}
	n, _ := ns[0].(map[string]any)
	assert.NotNil(c, n, "notification")
	return n
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// TestServiceReceiverDownAcrossRestart: the webhook receiver is down when
// the job fails and while CronPulse restarts; once it is back, the new
// process delivers the alert, once.
func TestServiceReceiverDownAcrossRestart(t *testing.T) {
	for _, db := range modelstest.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			db.SkipIfMissing(t)
			hookAddr := freeAddr(t) // down: connections are refused
			cfg := app.TestConfig(db.URL)
			cfg.ListenAddr = freeAddr(t)
			cfg.BaseURL = "http://" + cfg.ListenAddr
			cfg.NotifyRetryBase = time.Second // the first retry 0.5–1 s later

			first := startService(t, cfg, "")
			p := first.call("POST", "/api/v1/projects", `{"name":"Acme"}`)
			first.call("POST", "/api/v1/channels", `{"projectId":"`+p["id"].(string)+`","name":"hook","kind":"webhook",
				"config":{"url":"http://`+hookAddr+`/h"}}`)
			j := first.call("POST", "/api/v1/jobs", `{"projectId":"`+p["id"].(string)+`","name":"backup","heartbeat":true,"schedule":"@daily"}`)
			jobID := j["id"].(string)
			res, err := http.Get(j["pingUrl"].(string) + "/fail")
			require.NoError(t, err)
			res.Body.Close()
			require.EventuallyWithT(t, func(c *assert.CollectT) {
				n := first.notification(c, jobID)
				assert.Equal(c, float64(1), n["attempts"])
				assert.Contains(c, n["lastError"], "connection refused")
			}, 10*time.Second, 20*time.Millisecond)
			first.stop()

			// The receiver comes back while CronPulse is down.
			var mu sync.Mutex
			deliveries := 0
			ln, err := net.Listen("tcp", hookAddr)
			require.NoError(t, err)
			srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				deliveries++
				mu.Unlock()
			})}
			go func() { _ = srv.Serve(ln) }()
			t.Cleanup(func() { _ = srv.Close() })

			second := startService(t, cfg, first.key)
			var n map[string]any
			require.EventuallyWithT(t, func(c *assert.CollectT) {
				n = second.notification(c, jobID)
				assert.Equal(c, "sent", n["state"])
			}, 15*time.Second, 20*time.Millisecond)
			assert.Equal(t, float64(2), n["attempts"])
			// Stopped, the service cannot deliver again: the receiver's
			// count is final.
			second.stop()
			mu.Lock()
			assert.Equal(t, 1, deliveries)
			mu.Unlock()
		})
	}
}
