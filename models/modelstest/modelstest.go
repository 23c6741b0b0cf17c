// Package modelstest opens real databases for tests: a SQLite file in a
// temporary directory always, and PostgreSQL when
// CRONPULSE_TEST_DATABASE_URL is set (each test in a schema of its own, so
// tests and packages can run in parallel).
package modelstest

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cronpulse/cronpulse/migrations"
	"github.com/cronpulse/cronpulse/models"
	"github.com/stretchr/testify/require"
)

// EnvPostgres names the variable that points the tests at PostgreSQL.
const EnvPostgres = "CRONPULSE_TEST_DATABASE_URL"

// Database is one database a test can run on.
type Database struct {
	Name string // "sqlite" or "postgres"
	URL  string // a DATABASE_URL that reaches it (for tests that start a server)
}

// Databases returns the databases available to this test run. In CI
// (CI=true) a missing PostgreSQL is a failure, not a skip.
func Databases(t testing.TB) []Database {
	t.Helper()
	dbs := []Database{{Name: "sqlite", URL: filepath.Join(t.TempDir(), "cronpulse.db")}}
	if pg := os.Getenv(EnvPostgres); pg != "" {
		dbs = append(dbs, Database{Name: "postgres", URL: freshSchema(t, pg)})
	} else if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not set in CI: the PostgreSQL tests would not run", EnvPostgres)
	}
	return dbs
}

// Each runs fn once per database, as a subtest named after it, with a
// migrated store.
func Each(t *testing.T, fn func(t *testing.T, store *models.Store)) {
	t.Helper()
	for _, db := range Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			fn(t, Open(t, db.URL, nil))
		})
	}
}

// Open connects to url, applies the migrations and returns a store using
// clock (nil: time.Now). The connection closes when the test ends.
func Open(t testing.TB, dbURL string, clock func() time.Time) *models.Store {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, dialect, err := models.Open(dbURL, log)
	require.NoError(t, err)
	t.Cleanup(func() { _ = models.Close(db) }) // closing twice is harmless
	_, err = migrations.Apply(db, log)
	require.NoError(t, err)
	return models.NewStore(db, dialect, clock)
}

// freshSchema creates an empty schema for this test and returns a URL whose
// search_path selects it; the schema is dropped when the test ends.
func freshSchema(t testing.TB, base string) string {
	t.Helper()
	u, drop, err := ScratchSchema(base, "t", slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err, "scratch schema in %s", EnvPostgres)
	t.Cleanup(func() {
		if err := drop(); err != nil {
			t.Logf("%v", err)
		}
	})
	return u
}
