package models

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/libtnb/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Dialect names the database behind a *gorm.DB.
type Dialect string

// The two supported databases.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// IsPostgresURL reports whether a DATABASE_URL selects PostgreSQL.
func IsPostgresURL(url string) bool {
	return strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://")
}

// Open connects to the database named by url: a postgres:// or
// postgresql:// URL selects PostgreSQL, anything else is a SQLite file path
// (an optional "sqlite:" prefix is allowed).
//
// SQLite runs in WAL mode with a busy timeout and foreign keys on, and every
// transaction starts IMMEDIATE: a deferred transaction that reads and then
// writes can fail with SQLITE_BUSY without waiting, which an immediate one
// cannot. Temporary files (statement journals, sorts) stay in memory.
//
// The SQLite driver is modernc.org/sqlite (pure Go, no cgo) through the
// libtnb/sqlite GORM dialector rather than glebarez/sqlite, whose older fork
// of the driver parses a prepared statement again on every execution
// (BENCHMARKS.md, Pings).
func Open(url string, log *slog.Logger) (*gorm.DB, Dialect, error) {
	cfg := &gorm.Config{
		Logger:                 newGormLogger(log),
		SkipDefaultTransaction: true,
		NowFunc:                func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
		TranslateError:         true,
	}
	if IsPostgresURL(url) {
		db, err := gorm.Open(postgres.Open(url), cfg)
		if err != nil {
			return nil, "", fmt.Errorf("open postgres: %w", err)
		}
		sqlDB, err := db.DB()
		if err != nil {
			return nil, "", err
		}
		sqlDB.SetMaxOpenConns(20)
		sqlDB.SetMaxIdleConns(20)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
		return db, Postgres, nil
	}
	path := strings.TrimPrefix(url, "sqlite:")
	if path == "" {
		return nil, "", fmt.Errorf("DATABASE_URL is empty")
	}
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	dsn := path + sep + "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_pragma=temp_store(MEMORY)&_txlock=immediate"
	db, err := gorm.Open(sqlite.Open(dsn), cfg)
	if err != nil {
		return nil, "", fmt.Errorf("open sqlite %s: %w", path, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, "", err
	}
	// SQLite has one writer at a time; a small pool keeps readers concurrent
	// without piling up connections that only wait on the write lock.
	sqlDB.SetMaxOpenConns(8)
	sqlDB.SetMaxIdleConns(8)
	return db, SQLite, nil
}

// PingDB checks that the database answers, for /readyz.
func PingDB(ctx context.Context, db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// Close closes the connection pool.
func Close(db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// newGormLogger routes GORM's own messages (slow queries, errors) to slog.
// Record-not-found is a normal outcome here, not a log line.
func newGormLogger(log *slog.Logger) logger.Interface {
	return logger.NewSlogLogger(log, logger.Config{
		SlowThreshold:             500 * time.Millisecond,
		IgnoreRecordNotFoundError: true,
		LogLevel:                  logger.Warn,
		ParameterizedQueries:      true,
	})
}

// IsUnavailable reports whether err means the database could not be
// reached or was too busy to answer, as opposed to a bad query: the API
// answers 503 for these so that clients retry.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// 08: connection exception; 53: insufficient resources; 57P: operator intervention (shutdown).
		return strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "53") || strings.HasPrefix(pgErr.Code, "57P")
	}
	msg := err.Error()
	return strings.Contains(msg, "database is locked") || strings.Contains(msg, "SQLITE_BUSY") ||
		strings.Contains(msg, "sql: database is closed")
}
