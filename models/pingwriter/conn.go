package pingwriter

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"

	"github.com/cronpulse/cronpulse/models/indoubt"
)

// heldConn is a connection a fast path takes from the store's pool at its
// first batch and keeps until the writer closes (or an error makes it
// suspect), with session settings of its own that are undone before it goes
// back.
type heldConn struct {
	*sql.Conn
	reset string // statement that undoes the session settings
}

// holdConn takes a connection from the store's pool and runs setup on it.
func (w *Writer) holdConn(setup, reset string) (*heldConn, error) {
	sqlDB, err := w.db.DB()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), indoubt.Wait)
	defer cancel()
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("take a connection for the ping writer: %w", err)
	}
	h := &heldConn{Conn: conn, reset: reset}
	if _, err := conn.ExecContext(ctx, setup); err != nil {
		h.release(err)
		return nil, fmt.Errorf("set up the ping writer's connection: %w", err)
	}
	return h, nil
}

// release gives the connection back to the pool with its settings undone,
// or, after cause (an error that may have left it inside a transaction, or
// broken), discards it.
func (h *heldConn) release(cause error) {
	if cause == nil {
		ctx, cancel := context.WithTimeout(context.Background(), indoubt.Wait)
		defer cancel()
		if _, err := h.ExecContext(ctx, h.reset); err != nil {
			cause = err
		}
	}
	if cause != nil {
		_ = h.Raw(func(any) error { return driver.ErrBadConn }) // makes database/sql close it
	}
	_ = h.Close() // after a discard this reports it; nothing else to do
}
