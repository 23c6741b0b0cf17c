package indoubt_test

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/cronpulse/cronpulse/models/indoubt"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConnectionLost tells the errors of a lost connection from those the
// server reported and from a context that was done before a statement.
func TestConnectionLost(t *testing.T) {
	cases := []struct {
		name string
		err  error
		lost bool
	}{
		{"server error", &pgconn.PgError{Code: "23505"}, false},
		{"wrapped server error", fmt.Errorf("insert: %w", &pgconn.PgError{Code: "40001"}), false},
		{"unexpected EOF", fmt.Errorf("commit: %w", io.ErrUnexpectedEOF), true},
		{"EOF", io.EOF, true},
		{"closed network connection", net.ErrClosed, true},
		{"bad connection", driver.ErrBadConn, true},
		{"network error", &net.OpError{Op: "read", Err: errors.New("connection reset by peer")}, true},
		{"context done before the statement", context.DeadlineExceeded, false},
		{"own error", errors.New("encode 3 pings: bad value"), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.lost, indoubt.ConnectionLost(c.err))
		})
	}
}

// TestMayHaveCommitted: only PostgreSQL has writes in doubt, and not when
// the server reported the error.
func TestMayHaveCommitted(t *testing.T) {
	pg, lite := indoubt.New(nil, true), indoubt.New(nil, false)
	lost := fmt.Errorf("commit: %w", io.ErrUnexpectedEOF)
	assert.True(t, pg.MayHaveCommitted(lost))
	assert.False(t, pg.MayHaveCommitted(&pgconn.PgError{Code: "22012"}))
	assert.False(t, pg.MayHaveCommitted(nil))
	assert.False(t, lite.MayHaveCommitted(lost))
}

// TestSettle reads what the look found: all rows stored, none, some (which
// a single transaction cannot leave, so it is in doubt), or a look that
// failed for a reason other than the connection.
func TestSettle(t *testing.T) {
	s := indoubt.New(nil, true)
	// A server error carries no lost connection, so no server process is
	// ended and the settling goes straight to the look.
	writeErr := &pgconn.PgError{Code: "57014"}
	cases := []struct {
		name      string
		found     int
		lookErr   error
		stored    bool
		wantDoubt bool
	}{
		{"all stored", 3, nil, true, false},
		{"none stored", 0, nil, false, false},
		{"some stored", 2, nil, false, true},
		{"look failed", 0, &pgconn.PgError{Code: "42P01"}, false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			looks := 0
			stored, err := s.Settle(nil, writeErr, 3, func() (int, error) { looks++; return c.found, c.lookErr })
			assert.Equal(t, 1, looks, "looked once")
			assert.Equal(t, c.stored, stored)
			if c.wantDoubt {
				require.Error(t, err)
				assert.ErrorIs(t, err, indoubt.ErrInDoubt)
				assert.ErrorIs(t, err, writeErr, "the write's own error is kept")
			} else {
				assert.NoError(t, err)
			}
		})
	}
}

// TestWithBackend marks an error only with a known server process, and the
// mark keeps the error it wraps.
func TestWithBackend(t *testing.T) {
	base := io.ErrUnexpectedEOF
	assert.Same(t, base, indoubt.WithBackend(base, indoubt.Backend{}), "unknown process: unchanged")
	marked := indoubt.WithBackend(base, indoubt.Backend{PID: 42})
	assert.NotSame(t, base, marked)
	assert.ErrorIs(t, marked, base)
	assert.Nil(t, indoubt.WithBackend(nil, indoubt.Backend{PID: 42}))
}
