// Package indoubt settles writes in doubt on PostgreSQL.
//
// An error the server did not report (the connection broke, was closed or
// timed out) may come after the server committed, or before it does: the
// server process behind the lost connection may still be running the write
// (waiting on a row lock, say) and commit it later. A writer that retried
// at once would then store its rows twice: pings under new serials, check
// runs counted twice against a job's failure threshold. So a writer records
// its connection's server process (Settler.Record, in the write's
// transaction) and hands the error to Settler.Settle, which ends that
// process (pg_terminate_backend), waits for it to be gone, after which its
// transaction has committed or never will, and then looks for the rows.
//
// Both the ping writer and the check-run writer use it.
package indoubt

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"
)

// Wait bounds each wait of the settling: for a connection, for a server
// process to be gone, for a look, and for a database that cannot be reached
// for a moment.
const Wait = 5 * time.Second

// ErrInDoubt marks a write of which it cannot be told whether it is stored.
var ErrInDoubt = errors.New("whether the write was stored is unknown")

// Backend is a PostgreSQL server process: its pid, and a time it was
// already running at (a pid alone may be reused by a later process). The
// zero Backend is an unknown one.
type Backend struct {
	PID int64
	At  time.Time
}

// BackendSQL reads the Backend of the connection it runs on.
const BackendSQL = `SELECT pg_backend_pid(), now()`

// Settler settles the writes in doubt of one database. It is safe for
// concurrent use. On SQLite (postgres false) nothing is ever in doubt: the
// database runs in process, and its commit happened or did not.
type Settler struct {
	db       *gorm.DB
	postgres bool
	// pooled: PostgreSQL sits behind a pooler that lends server
	// connections per transaction, so the server process behind a lost
	// write cannot be known (see Identify) and writers record none.
	pooled atomic.Bool
	known  atomic.Bool // pooled has been asked (see KnowPooler)
	ask    sync.Mutex  // one asks at a time
}

// New returns the Settler of db; postgres says whether db is PostgreSQL.
func New(db *gorm.DB, postgres bool) *Settler {
	return &Settler{db: db, postgres: postgres}
}

// Pooled reports whether PostgreSQL was found behind a transaction pooler.
func (s *Settler) Pooled() bool { return s.pooled.Load() }

// Identify reads the server process behind conn, and whether PostgreSQL is
// behind a pooler that lends server connections per transaction
// (PgBouncer's transaction mode): there the process that runs one statement
// may serve another client at the next, and ending it would hurt that
// client. Such a pooler gives the client a process id of its own when it
// connects, so the one the server reports differs; then the Settler
// records it (changed says it was not known so before), and Identify
// returns the zero Backend.
func (s *Settler) Identify(conn *sql.Conn) (b Backend, changed bool, err error) {
	err = conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("not a pgx connection: %T", dc)
		}
		if err := sc.Conn().QueryRow(context.Background(), BackendSQL).Scan(&b.PID, &b.At); err != nil {
			return fmt.Errorf("read the connection's server process: %w", err)
		}
		pooled := uint32(b.PID) != sc.Conn().PgConn().PID()
		changed = s.pooled.Swap(pooled) != pooled
		s.known.Store(true)
		if pooled {
			b = Backend{}
		}
		return nil
	})
	return b, changed, err
}

// KnowPooler makes sure the Settler knows whether PostgreSQL is behind a
// pooler (see Identify), asking on a connection of the pool if it does not
// yet. Writers call it before their transaction, not inside it: there it
// would hold the transaction's connection while it waits for another.
func (s *Settler) KnowPooler() {
	if !s.postgres || s.known.Load() {
		return
	}
	s.ask.Lock()
	defer s.ask.Unlock()
	if s.known.Load() {
		return
	}
	sqlDB, err := s.db.DB()
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), Wait)
	defer cancel()
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return // asked again at the next write
	}
	defer conn.Close()
	_, _, _ = s.Identify(conn) // sets known when it could tell; otherwise asked again
}

// Record reads the server process of tx's connection into b, on PostgreSQL
// when it is known not to be behind a pooler (KnowPooler, called before the
// transaction); otherwise b stays unknown and a lost write's process is not
// ended.
func (s *Settler) Record(tx *gorm.DB, b *Backend) error {
	if !s.postgres || !s.known.Load() || s.pooled.Load() {
		return nil
	}
	if err := tx.Raw(BackendSQL).Row().Scan(&b.PID, &b.At); err != nil {
		return fmt.Errorf("read the connection's server process: %w", err)
	}
	return nil
}

