package notifier

import (
	"context"
	"log/slog"
	"time"

	"github.com/cronpulse/cronpulse/models"
)

// This file is the worker's intake: how notifications get from the outbox
// into the send queue, exactly once per worker.

// loop reads the notifications of flips this process just wrote (written
// pre-claimed for it, so reading is enough) whenever a flip nudges it, and
// looks again shortly after for those not yet committed. It never writes,
// so it never waits behind SQLite's write lock.
func (w *Worker) loop(ctx context.Context) {
	// A nudge comes from inside the flip's transaction, before its commit:
	// the rows are not visible yet, so look again shortly after. These
	// re-looks are about latency, not semantics, hence real time.
	recheck := time.NewTimer(time.Hour)
	recheck.Stop()
	rechecks := 0
	delays := []time.Duration{5 * time.Millisecond, 15 * time.Millisecond, 40 * time.Millisecond, 100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond}
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
			w.takeHinted(ctx)
			w.kickClaimer()
			if rechecks == 0 {
				rechecks = len(delays)
				recheck.Reset(delays[0])
			}
		case <-recheck.C:
			w.takeHinted(ctx)
			rechecks--
			if rechecks > 0 {
				recheck.Reset(delays[len(delays)-rechecks])
			}
		}
	}
}

// claimer claims due notifications that nobody holds: retries, flips
// written by other processes, reminders, rows whose claim ran out. It runs
// every PollInterval, when the senders have room for a backlog, and (at
// most every claimEvery) after a nudge.
func (w *Worker) claimer(ctx context.Context) {
	poll := w.o.Clock.NewTicker(w.o.PollInterval)
	defer poll.Stop()
	w.poll(ctx)
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-poll.Chan():
			w.poll(ctx)
			last = time.Now()
			if w.hasHints() {
				w.Nudge() // flips whose commit came after the loop's last look
			}
		case <-w.claimWake:
			if wait := claimEvery - time.Since(last); wait > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(wait):
				}
			}
			w.fill(ctx)
			last = time.Now()
		}
	}
}

// poll is one round of the claimer's poll: due reminders, then every due
// notification the queue has room for. When that was all of them, its
// start time becomes the LastPoll that Stats reports.
func (w *Worker) poll(ctx context.Context) {
	start := w.now()
	w.remind(ctx)
	if w.fill(ctx) {
		w.heldMu.Lock()
		w.lastPoll = start
		w.heldMu.Unlock()
	}
}

// kickClaimer asks the claimer to run. It never blocks.
func (w *Worker) kickClaimer() {
	select {
	case w.claimWake <- struct{}{}:
	default:
	}
}

// flipWritten is the store's FlipListener: it remembers the flip and
// nudges the loop.
func (w *Worker) flipWritten(flipID int64) {
	if flipID != 0 {
		w.hintMu.Lock()
		w.hints = append(w.hints, hint{flipID: flipID, at: time.Now()})
		w.hintMu.Unlock()
	}
	w.Nudge()
}

// Listener is the FlipListener to register on the store this worker sends
// from: flips wake it and are written pre-claimed for it.
func (w *Worker) Listener() *models.FlipListener {
	return &models.FlipListener{Flip: w.flipWritten, Preclaim: w.o.Lease}
}

// takeHinted queues the pre-claimed notifications of remembered flips, as
// many as the queue has room for. Flips not committed yet are kept for the
// next look (and dropped after Lease/2: a rolled-back transaction leaves
// nothing to send).
func (w *Worker) takeHinted(ctx context.Context) {
	w.hintMu.Lock()
	hints := w.hints
	w.hints = nil
	w.hintMu.Unlock()
	if len(hints) == 0 {
		return
	}
	keep := func(hs []hint) {
		w.hintMu.Lock()
		w.hints = append(w.hints, hs...)
		w.hintMu.Unlock()
	}
	room := cap(w.queue) - len(w.queue)
	if room <= 0 {
		keep(hints)
		return
	}
	ids := make([]int64, 0, len(hints))
	for _, h := range hints {
		ids = append(ids, h.flipID)
	}
	ns, err := w.o.Store.PreclaimedNotifications(ids)
	if err != nil {
		w.o.Log.Warn("notifier: read pre-claimed notifications", slog.Any("error", err))
		keep(hints)
		return
	}
	byFlip := map[int64][]models.Notification{}
	for _, n := range ns {
		byFlip[n.FlipID] = append(byFlip[n.FlipID], n)
	}
	var take []models.Notification
	var later []hint
	for _, h := range hints {
		rows, found := byFlip[h.flipID]
		switch {
		case found && len(take)+len(rows) <= room:
			take = append(take, rows...)
			delete(byFlip, h.flipID) // a flip hinted twice is taken once
		case found:
			later = append(later, h) // no room yet; the claim is ours
		case time.Since(h.at) < w.o.Lease/2:
			later = append(later, h) // not committed yet
		}
	}
	keep(later)
	if len(later) > 0 && len(take) == 0 {
		return
	}
	ds, err := w.o.Store.Deliveries(take)
	if err != nil {
		w.o.Log.Warn("notifier: load deliveries", slog.Any("error", err))
		return // the pre-claims run out and a claim takes them
	}
	w.push(ctx, w.hold(ds))
}

