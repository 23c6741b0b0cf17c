package app_test

import (
	"context"
	"encoding/json"
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
			require.Eventually(t, func() bool {
				n := rs.notification(j["id"].(string))
				return n != nil && n["state"] == "sent"
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
	req, err := http.NewRequest(method, rs.base+path, strings.NewReader(body))
	require.NoError(rs.t, err)
	req.Header.Set("X-API-Key", rs.key)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	require.NoError(rs.t, err)
	defer res.Body.Close()
	require.Less(rs.t, res.StatusCode, 300, "%s %s", method, path)
	var out map[string]any
	require.NoError(rs.t, json.NewDecoder(res.Body).Decode(&out))
	return out
}

// notification returns the only notification of the job's only flip, or
// nil while there is none.
func (rs *runningService) notification(jobID string) map[string]any {
	flips := rs.call("GET", "/api/v1/jobs/"+jobID+"/flips", "")["data"].([]any)
	if len(flips) != 1 {
		return nil
	}
	ns := flips[0].(map[string]any)["notifications"].([]any)
	if len(ns) != 1 {
		return nil
	}
	return ns[0].(map[string]any)
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
			require.Eventually(t, func() bool {
				n := first.notification(jobID)
				return n != nil && n["attempts"] == float64(1) && strings.Contains(n["lastError"].(string), "connection refused")
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
			require.Eventually(t, func() bool {
				n := second.notification(jobID)
				return n != nil && n["state"] == "sent"
			}, 15*time.Second, 20*time.Millisecond)
			n := second.notification(jobID)
			assert.Equal(t, float64(2), n["attempts"])
			time.Sleep(200 * time.Millisecond)
			mu.Lock()
			assert.Equal(t, 1, deliveries)
			mu.Unlock()
			second.stop()
		})
	}
}
