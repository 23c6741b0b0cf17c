package checker

import (
	"errors"
	"log/slog"
	"time"

	"github.com/cronpulse/cronpulse/models"
)

// The result writer and retention: runs of scheduled checks are stored in
// batches by one goroutine, and old runs are pruned in the background.

// writeResults stores runs in batches: it takes whatever runs are waiting
// when the previous batch is done, so under load one transaction carries
// many runs and when idle each run is stored at once.
func (e *Engine) writeResults() {
	c := &e.check
	defer close(c.writerDone)
	batch := make([]*models.CheckRun, 0, writerBatch)
	for run := range c.results {
		batch = append(batch[:0], run)
	drain:
		for len(batch) < writerBatch {
			select {
			case r, ok := <-c.results:
				if !ok {
					break drain
				}
				batch = append(batch, r)
			default:
				break drain
			}
		}
		if len(batch) >= lingerFrom {
			batch = e.linger(batch)
		}
		e.storeBatch(batch)
		c.unstored.Add(-int64(len(batch)))
	}
}

// storeAttempts bounds how often the writer tries to store one batch: a
// database that is briefly unavailable (a PostgreSQL failover, a locked
// SQLite file) does not lose the runs, one that stays down does not stall
// the writer for long.
const storeAttempts = 3

// storeBatch stores batch, retrying with a short pause.
func (e *Engine) storeBatch(batch []*models.CheckRun) {
	for attempt := 1; ; attempt++ {
		_, err := e.store.RecordRuns(batch)
		if err == nil {
			return
		}
		if errors.Is(err, models.ErrInDoubt) { // stored or not, again would count its runs twice
			e.log.Error("store check runs: giving up on this batch, which may be stored", slog.Int("runs", len(batch)), slog.Any("error", err))
			return
		}
		if attempt == storeAttempts {
			e.log.Error("store check runs: giving up on this batch", slog.Int("runs", len(batch)), slog.Any("error", err))
			return
		}
		e.log.Warn("store check runs: retrying", slog.Int("runs", len(batch)), slog.Any("error", err))
		time.Sleep(time.Duration(attempt) * time.Second) // real time: waiting for the database, not for the schedule
	}
}

// Under load the writer waits up to lingerFor for a batch that already has
// lingerFrom runs to fill up: fewer, larger transactions rewrite each hot
// database page fewer times. A lone run (tests, small installations) is
// stored at once.
const (
	lingerFrom = 64
	lingerFor  = 100 * time.Millisecond
)

// linger adds to batch the runs that arrive within lingerFor, up to
// writerBatch.
func (e *Engine) linger(batch []*models.CheckRun) []*models.CheckRun {
	timer := time.NewTimer(lingerFor) // real time: this is about I/O, not the schedule
	defer timer.Stop()
	for len(batch) < writerBatch {
		select {
		case r, ok := <-e.check.results:
			if !ok {
				return batch
			}
			batch = append(batch, r)
		case <-timer.C:
			return batch
		}
	}
	return batch
}

// pruneRuns deletes check runs beyond CHECK_HISTORY per job.
func (e *Engine) pruneRuns() {
	keep := e.opt.CheckHistory
	if keep <= 0 {
		return
	}
	var total int64
	cursor := ""
	for {
		next, n, err := e.store.PruneCheckRuns(keep, cursor, prunePage)
		if err != nil {
			e.log.Error("prune check runs", slog.Any("error", err))
			return
		}
		total += n
		if next == "" {
			break
		}
		cursor = next
	}
	if total > 0 {
		e.log.Debug("check runs pruned", slog.Int64("deleted", total))
	}
}
