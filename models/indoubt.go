package models

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
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"
)

// Writes in doubt. On PostgreSQL an error the server did not report (the
// connection broke, was closed or timed out) may come after the server
// committed, or before it does: the server process behind the lost
// connection may still be running the write (waiting on a row lock, say)
// and commit it later. A writer that retried at once would then store its
// rows twice: pings under new serials, check runs counted twice against a
// job's failure threshold. So a writer that records its connection's
// server process (backendSQL, in the write's transaction) hands the error
// to settleWrite, which ends that process (pg_terminate_backend) and waits
// for it to be gone, after which its transaction has committed or never
// will, and then looks for the rows.

// backend is a PostgreSQL server process: its pid, and a time it was
// already running at (a pid alone may be reused by a later process). The
// zero backend is an unknown one.
type backend struct {
	pid int64
	at  time.Time
}

// backendSQL reads the backend of the connection it runs on.
const backendSQL = `SELECT pg_backend_pid(), now()`

// identify reads the server process behind conn, and whether PostgreSQL is
// behind a pooler that lends server connections per transaction
// (PgBouncer's transaction mode): there the process that runs one
// statement may serve another client at the next, and ending it would hurt
// that client. Such a pooler gives the client a process id of its own when
// it connects, so the one the server reports differs; then the store
// records it (Store.pooled; changed says it was not known so before), and
// identify returns the zero backend.
func (s *Store) identify(conn *sql.Conn) (b backend, changed bool, err error) {
	err = conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("not a pgx connection: %T", dc)
		}
		if err := sc.Conn().QueryRow(context.Background(), backendSQL).Scan(&b.pid, &b.at); err != nil {
			return fmt.Errorf("read the connection's server process: %w", err)
		}
		pooled := uint32(b.pid) != sc.Conn().PgConn().PID()
		changed = s.pooled.Swap(pooled) != pooled
		s.poolerKnown.Store(true)
		if pooled {
			b = backend{}
		}
		return nil
	})
	return b, changed, err
}

// knowPooler makes sure the store knows whether PostgreSQL is behind a
// pooler (see identify), asking on a connection of the pool if it does not
// yet. Writers call it before their transaction, not inside it: there it
// would hold the transaction's connection while it waits for another.
func (s *Store) knowPooler() {
	if s.dialect != Postgres || s.poolerKnown.Load() {
		return
	}
	s.poolerAsk.Lock()
	defer s.poolerAsk.Unlock()
	if s.poolerKnown.Load() {
		return
	}
	sqlDB, err := s.db.DB()
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), connWait)
	defer cancel()
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return // asked again at the next write
	}
	defer conn.Close()
	_, _, _ = s.identify(conn) // sets poolerKnown when it could tell
}

// recordBackend reads the server process of tx's connection into b, on
// PostgreSQL when it is known not to be behind a pooler (knowPooler, called
// before the transaction); otherwise b stays unknown and a lost write's
// process is not ended.
func (s *Store) recordBackend(tx *gorm.DB, b *backend) error {
	if s.dialect != Postgres || !s.poolerKnown.Load() || s.pooled.Load() {
		return nil
	}
	if err := tx.Raw(backendSQL).Row().Scan(&b.pid, &b.at); err != nil {
		return fmt.Errorf("read the connection's server process: %w", err)
	}
	return nil
}

// withBackend marks err as an error of a write on the connection to b, if
// b is known.
func withBackend(err error, b backend) error {
	if err == nil || b.pid == 0 {
		return err
	}
	return &backendError{backend: b, err: err}
}

// backendError is an error of a write on the connection to backend.
type backendError struct {
	backend backend
	err     error
}

func (e *backendError) Error() string { return e.err.Error() }
func (e *backendError) Unwrap() error { return e.err }

// connectionLost reports whether err says the connection to PostgreSQL
// broke, closed or timed out (rather than the server refusing a statement,
// or the writer's own code failing): pgconn's connection errors (they say
// whether a retry is safe), the network's, an unexpected EOF, a timeout
// in the middle of a statement (pgconn's: pgx closes the connection then).
// A deadline that passes between statements is not one: database/sql rolls
// the transaction back and the connection, healthy, goes back to the pool.
func connectionLost(err error) bool {
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

// mayHaveCommitted reports whether a write on s that failed with err may
// have committed all the same: on PostgreSQL, unless the server reported
// the error. (SQLite runs in process: its commit happened or did not.)
func (s *Store) mayHaveCommitted(err error) bool {
	var pgErr *pgconn.PgError
	return s.dialect == Postgres && err != nil && !errors.As(err, &pgErr)
}

// ErrInDoubt marks a write of which it cannot be told whether it is stored.
var ErrInDoubt = errors.New("whether the write was stored is unknown")

// settleWrite tells whether a write that failed with err (for which
// mayHaveCommitted holds) committed: look counts how many of the want rows
// it would have stored are there. It returns true if all are, false if
// none is (a retry is safe), and an error wrapping ErrInDoubt if it cannot
// tell. If the connection was lost and err carries its server process
// (backendError), the process is ended first; if it carries none (behind a
// pooler, see Store.pooled), a write still running there could commit
// after the look, and log (if not nil) says so.
//
// A database that cannot be reached for a moment (a failover, a restart) is
// asked again, every 100 ms for up to connWait, before the write is given
// up as in doubt.
func (s *Store) settleWrite(log *slog.Logger, err error, want int, look func() (int, error)) (bool, error) {
	deadline := time.Now().Add(connWait)
	again := func(err error) bool {
		if !connectionLost(err) || time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
		return true
	}
	if connectionLost(err) {
		var be *backendError
		if errors.As(err, &be) && be.backend.pid != 0 {
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

// endBackend terminates b if it is still running and waits, up to
// connWait, until it is gone.
func (s *Store) endBackend(b backend) error {
	ctx, cancel := context.WithTimeout(context.Background(), connWait)
	defer cancel()
	for {
		var running int
		err := s.db.WithContext(ctx).Raw(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE pid = ? AND backend_start <= ?`,
			b.pid, b.at).Row().Scan(&running)
		if err != nil {
			return fmt.Errorf("end server process %d: %w", b.pid, err)
		}
		if running == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("server process %d still running after %s", b.pid, connWait)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// countStored runs q, a count over the rows of batch passed as one JSON
// parameter (what names them in errors), for settleWrite's look.
func (s *Store) countStored(what, q string, batch [][]any) (int, error) {
	arg, err := json.Marshal(batch)
	if err != nil {
		return 0, fmt.Errorf("encode %d %s: %w", len(batch), what, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), connWait)
	defer cancel()
	var n int
	if err := s.db.WithContext(ctx).Raw(q, string(arg)).Row().Scan(&n); err != nil {
		return 0, fmt.Errorf("look for %d %s: %w", len(batch), what, err)
	}
	return n, nil
}
