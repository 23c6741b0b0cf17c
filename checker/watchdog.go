package checker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/go-co-op/gocron/v2"
)

// WatchdogInterval is how often the heartbeat watchdog looks for due jobs.
// A deadline is therefore acted on at most about this long after it passes.
const WatchdogInterval = time.Second

// watchdogBatch is how many due jobs one transaction handles. Small enough
// that a SQLite write lock is never held long (pings wait on it), large
// enough that 100,000 deadlines at once are a few hundred transactions.
const watchdogBatch = 500

// watchdogMaxRounds bounds one tick (watchdogBatch × this many jobs); what
// is left is picked up by the next tick.
const watchdogMaxRounds = 400

// startWatchdog registers the heartbeat watchdog: a gocron job that runs at
// once (so deadlines that passed while the server was off are acted on
// right after start) and then every WatchdogInterval, never overlapping
// itself.
func (e *Engine) startWatchdog(ctx context.Context) error {
	_, err := e.sched.NewJob(
		gocron.DurationJob(WatchdogInterval),
		gocron.NewTask(func() {
			if _, err := e.CheckHeartbeats(ctx); err != nil {
				e.log.Error("heartbeat watchdog tick", slog.Any("error", err))
			}
		}),
		gocron.WithName("heartbeat-watchdog"),
		gocron.WithSingletonMode(gocron.LimitModeReschedule),
		gocron.WithStartAt(gocron.WithStartImmediately()),
	)
	if err != nil {
		return fmt.Errorf("schedule heartbeat watchdog: %w", err)
	}
	return nil
}

// CheckHeartbeats is one watchdog tick: it reads the jobs whose alert
// deadline has passed (through the alertAt index, never all jobs) and moves
// each to the state it should be in now (see models.EvaluateHeartbeat),
// writing a flip with every alerting change. A tick with nothing due is one
// indexed query.
func (e *Engine) CheckHeartbeats(ctx context.Context) (models.HeartbeatResult, error) {
	start := time.Now() // real time: the tick's cost, not the engine's clock
	defer func() { e.opt.Metrics.WatchdogTick(time.Since(start)) }()
	now := e.now()
	// Due jobs are split over as many transactions in parallel as the
	// store says are worth running (disjoint rows: no deadlock).
	workers := max(1, e.store.HeartbeatWriters())
	var total models.HeartbeatResult
	for round := 0; round < watchdogMaxRounds; round++ {
		if err := ctx.Err(); err != nil {
			return total, nil // shutting down; the next start picks up the rest
		}
		jobs, err := e.store.DueHeartbeats(now, watchdogBatch*workers)
		if err != nil {
			return total, err
		}
		res, err := e.applyParallel(jobs, now, workers)
		total.Updated += res.Updated
		total.Flips += res.Flips
		total.Skipped += res.Skipped
		if err != nil {
			return total, err
		}
		// Stop when the due set is exhausted, or when nothing in this round
		// could be written (those jobs were changed by someone else and are
		// read again on the next tick).
		if len(jobs) < watchdogBatch*workers || res.Updated == 0 {
			break
		}
	}
	if total.Flips > 0 || total.Skipped > 0 {
		e.log.Info("heartbeat watchdog", slog.Int("updated", total.Updated),
			slog.Int("flips", total.Flips), slog.Int("skipped", total.Skipped))
	}
	return total, nil
}

// applyParallel applies jobs in chunks of at most watchdogBatch, up to
// workers chunks at a time, and sums the results.
func (e *Engine) applyParallel(jobs []models.Job, now time.Time, workers int) (models.HeartbeatResult, error) {
	var (
		mu    sync.Mutex
		total models.HeartbeatResult
		errs  []error
		wg    sync.WaitGroup
	)
	size := max(1, (len(jobs)+workers-1)/workers)
	for start := 0; start < len(jobs); start += size {
		chunk := jobs[start:min(start+size, len(jobs))]
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := e.store.ApplyHeartbeats(chunk, now)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			total.Updated += res.Updated
			total.Flips += res.Flips
			total.Skipped += res.Skipped
		}()
	}
	wg.Wait()
	return total, errors.Join(errs...)
}
