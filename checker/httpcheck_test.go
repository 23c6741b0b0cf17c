package checker

import (
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// seen is what a target received.
type seen struct {
	mu      sync.Mutex
	method  string
	header  http.Header
	body    string
	paths   []string
	bodyErr error
}

func (s *seen) record(r *http.Request) {
	b, _ := io.ReadAll(r.Body) // a short read shows up as a wrong body in the assertions
	s.mu.Lock()
	defer s.mu.Unlock()
	s.method, s.header, s.body = r.Method, r.Header.Clone(), string(b)
	s.paths = append(s.paths, r.URL.Path)
}

func (s *seen) get() seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return seen{method: s.method, header: s.header, body: s.body, paths: append([]string(nil), s.paths...), bodyErr: s.bodyErr}
}

// newTarget serves the routes the HTTP check tests call.
func newTarget(t *testing.T) (*httptest.Server, *seen) {
	t.Helper()
	rec := &seen{}
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		rec.record(r)
		_, _ = io.WriteString(w, "ok") // the client may have gone; nothing to do about it
	})
	mux.HandleFunc("/unavailable", func(w http.ResponseWriter, r *http.Request) {
		rec.record(r)
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		rec.record(r)
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	// /hop/3 → /hop/2 → /hop/1 → /ok
	mux.HandleFunc("/hop/{n}", func(w http.ResponseWriter, r *http.Request) {
		rec.record(r)
		next := map[string]string{"3": "/hop/2", "2": "/hop/1", "1": "/ok"}[r.PathValue("n")]
		http.Redirect(w, r, next, http.StatusMovedPermanently)
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		rec.record(r)
		http.Redirect(w, r, "/ok", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		rec.record(r)
		http.Redirect(w, r, "/loop", http.StatusFound)
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		rec.record(r)
		chunk := strings.Repeat("x", 64<<10)
		var err error
		for i := 0; i < 160 && err == nil; i++ { // 10 MiB
			_, err = io.WriteString(w, chunk)
		}
		rec.mu.Lock()
		rec.bodyErr = err
		rec.mu.Unlock()
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, rec
}

// refusedURL is a URL on a port where nothing listens.
func refusedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return "http://" + addr + "/"
}

func TestHTTPCheckOutcomes(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, store *models.Store) {
		srv, rec := newTarget(t)
		tls := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		tls.Config.ErrorLog = log.New(io.Discard, "", 0) // the rejected handshakes are expected
		tls.StartTLS()
		t.Cleanup(tls.Close)
		e := newEngine(t, store, nil, nil)
		p := newProject(t, store)

		cases := []struct {
			name       string
			url        string
			tune       func(r *models.JobRequest)
			result     string
			status     int // 0: none
			err        string
			lastStatus string
			paths      []string // nil: not checked
		}{
			{name: "200", url: srv.URL + "/ok", result: models.RunSuccess, status: 200, lastStatus: models.LastSuccess},
			{name: "wrong status", url: srv.URL + "/unavailable", result: models.RunFailure, status: 503,
				err: "expected 200, got 503", lastStatus: models.LastFailure},
			{name: "slower than the timeout", url: srv.URL + "/slow", tune: func(r *models.JobRequest) { r.Timeout = ptr(1) },
				result: models.RunTimeout, err: "timed out after 1s", lastStatus: models.LastTimeout},
			{name: "redirect chain followed", url: srv.URL + "/hop/3", result: models.RunSuccess, status: 200,
				lastStatus: models.LastSuccess, paths: []string{"/hop/3", "/hop/2", "/hop/1", "/ok"}},
			{name: "expected 301 not followed", url: srv.URL + "/moved",
				tune:   func(r *models.JobRequest) { r.ExpectedStatusCode = ptr(301) },
				result: models.RunSuccess, status: 301, lastStatus: models.LastSuccess, paths: []string{"/moved"}},
			{name: "301 when 200 expected is followed", url: srv.URL + "/moved", result: models.RunSuccess, status: 200,
				lastStatus: models.LastSuccess, paths: []string{"/moved", "/ok"}},
			{name: "redirect loop", url: srv.URL + "/loop", result: models.RunError, status: 302,
				err: "stopped after 10 redirects", lastStatus: models.LastFailure},
			{name: "connection refused", url: refusedURL(t), result: models.RunError,
				err: "connection refused", lastStatus: models.LastFailure},
			{name: "self-signed TLS", url: tls.URL + "/", result: models.RunError,
				err: "TLS certificate not trusted: x509: certificate signed by unknown authority", lastStatus: models.LastFailure},
			{name: "10 MB body", url: srv.URL + "/big", result: models.RunSuccess, status: 200, lastStatus: models.LastSuccess},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				rec.mu.Lock()
				rec.paths = nil
				rec.mu.Unlock()
				j := newCheck(t, store, p.ID, tc.url, tc.tune)
				start := time.Now()
				run, err := e.Trigger(t.Context(), j)
				require.NoError(t, err)
				assert.Less(t, time.Since(start), 4*time.Second, "a check is bounded by its timeout")

				assert.Equal(t, tc.result, run.Result)
				assert.Equal(t, tc.err, run.Error)
				if tc.status == 0 {
					assert.Nil(t, run.HTTPStatus)
				} else if assert.NotNil(t, run.HTTPStatus) {
					assert.Equal(t, tc.status, *run.HTTPStatus)
				}
				assert.Equal(t, models.TriggerManual, run.Trigger)
				assert.NotZero(t, run.ID, "the run is stored")
				if tc.paths != nil {
					assert.Equal(t, tc.paths, rec.get().paths)
				}

				stored := checkRuns(t, store, j.ID)
				require.Len(t, stored, 1)
				assert.Equal(t, run.ID, stored[0].ID)
				assert.Equal(t, tc.result, stored[0].Result)
				assert.Equal(t, tc.err, stored[0].Error)
				assert.Equal(t, run.ResponseTimeMs, stored[0].ResponseTimeMs)

				after := job(t, store, j.ID)
				assert.Equal(t, tc.lastStatus, after.LastStatus)
				require.NotNil(t, after.LastActivityAt)
				assert.WithinDuration(t, run.CreatedAt, *after.LastActivityAt, time.Millisecond)
			})
		}
		t.Run("timeout response time", func(t *testing.T) {
			j := newCheck(t, store, p.ID, srv.URL+"/slow", func(r *models.JobRequest) { r.Timeout = ptr(1) })
			run, err := e.Trigger(t.Context(), j)
			require.NoError(t, err)
			assert.InDelta(t, 1000, run.ResponseTimeMs, 500, "a timed-out run took about its timeout")
		})
		t.Run("10 MB body is cut off, not read whole", func(t *testing.T) {
			j := newCheck(t, store, p.ID, srv.URL+"/big", nil)
			_, err := e.Trigger(t.Context(), j)
			require.NoError(t, err)
			assert.Eventually(t, func() bool { return rec.get().bodyErr != nil }, 5*time.Second, 10*time.Millisecond,
				"the target's write of 10 MiB fails because the checker stopped reading")
		})
	})
}