// push queues deliveries; on shutdown the rest stay claimed until their
// lease runs out, then any worker sends them.
func (w *Worker) push(ctx context.Context, ds []models.Delivery) {
	for _, d := range ds {
		select {
		case w.queue <- d:
		case <-ctx.Done():
			return
		}
	}
}

// fill claims due notifications while the queue has room. It reports
// whether it claimed every one that was due (false: the queue filled up,
// a claim failed, or the worker is stopping).
func (w *Worker) fill(ctx context.Context) bool {
	for ctx.Err() == nil {
		room := cap(w.queue) - len(w.queue)
		if room == 0 {
			w.backlog.Store(true)
			return false
		}
		ds, n, err := w.claim(room)
		if err != nil {
			w.o.Log.Warn("notifier: claim notifications", slog.Any("error", err))
			return false
		}
		w.push(ctx, w.hold(ds))
		if n < room {
			w.backlog.Store(false)
			return true
		}
	}
	return false
}

// claim claims up to limit due notifications and loads what their messages
// need. It returns the deliveries and how many rows were claimed.
func (w *Worker) claim(limit int) ([]models.Delivery, int, error) {
	ns, err := w.o.Store.ClaimDueNotifications(w.now(), w.o.Lease, limit)
	if err != nil || len(ns) == 0 {
		return nil, 0, err
	}
	ds, err := w.o.Store.Deliveries(ns)
	if err != nil {
		return nil, len(ns), err // the claims run out and the rows come back
	}
	return ds, len(ns), nil
}

// hold drops the deliveries this worker holds or has just recorded, and
// marks the rest held. A claim comes back for such a row only when its
// lease ran out before its outcome was written (a very slow write, or a
// clock that jumped) and the claim read the row just before the outcome
// landed; sending it again would be a duplicate from this very process.
// A dropped row keeps its new claim: if it still needs sending (a retry),
// that waits for the lease, it is not lost.
func (w *Worker) hold(ds []models.Delivery) []models.Delivery {
	w.heldMu.Lock()
	defer w.heldMu.Unlock()
	out := ds[:0]
	for _, d := range ds {
		id := d.Notification.ID
		if _, done := w.recorded[id]; !done && !w.held[id] {
			w.held[id] = true
			out = append(out, d)
		}
	}
	return out
}

// release forgets held notifications whose outcome is written. Final
// outcomes (sent, failed for good) are remembered for recordedMemory; a
// retry is not, its next claim is legitimate.
func (w *Worker) release(final bool, ids ...int64) {
	w.heldMu.Lock()
	defer w.heldMu.Unlock()
	now := time.Now() // real time: this bounds memory, it decides nothing due
	for _, id := range ids {
		delete(w.held, id)
		if final {
			w.recorded[id] = now
		}
	}
	if len(w.recorded) > 10_000 {
		for id, at := range w.recorded {
			if now.Sub(at) > recordedMemory {
				delete(w.recorded, id)
			}
		}
	}
}

// remind writes due reminders, at most every ReminderEvery.
func (w *Worker) remind(ctx context.Context) {
	now := w.now()
	if ctx.Err() != nil || now.Sub(w.lastRemind) < w.o.ReminderEvery {
		return
	}
	w.lastRemind = now
	if _, err := w.o.Store.EnqueueReminders(now); err != nil {
		w.o.Log.Warn("notifier: enqueue reminders", slog.Any("error", err))
	}
}

// claimEvery spaces claims triggered by nudges: each is a write, and on
// SQLite writes queue behind the flips themselves.
const claimEvery = 100 * time.Millisecond

// hint is a flip this process wrote whose notifications it pre-claimed.
type hint struct {
	flipID int64
	at     time.Time // real time, to give up on flips that never commit
}

// recordedMemory is how long hold remembers recorded outcomes: far longer
// than a claim statement and a batch load take.
const recordedMemory = time.Minute
