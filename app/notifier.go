package app

import (
	"fmt"
	"log/slog"

	"github.com/cronpulse/cronpulse/models"
)

// notifierConns caps the notifier's own connection pool.
const notifierConns = 4

// openNotifierStore opens a second, small connection pool on the same
// database for the notifier. On SQLite every writer waiting for the single
// write lock holds a pooled connection while it waits, so a burst of flips
// (or pings, or API writes) can hold the whole shared pool, and alerts
// would wait behind the very flips they announce. With connections of its
// own the notifier's reads (and its occasional claims) go through at once
// (BENCHMARKS.md, Notifications). The returned func closes the pool.
func (s *Service) openNotifierStore() (*models.Store, func(), error) {
	db, dialect, err := models.Open(s.Config.DatabaseURL, s.Log)
	if err != nil {
		return nil, nil, fmt.Errorf("open the notifier's connections: %w", err)
	}
	if sqlDB, err := db.DB(); err == nil {
		sqlDB.SetMaxOpenConns(notifierConns)
		sqlDB.SetMaxIdleConns(notifierConns)
	}
	closeFn := func() {
		if err := models.Close(db); err != nil {
			s.Log.Warn("close the notifier's connections", slog.Any("error", err))
		}
	}
	return models.NewStore(db, dialect, nil), closeFn, nil
}
