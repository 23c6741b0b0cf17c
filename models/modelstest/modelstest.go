// Package modelstest opens real databases for tests: a SQLite file in a
// temporary directory, and PostgreSQL at CRONPULSE_TEST_DATABASE_URL (each
// test in a schema of its own, so tests and packages can run in parallel).
// Without that variable the PostgreSQL subtests are skipped, naming it.
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
	// URL is a DATABASE_URL that reaches it (for tests that start a
	// server); empty for PostgreSQL when CRONPULSE_TEST_DATABASE_URL is
	// unset.
	URL string
}

// SkipIfMissing skips the test when db is PostgreSQL and
// CRONPULSE_TEST_DATABASE_URL is unset. A test that runs on db calls it
// first (Open and NewCutProxy call it too), so a missing PostgreSQL shows up
// as a skipped "postgres" subtest, which .ci/run refuses, and never as a
// test that silently ran on SQLite alone.
func (db Database) SkipIfMissing(t testing.TB) {
	t.Helper()
	if db.URL == "" {
		t.Skipf("%s is not set: no PostgreSQL to run on", EnvPostgres)
	}
}

// Databases returns the databases every database test runs on: a SQLite
// file, and PostgreSQL (a schema of its own, dropped when t ends). The
// PostgreSQL entry is always there; when CRONPULSE_TEST_DATABASE_URL is
// unset its URL is empty and the subtest using it must skip (see
// SkipIfMissing, Run).
func Databases(t testing.TB) []Database {
	t.Helper()
	return []Database{{Name: "sqlite", URL: filepath.Join(t.TempDir(), "cronpulse.db")}, postgres(t)}
}

// postgres is the PostgreSQL entry of Databases.
func postgres(t testing.TB) Database {
	t.Helper()
	db := Database{Name: "postgres"}
	if base := os.Getenv(EnvPostgres); base != "" {
		db.URL = freshSchema(t, base)
	}
	return db
}

// Postgres returns the PostgreSQL database, for a test that is about
// PostgreSQL alone, or skips t when CRONPULSE_TEST_DATABASE_URL is unset.
// Call it inside a subtest named "postgres".
func Postgres(t testing.TB) Database {
	t.Helper()
	db := postgres(t)
	db.SkipIfMissing(t)
	return db
}

// Run runs fn once per database, as a subtest named after it; the
// "postgres" subtest is skipped when CRONPULSE_TEST_DATABASE_URL is unset.
func Run(t *testing.T, fn func(t *testing.T, db Database)) {
	t.Helper()
	for _, db := range Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			db.SkipIfMissing(t)
			fn(t, db)
		})
	}
}

// Each runs fn once per database, as a subtest named after it, with a
// migrated store.
func Each(t *testing.T, fn func(t *testing.T, store *models.Store)) {
	t.Helper()
	Run(t, func(t *testing.T, db Database) {
		fn(t, Open(t, db.URL, nil))
	})
}

// Open connects to url, applies the migrations and returns a store using
// clock (nil: time.Now). The connection closes when the test ends. An empty
// dbURL is a missing PostgreSQL: t is skipped.
func Open(t testing.TB, dbURL string, clock func() time.Time) *models.Store {
	t.Helper()
	Database{URL: dbURL}.SkipIfMissing(t)
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
