package pingwriter

import (
	"log/slog"
)

// pruneReq asks the pruner to delete a job's pings numbered cutoff and
// below.
type pruneReq struct {
	jobID  string
	cutoff int64
}

// pruneDue reports whether a batch's change to a job calls for trimming
// its history, and the serial to delete up to: each time the job's ping
// count crosses a multiple of a tenth of the history size, so pruning costs
// one indexed DELETE per history/10 pings.
func (w *Writer) pruneDue(c *jobChange) (cutoff int64, due bool) {
	if w.history <= 0 || c.job.PingCount <= w.history {
		return 0, false
	}
	step := max(w.history/10, 1)
	if c.countFrom/step == c.job.PingCount/step {
		return 0, false
	}
	return c.job.PingCount - w.history, true
}

// maybePrune asks the pruner to trim a job's history when pruneDue says so
// (the SQLite fast path trims in its own transaction instead: see
// sqliteFast.write).
func (w *Writer) maybePrune(c *jobChange) {
	cutoff, due := w.pruneDue(c)
	if !due {
		return
	}
	select {
	case w.prune <- pruneReq{jobID: c.job.ID, cutoff: cutoff}:
	default: // the pruner is behind; the next crossing prunes everything older anyway
	}
}

// runPruner deletes pings beyond each job's history, in the background.
func (w *Writer) runPruner() {
	defer w.wg.Done()
	for r := range w.prune {
		if err := w.db.Exec(prunePingsSQL, r.jobID, r.cutoff).Error; err != nil {
			w.log.Warn("prune pings", slog.String("job", r.jobID), slog.Any("error", err))
		}
	}
}