// WithBackend marks err as an error of a write on the connection to b, if
// b is known.
func WithBackend(err error, b Backend) error {
	if err == nil || b.PID == 0 {
		return err
	}
	return &backendError{backend: b, err: err}
}

// backendError is an error of a write on the connection to backend.
type backendError struct {
	backend Backend
	err     error
}

func (e *backendError) Error() string { return e.err.Error() }
func (e *backendError) Unwrap() error { return e.err }

// ConnectionLost reports whether err says the connection to PostgreSQL
// broke, closed or timed out (rather than the server refusing a statement,
// or the writer's own code failing): pgconn's connection errors (they say
// whether a retry is safe), the network's, an unexpected EOF, a timeout in
// the middle of a statement (pgconn's: pgx closes the connection then). A
// deadline that passes between statements is not one: database/sql rolls
// the transaction back and the connection, healthy, goes back to the pool.
func ConnectionLost(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return pgconn.Timeout(err) // not when pgx refused to start a statement on a done context
	}
	var conn interface{ SafeToRetry() bool }
	var netErr net.Error
	return errors.As(err, &conn) || errors.As(err, &netErr) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, sql.ErrConnDone) || pgconn.Timeout(err)
}

// MayHaveCommitted reports whether a write that failed with err may have
// committed all the same: on PostgreSQL, unless the server reported the
// error.
func (s *Settler) MayHaveCommitted(err error) bool {
	var pgErr *pgconn.PgError
	return s.postgres && err != nil && !errors.As(err, &pgErr)
}

// Settle tells whether a write that failed with err (for which
// MayHaveCommitted holds) committed: look counts how many of the want rows
// it would have stored are there. It returns true if all are, false if none
// is (a retry is safe), and an error wrapping ErrInDoubt if it cannot tell.
// If the connection was lost and err carries its server process
// (WithBackend), the process is ended first; if it carries none (behind a
// pooler), a write still running there could commit after the look, and
// log (if not nil) says so.
//
// A database that cannot be reached for a moment (a failover, a restart) is
// asked again, every 100 ms for up to Wait, before the write is given up as
// in doubt.
func (s *Settler) Settle(log *slog.Logger, err error, want int, look func() (int, error)) (bool, error) {
	deadline := time.Now().Add(Wait)
	again := func(err error) bool {
		if !ConnectionLost(err) || time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
		return true
	}
	if ConnectionLost(err) {
		var be *backendError
		if errors.As(err, &be) && be.backend.PID != 0 {
			for {
				eerr := s.endBackend(be.backend)
				if eerr == nil {
					break
				}
				if !again(eerr) {
					return false, fmt.Errorf("%w: %w (and its server process is not gone: %w)", ErrInDoubt, err, eerr)
				}
			}
		} else if log != nil {
			log.Warn("write in doubt: its server process is unknown, so a write still running there cannot be stopped",
				slog.Any("error", err))
		}
	}
	found, lerr := look()
	for lerr != nil && again(lerr) {
		found, lerr = look()
	}
	switch {
	case lerr != nil:
		return false, fmt.Errorf("%w: %w (and looking for it failed: %w)", ErrInDoubt, err, lerr)
	case found == want:
		return true, nil
	case found == 0:
		return false, nil
	default: // a write is one transaction: this cannot happen, and retrying would store the rest twice
		return false, fmt.Errorf("%w: %w (and %d of its %d rows are stored)", ErrInDoubt, err, found, want)
	}
}

// endBackend terminates b if it is still running and waits, up to Wait,
// until it is gone.
func (s *Settler) endBackend(b Backend) error {
	ctx, cancel := context.WithTimeout(context.Background(), Wait)
	defer cancel()
	for {
		var running int
		err := s.db.WithContext(ctx).Raw(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE pid = ? AND backend_start <= ?`,
			b.PID, b.At).Row().Scan(&running)
		if err != nil {
			return fmt.Errorf("end server process %d: %w", b.PID, err)
		}
		if running == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("server process %d still running after %s", b.PID, Wait)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// CountStored runs q, a count over the rows of batch passed as one JSON
// parameter (what names them in errors), for Settle's look.
func (s *Settler) CountStored(what, q string, batch [][]any) (int, error) {
	arg, err := json.Marshal(batch)
	if err != nil {
		return 0, fmt.Errorf("encode %d %s: %w", len(batch), what, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), Wait)
	defer cancel()
	var n int
	if err := s.db.WithContext(ctx).Raw(q, string(arg)).Row().Scan(&n); err != nil {
		return 0, fmt.Errorf("look for %d %s: %w", len(batch), what, err)
	}
	return n, nil
}
