package pingwriter

import (
	"errors"
	"log/slog"

	"github.com/cronpulse/cronpulse/models"
)

// inDoubt settles a batch whose write failed with err before it is
// retried: a write on PostgreSQL that may have committed all the same (see
// package indoubt) is looked for, and the batch answered as stored if it is
// there, 503 if that cannot be told, and retried (not settled) if it is
// not. An error the server reported, an error on SQLite and a fast-path
// miss are never in doubt.
func (w *Writer) inDoubt(batch []*pendingPing, err error) (settled bool, _ error) {
	if !w.settler.MayHaveCommitted(err) || errors.Is(err, errFastMiss) {
		return false, err
	}
	var rows []*models.Ping
	for _, p := range batch {
		if p.err == nil && p.ping.N > 0 {
			rows = append(rows, &p.ping)
		}
	}
	if len(rows) == 0 {
		return false, err // nothing was planned, so nothing was written
	}
	w.stats.Lock()
	w.stats.InDoubt++
	w.stats.Unlock()
	stored, serr := w.settler.Settle(w.log, err, len(rows), func() (int, error) { return w.pingsStored(rows) })
	switch {
	case serr != nil:
		w.log.Error("ping batch in doubt", slog.Int("pings", len(rows)), slog.Any("error", serr))
		return true, serr
	case stored:
		w.log.Warn("ping batch in doubt was stored", slog.Int("pings", len(rows)), slog.Any("error", err))
		w.stats.Lock()
		w.stats.InDoubtStored++
		w.stats.Unlock()
		return true, nil
	}
	return false, err
}

// pingsStored reports how many of rows (job id, N, kind and time set) are
// stored.
func (w *Writer) pingsStored(rows []*models.Ping) (int, error) {
	batch := make([][]any, len(rows))
	for i, p := range rows {
		batch[i] = []any{p.JobID, p.N, p.Kind, w.store.BatchTime(&p.CreatedAt), p.RID, p.BodySize, p.Method, p.RemoteAddr, p.UserAgent}
	}
	return w.settler.CountStored("pings", pingsStoredSQL, batch)
}