func TestHTTPCheckSendsRequest(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, store *models.Store) {
		srv, rec := newTarget(t)
		e := newEngine(t, store, nil, nil)
		p := newProject(t, store)
		j := newCheck(t, store, p.ID, srv.URL+"/ok", func(r *models.JobRequest) {
			r.Method = ptr("POST")
			r.Headers = &models.Headers{"X-Token": "s3cret", "Content-Type": "application/json"}
			r.Body = models.Nullable[string]{Set: true, Value: ptr(`{"hello":"world"}`)}
		})
		run, err := e.Trigger(t.Context(), j)
		require.NoError(t, err)
		require.Equal(t, models.RunSuccess, run.Result)

		got := rec.get()
		assert.Equal(t, "POST", got.method)
		assert.Equal(t, "s3cret", got.header.Get("X-Token"))
		assert.Equal(t, "application/json", got.header.Get("Content-Type"))
		assert.Equal(t, "CronPulse/test", got.header.Get("User-Agent"))
		assert.Equal(t, `{"hello":"world"}`, got.body)

		t.Run("a User-Agent header of the job wins", func(t *testing.T) {
			j := newCheck(t, store, p.ID, srv.URL+"/ok", func(r *models.JobRequest) {
				r.Headers = &models.Headers{"User-Agent": "mine/1.0"}
			})
			_, err := e.Trigger(t.Context(), j)
			require.NoError(t, err)
			assert.Equal(t, "mine/1.0", rec.get().header.Get("User-Agent"))
		})
	})
}

func TestHTTPCheckRefusesPrivateAddresses(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, store *models.Store) {
		srv, rec := newTarget(t)
		e := newEngine(t, store, nil, func(o *Options) { o.AllowPrivate = false })
		p := newProject(t, store)
		// "localhost" resolves to 127.0.0.1: the check happens after DNS, at
		// dial time, so a name is no way around it.
		url := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1) + "/ok"
		for _, u := range []string{srv.URL + "/ok", url} {
			j := newCheck(t, store, p.ID, u, nil)
			run, err := e.Trigger(t.Context(), j)
			require.NoError(t, err)
			assert.Equal(t, models.RunError, run.Result)
			assert.Contains(t, run.Error, "refused: ")
			assert.Contains(t, run.Error, "CHECK_ALLOW_PRIVATE")
		}
		assert.Empty(t, rec.get().paths, "no request reached the target")
	})
}

func TestRefusePrivate(t *testing.T) {
	for addr, refused := range map[string]bool{
		"127.0.0.1:80":          true,
		"10.1.2.3:443":          true,
		"172.16.0.1:80":         true,
		"192.168.1.1:80":        true,
		"169.254.169.254:80":    true, // cloud metadata
		"[::1]:80":              true,
		"[fe80::1]:80":          true,
		"[fd00::1]:80":          true,
		"0.0.0.0:80":            true,
		"[::ffff:127.0.0.1]:80": true,
		"93.184.216.34:80":      false,
		"[2606:4700::1]:443":    false,
	} {
		t.Run(addr, func(t *testing.T) {
			err := refusePrivate("tcp", addr, nil)
			assert.Equal(t, refused, err != nil, addr)
		})
	}
}
