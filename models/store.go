// Package models holds CronPulse's entities, their validation, and the
// store: every GORM call in the program lives in this package.
package models

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/cronpulse/cronpulse/models/indoubt"
	"gorm.io/gorm"
)

// Store reads and writes every entity. It is safe for concurrent use.
type Store struct {
	db      *gorm.DB
	dialect Dialect
	now     func() time.Time
	// flipped, when set, hears of each flip this process writes (see
	// SetFlipListener): it wakes the notifier.
	flipped atomic.Pointer[FlipListener]
	// inDoubt settles the writes that a lost PostgreSQL connection leaves
	// in doubt, for the check-run writer and the ping writer.
	inDoubt *indoubt.Settler
	// schedules caches parsed schedules for the watchdog and job reads.
	schedules ScheduleCache
}

// NewStore wraps an opened database. now is the clock used for timestamps
// (time.Now in production, a fake one in tests); nil means time.Now.
func NewStore(db *gorm.DB, dialect Dialect, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	// GORM stamps UpdatedAt itself on Save; let it read the store's clock so
	// that every timestamp follows an injected clock.
	db = db.Session(&gorm.Session{NowFunc: func() time.Time { return now().UTC().Truncate(time.Microsecond) }})
	return &Store{db: db, dialect: dialect, now: now, inDoubt: indoubt.New(db, dialect == Postgres)}
}

// InDoubt returns what settles the store's writes in doubt (see package
// indoubt).
func (s *Store) InDoubt() *indoubt.Settler { return s.inDoubt }

// DB returns the underlying handle, for migrations and health checks.
func (s *Store) DB() *gorm.DB { return s.db }

// Dialect returns which database the store talks to.
func (s *Store) Dialect() Dialect { return s.dialect }

// Now returns the store's clock reading, in UTC at microsecond precision
// (what both databases keep).
func (s *Store) Now() time.Time {
	return s.now().UTC().Truncate(time.Microsecond)
}

// Page selects one page of a list ordered by id: the items after Cursor (an
// id; "" for the first page), at most Limit of them.
type Page struct {
	Cursor string
	Limit  int
}

// paged orders q by id and keeps the page after page.Cursor.
func paged(q *gorm.DB, page Page) *gorm.DB {
	q = q.Order("id").Limit(page.Limit)
	if page.Cursor != "" {
		q = q.Where("id > ?", page.Cursor)
	}
	return q
}

// translate maps GORM's errors onto the store's own.
func translate(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound):
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return fmt.Errorf("%s: %w", what, ErrConflict)
	default:
		return fmt.Errorf("%s: %w", what, err)
	}
}

// distinctKeys returns the keys of items, each once, in first-seen order.
func distinctKeys[T any](items []T, key func(T) string) []string {
	out := make([]string, 0, len(items))
	seen := make(map[string]bool, len(items))
	for _, it := range items {
		if k := key(it); !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}
