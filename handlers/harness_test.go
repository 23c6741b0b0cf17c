package handlers_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cronpulse/cronpulse/app"
	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/gofiber/fiber/v2"
	"github.com/stretchr/testify/require"
)

// env is one CronPulse application on one database, driven with app.Test.
type env struct {
	t     testing.TB
	db    modelstest.Database
	cfg   *app.Config
	store *models.Store
	app   *fiber.App
	admin string // a key with "*"
}

// quietLog discards log output; tests assert on responses, not logs.
func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newEnv builds the application on db. tune, if not nil, adjusts the
// configuration before the app is built (a small API_RATE_LIMIT, say).
func newEnv(t testing.TB, db modelstest.Database, tune func(*app.Config)) *env {
	t.Helper()
	return newEnvAt(t, db, tune, nil)
}

// newEnvAt is newEnv with the store and API reading the time from clock
// (nil: time.Now).
func newEnvAt(t testing.TB, db modelstest.Database, tune func(*app.Config), clock func() time.Time) *env {
	t.Helper()
	return newEnvWith(t, db, tune, app.Deps{Now: clock})
}

// newEnvWith is newEnv with the application built from d (hooks, a
// clock); its Store and Log are filled in, and d.Now is the store's clock
// too.
func newEnvWith(t testing.TB, db modelstest.Database, tune func(*app.Config), d app.Deps) *env {
	t.Helper()
	cfg := app.TestConfig(db.URL)
	cfg.APIRateLimit = 1_000_000 // tests that exercise the limit set their own
	if tune != nil {
		tune(cfg)
	}
	store := modelstest.Open(t, db.URL, d.Now)
	d.Store, d.Log = store, quietLog()
	f := app.New(cfg, d)
	e := &env{t: t, db: db, cfg: cfg, store: store, app: f}
	e.admin = e.key("admin", models.PermAll)
	return e
}

// eachEnv runs fn on every available database, as subtests.
func eachEnv(t *testing.T, tune func(*app.Config), fn func(t *testing.T, e *env)) {
	t.Helper()
	for _, db := range modelstest.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			db.SkipIfMissing(t)
			fn(t, newEnv(t, db, tune))
		})
	}
}

// run runs fn as t's subtest name, with e's helpers reporting to the
// subtest while it runs (subtests of one env run one at a time).
func (e *env) run(t *testing.T, name string, fn func(t *testing.T)) {
	t.Helper()
	t.Run(name, func(t *testing.T) {
		parent := e.t
		e.t = t
		defer func() { e.t = parent }()
		fn(t)
	})
}

// key creates an API key with the given permissions and returns its secret.
func (e *env) key(name string, perms ...string) string {
	e.t.Helper()
	_, secret, err := e.store.CreateAPIKey(name, perms)
	require.NoError(e.t, err)
	return secret
}

// response is what a test looks at.
type response struct {
	Code   int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test if it is not JSON.
func (r response) JSON(t testing.TB, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.Body, v), "body: %s", r.Body)
}

// Error returns the "error" member of a JSON error body, failing the test if
// the body is not {"error": "..."} with a non-empty message.
func (r response) Error(t testing.TB) string {
	t.Helper()
	var body map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &body), "error body must be JSON: %s", r.Body)
	msg, ok := body["error"].(string)
	require.True(t, ok, "error body must carry an error string: %s", r.Body)
	require.NotEmpty(t, msg)
	return msg
}

// do sends one request. body "" sends none; a non-empty body is sent as
// application/json unless headers say otherwise. headers are name, value
// pairs.
func (e *env) do(method, path, key, body string, headers ...string) response {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := e.app.Test(req, -1)
	require.NoError(e.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(e.t, err)
	return response{Code: res.StatusCode, Header: res.Header, Body: b}
}

// mustCreate POSTs body to path with the admin key, requires 201 and returns
// the new resource's id.
func (e *env) mustCreate(path, body string) string {
	e.t.Helper()
	r := e.do("POST", "/api/v1"+path, e.admin, body)
	require.Equal(e.t, http.StatusCreated, r.Code, "POST %s: %s", path, r.Body)
	var out struct {
		ID string `json:"id"`
	}
	r.JSON(e.t, &out)
	require.NotEmpty(e.t, out.ID)
	return out.ID
}

// project creates a project and returns its id.
func (e *env) project(name string) string {
	e.t.Helper()
	return e.mustCreate("/projects", `{"name":`+quote(name)+`,"url":"https://example.com"}`)
}

// job creates an HTTP-check job in project and returns its id.
func (e *env) job(projectID, name string) string {
	e.t.Helper()
	return e.mustCreate("/jobs", `{"name":`+quote(name)+`,"projectId":`+quote(projectID)+
		`,"url":"https://example.com/health","method":"GET","schedule":"*/5 * * * *"}`)
}

// count returns how many rows a table holds.
func (e *env) count(table string) int64 {
	e.t.Helper()
	var n int64
	require.NoError(e.t, e.store.DB().Table(table).Count(&n).Error)
	return n
}

// counts snapshots the row counts of the tables the API writes.
func (e *env) counts() map[string]int64 {
	e.t.Helper()
	out := map[string]int64{}
	for _, table := range []string{"projects", "jobs", "api_keys"} {
		out[table] = e.count(table)
	}
	return out
}

func quote(s string) string {
	b, _ := json.Marshal(s) // marshalling a string cannot fail
	return string(b)
}

// sqliteOnly is a fresh SQLite database, for tests about the application's
// shape rather than its storage.
func sqliteOnly(t testing.TB) modelstest.Database {
	t.Helper()
	return modelstest.Database{Name: "sqlite", URL: filepath.Join(t.TempDir(), "cronpulse.db")}
}
