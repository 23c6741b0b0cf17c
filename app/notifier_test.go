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

			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			addr := ln.Addr().String()
			require.NoError(t, ln.Close())
			cfg := app.TestConfig(db.URL)
			cfg.ListenAddr, cfg.BaseURL = addr, "http://"+addr
			svc, err := app.Open(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
			require.NoError(t, err)
			t.Cleanup(func() { _ = svc.Close() })
			_, key, err := svc.Store.CreateAPIKey("test", []string{models.PermAll})
			require.NoError(t, err)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- svc.Run(ctx) }()
			base := "http://" + addr
			require.Eventually(t, func() bool {
				res, err := http.Get(base + "/healthz")
				if err == nil {
					res.Body.Close()
				}
				return err == nil && res.StatusCode == http.StatusOK
			}, 10*time.Second, 20*time.Millisecond)

			call := func(method, path, body string) map[string]any {
				t.Helper()
				req, err := http.NewRequest(method, base+path, strings.NewReader(body))
				require.NoError(t, err)
				req.Header.Set("X-API-Key", key)
				req.Header.Set("Content-Type", "application/json")
				res, err := http.DefaultClient.Do(req)
				require.NoError(t, err)
				defer res.Body.Close()
				require.Less(t, res.StatusCode, 300, "%s %s", method, path)
				var out map[string]any
				require.NoError(t, json.NewDecoder(res.Body).Decode(&out))
				return out
			}
			p := call("POST", "/api/v1/projects", `{"name":"Acme"}`)
			call("POST", "/api/v1/channels", `{"projectId":"`+p["id"].(string)+`","name":"hook","kind":"webhook",
				"config":{"url":"`+hook.URL+`/h","secret":"s3cret"}}`)
			j := call("POST", "/api/v1/jobs", `{"projectId":"`+p["id"].(string)+`","name":"backup","heartbeat":true,"schedule":"@daily"}`)

			res, err := http.Get(j["pingUrl"].(string) + "/fail")
			require.NoError(t, err)
			res.Body.Close()
			require.Equal(t, http.StatusOK, res.StatusCode)

			require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 1 }, 10*time.Second, 10*time.Millisecond)
			mu.Lock()
			assert.Equal(t, "down", got[0]["status"])
			assert.Equal(t, base+"/jobs/"+j["id"].(string), got[0]["dashboardUrl"])
			mu.Unlock()
			require.Eventually(t, func() bool {
				flips := call("GET", "/api/v1/jobs/"+j["id"].(string)+"/flips", "")["data"].([]any)
				if len(flips) != 1 {
					return false
				}
				ns := flips[0].(map[string]any)["notifications"].([]any)
				return len(ns) == 1 && ns[0].(map[string]any)["state"] == "sent"
			}, 10*time.Second, 20*time.Millisecond)

			cancel()
			select {
			case err := <-done:
				require.NoError(t, err)
			case <-time.After(20 * time.Second):
				t.Fatal("Run did not return after cancel")
			}
		})
	}
}
