// Package migrations holds CronPulse's versioned, forward-only schema
// changes. Each one runs in its own transaction and yields the same schema on
// SQLite and PostgreSQL; the few type names that differ are written as
// placeholders that Apply fills in per database.
package migrations

import (
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Migration is one schema change.
type Migration struct {
	Version int
	Name    string
	// SQL is a list of statements with placeholders: {{id}} for an
	// auto-incrementing 64-bit primary key, {{ts}} for a timestamp,
	// {{without_rowid}} after a table stored in its key's order (SQLite).
	SQL []string
	// Postgres lists statements run after SQL on PostgreSQL only, for the
	// rare change that one database needs and the other does not; the
	// migration says why.
	Postgres []string
	// Go, if set, runs after the statements in the same transaction, for
	// the rare change SQL cannot make alike on both databases (random
	// values from crypto/rand); the migration says why.
	Go func(tx *gorm.DB) error
}

// All lists every migration in the order it is applied. Append only: a
// version that has shipped is never edited.
var All = []Migration{
	initial,
	heartbeats,
	checkDue,
	notifications,
	pingWrites,
	stats,
	badges,
	jobFilters,
	sessions,
	statusPages,
}

var placeholders = map[string]map[string]string{
	"sqlite": {
		"{{id}}": "INTEGER PRIMARY KEY AUTOINCREMENT",
		"{{ts}}": "datetime",
		// Keyed tables whose key is the whole point: stored in key order.
		"{{without_rowid}}": "WITHOUT ROWID",
	},
	"postgres": {
		"{{id}}":            "BIGSERIAL PRIMARY KEY",
		"{{ts}}":            "timestamptz",
		"{{without_rowid}}": "",
	},
}

// render fills in the placeholders of stmt for dialect.
func render(stmt, dialect string) string {
	for k, v := range placeholders[dialect] {
		stmt = strings.ReplaceAll(stmt, k, v)
	}
	return stmt
}

// advisoryLockKey serialises migrations across instances sharing PostgreSQL.
const advisoryLockKey = 72_617_001

// Apply runs every migration not yet recorded in schema_migrations, each in
// its own transaction, and returns how many it applied.
func Apply(db *gorm.DB, log *slog.Logger) (int, error) {
	return applyThrough(db, log, math.MaxInt)
}

// applyThrough is Apply stopping after version last (tests of a
// migration's backfill start from the schema before it).
func applyThrough(db *gorm.DB, log *slog.Logger, last int) (int, error) {
	dialect := db.Dialector.Name()
	if _, ok := placeholders[dialect]; !ok {
		return 0, fmt.Errorf("migrations: unsupported database %q", dialect)
	}
	create := render(`CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY,
		name text NOT NULL,
		applied_at {{ts}} NOT NULL)`, dialect)
	if err := db.Exec(create).Error; err != nil {
		return 0, fmt.Errorf("create schema_migrations: %w", err)
	}
	applied := 0
	for _, m := range ordered(All) {
		if m.Version > last {
			break
		}
		done, err := applyOne(db, dialect, m)
		if err != nil {
			return applied, err
		}
		if done {
			applied++
			log.Info("migration applied", slog.Int("version", m.Version), slog.String("name", m.Name))
		}
	}
	return applied, nil
}

// ordered returns ms sorted by version. Migrations are appended to All by
// whoever writes them, not always in version order; applying them by
// version gives every fresh database the same history.
func ordered(ms []Migration) []Migration {
	out := slices.Clone(ms)
	slices.SortFunc(out, func(a, b Migration) int { return a.Version - b.Version })
	return out
}

// applyOne runs m unless it is already recorded. On PostgreSQL a
// transaction-scoped advisory lock makes concurrent starts take turns.
func applyOne(db *gorm.DB, dialect string, m Migration) (bool, error) {
	done := false
	err := db.Transaction(func(tx *gorm.DB) error {
		if dialect == "postgres" {
			if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", advisoryLockKey).Error; err != nil {
				return fmt.Errorf("lock: %w", err)
			}
		}
		var n int64
		if err := tx.Table("schema_migrations").Where("version = ?", m.Version).Count(&n).Error; err != nil {
			return fmt.Errorf("read schema_migrations: %w", err)
		}
		if n > 0 {
			return nil
		}
		stmts := m.SQL
		if dialect == "postgres" {
			stmts = append(slices.Clone(stmts), m.Postgres...)
		}
		for _, stmt := range stmts {
			if err := tx.Exec(render(stmt, dialect)).Error; err != nil {
				return fmt.Errorf("%s", firstLine(stmt)+": "+err.Error())
			}
		}
		if m.Go != nil {
			if err := m.Go(tx); err != nil {
				return err
			}
		}
		if err := tx.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
			m.Version, m.Name, time.Now().UTC()).Error; err != nil {
			return fmt.Errorf("record: %w", err)
		}
		done = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("migration %04d %s: %w", m.Version, m.Name, err)
	}
	return done, nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i > 0 {
		return s[:i]
	}
	return s
}
