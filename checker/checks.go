package checker

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/go-co-op/gocron/v2"
)

// How HTTP checks are scheduled.
//
// The database is the schedule: every job's next tick is its persisted
// nextRunAt, computed only by models.Schedule (cron in the job's time zone,
// DST-safe, or @every). A gocron job, the dispatcher, fires every
// dispatchEvery on the engine's clock, reads the due jobs through the
// jobs_check_due index, claims each tick with a conditional update of
// nextRunAt (so no tick runs twice, across restarts and instances) and
// starts the checks. The checks' runs are stored in batches by one writer.
//
// One gocron job for all checks rather than one per check keeps the cost per
// job to a row in the database and nothing in memory, which is what lets
// tens of thousands of checks run on a small machine; it also means API
// changes need no in-memory rescheduling: an update's new nextRunAt is what
// the next dispatch sees. A check starts at most dispatchEvery after its
// tick.
const (
	dispatchEvery = 200 * time.Millisecond
	dispatchBatch = 2000 // due jobs read per query
	pruneEvery    = 5 * time.Minute
	prunePage     = 500 // jobs per retention transaction
	writerBatch   = 1000
	maxUnstored   = 4 * dispatchBatch // launched but not yet stored checks before dispatch waits
)

// checkState is the engine's HTTP-check machinery.
type checkState struct {
	once    sync.Once
	runner  *httpRunner
	limits  *limiter
	results chan *models.CheckRun

	dispatchMu sync.Mutex // one dispatch at a time (gocron and JobChanged)
	ctx        context.Context
	cancel     context.CancelFunc
	inflight   sync.WaitGroup // started checks
	unstored   atomic.Int64   // launched checks whose run is not stored (or dropped) yet
	dispatches atomic.Int64   // dispatch rounds finished: how a test on a fake clock knows gocron's tick was handled
	writerDone chan struct{}
	started    atomic.Bool // the writer runs
	stopping   atomic.Bool // no new dispatches

	runningMu sync.Mutex
	running   map[string]struct{} // jobs whose check is in flight

	// The dispatcher's gocron job and what its last tick did, for Status.
	dispatcher   gocron.Job
	tickMu       sync.Mutex
	lastTick     time.Time // when the last tick started; zero before the first
	lastTickJobs int       // checks it started
}

// checkInit builds the runner and limits once; Trigger may need them even
// when the scheduler was never started.
func (e *Engine) checkInit() *checkState {
	c := &e.check
	c.once.Do(func() {
		c.runner = newHTTPRunner(e.opt)
		c.limits = newLimiter(e.opt.Concurrency, e.opt.PerHost)
		c.running = map[string]struct{}{}
		c.ctx, c.cancel = context.WithCancel(context.Background())
	})
	return c
}

// startChecks gives unscheduled checks their first tick, starts the result
// writer, and registers the dispatcher and the retention job with gocron.
func (e *Engine) startChecks(ctx context.Context) error {
	c := e.checkInit()
	if err := e.scheduleFirstTicks(); err != nil {
		return err
	}
	c.results = make(chan *models.CheckRun, 4*writerBatch)
	c.writerDone = make(chan struct{})
	go e.writeResults()
	c.started.Store(true)

	dj, err := e.sched.NewJob(gocron.DurationJob(dispatchEvery),
		gocron.NewTask(e.tick),
		gocron.WithName("check dispatcher"),
		gocron.WithSingletonMode(gocron.LimitModeReschedule),
	)
	if err != nil {
		return fmt.Errorf("schedule check dispatcher: %w", err)
	}
	c.dispatcher = dj
	if _, err := e.sched.NewJob(gocron.DurationJob(pruneEvery),
		gocron.NewTask(e.pruneRuns),
		gocron.WithName("check run retention"),
		gocron.WithSingletonMode(gocron.LimitModeReschedule),
	); err != nil {
		return fmt.Errorf("schedule check retention: %w", err)
	}
	return nil
}

// scheduleFirstTicks gives every unpaused check whose nextRunAt is missing
// or already past (the server was down, or the jobs were imported) a tick
// within its first interval: an @every job at a point of its interval
// derived from its id, so thousands of them are spread evenly instead of all
// firing at start; a cron job at its next tick, or within the first
// missedSpread when that tick is further away than that — a tick missed
// while the server was down is run once, soon after start, not dropped.
func (e *Engine) scheduleFirstTicks() error {
	now := e.now()
	after := ""
	moved := 0
	for {
		jobs, err := e.store.UnscheduledChecks(now, after, dispatchBatch)
		if err != nil {
			return fmt.Errorf("first ticks: %w", err)
		}
		claims := make([]models.CheckClaim, 0, len(jobs))
		for i := range jobs {
			j := &jobs[i]
			sched, err := j.ParsedSchedule()
			if err != nil {
				e.log.Warn("check has an invalid schedule", slog.String("job", j.ID), slog.Any("error", err))
				continue
			}
			claims = append(claims, models.CheckClaim{JobID: j.ID, From: j.NextRunAt, Next: firstTick(sched, j.ID, now)})
		}
		won, err := e.store.ClaimChecks(claims)
		if err != nil {
			return fmt.Errorf("first ticks: %w", err)
		}
		moved += len(won)
		if len(jobs) < dispatchBatch {
			break
		}
		after = jobs[len(jobs)-1].ID
	}
	if moved > 0 {
		e.log.Info("checks scheduled within their first interval", slog.Int("jobs", moved))
	}
	return nil
}

// missedSpread is the window over which cron checks whose tick was missed
// while the server was down are run after start.
const missedSpread = 10 * time.Second

// firstTick is the first tick of a check that has none (or a past one).
func firstTick(sched *models.Schedule, id string, now time.Time) time.Time {
	if every := sched.Every(); every > 0 {
		return now.Add(spread(id, every))
	}
	next := sched.Next(now)
	if next.Sub(now) <= missedSpread {
		return next
	}
	return now.Add(spread(id, missedSpread))
}

// spread maps a job id onto [0, d) uniformly and deterministically.
func spread(id string, d time.Duration) time.Duration {
	h := fnv.New64a()
	_, _ = h.Write([]byte(id)) // hash writes never fail
	return time.Duration(h.Sum64() % uint64(d/time.Millisecond) * uint64(time.Millisecond))
}

// nextTick is the tick after `due` for a check run at now: the schedule's
// next tick after due, or after now when the engine has fallen a whole
// interval behind (ticks are never run late in a burst to catch up).
func nextTick(sched *models.Schedule, due, now time.Time) time.Time {
	next := sched.Next(due)
	if !next.After(now) {
		next = sched.Next(now)
	}
	return next
}

// tick is the dispatcher's scheduled run (gocron calls it every
// dispatchEvery): a dispatch, remembered for Status. Dispatches that
// JobChanged starts between ticks are not ticks and are not remembered.
func (e *Engine) tick() {
	c := e.checkInit()
	at := e.now()
	n := e.dispatch()
	c.tickMu.Lock()
	c.lastTick, c.lastTickJobs = at, n
	c.tickMu.Unlock()
}

// dispatch claims and starts every check that is due, and returns how many
// it started. gocron calls it every dispatchEvery (through tick);
// JobChanged calls it too, so a change is seen at once.
func (e *Engine) dispatch() (started int) {
	c := e.checkInit()
	c.dispatchMu.Lock()
	defer c.dispatchMu.Unlock()
	defer c.dispatches.Add(1) // after the launches: a waiter then sees them in unstored
	if c.stopping.Load() {
		return 0
	}
	for !c.stopping.Load() {
		// Backpressure: while the checks already started, or their runs
		// waiting to be stored, fill more than a few batches, due jobs wait
		// in the database for the next dispatch instead of piling up here.
		if c.unstored.Load() >= maxUnstored {
			return started
		}
		now := e.now()
		jobs, err := e.store.DueChecks(now, dispatchBatch)
		if err != nil {
			e.log.Error("read due checks", slog.Any("error", err))
			return started
		}
		claims := make([]models.CheckClaim, 0, len(jobs))
		byID := make(map[string]*models.Job, len(jobs))
		for i := range jobs {
			j := &jobs[i]
			sched, err := j.ParsedSchedule()
			if err != nil {
				e.log.Warn("check has an invalid schedule", slog.String("job", j.ID), slog.Any("error", err))
				continue
			}
			claims = append(claims, models.CheckClaim{JobID: j.ID, From: j.NextRunAt, Next: nextTick(sched, *j.NextRunAt, now)})
			byID[j.ID] = j
		}
		won, err := e.store.ClaimChecks(claims)
		if err != nil {
			e.log.Error("claim due checks", slog.Any("error", err))
			return started
		}
		for _, w := range won {
			if e.launch(byID[w.JobID], *w.From) {
				started++
			}
		}
		// Read again only when a full batch came back and moved on: a batch
		// of jobs that cannot be claimed (another instance took them, or a
		// schedule that no longer parses) must not spin here.
		if len(jobs) < dispatchBatch || len(won) == 0 {
			return started
		}
	}
	return started
}

// launch runs one claimed tick of j in the background and hands its run to
// the writer. A job whose previous check is still in flight skips this tick
// rather than piling up requests against a slow target; launch says
// whether it started the check.
func (e *Engine) launch(j *models.Job, due time.Time) bool {
	c := &e.check
	c.runningMu.Lock()
	if _, busy := c.running[j.ID]; busy {
		c.runningMu.Unlock()
		e.log.Warn("check skipped: the previous one is still running", slog.String("job", j.ID), slog.Time("tick", due))
		return false
	}
	c.running[j.ID] = struct{}{}
	c.runningMu.Unlock()

	c.inflight.Add(1)
	c.unstored.Add(1)
	go func() {
		defer c.inflight.Done()
		defer func() {
			c.runningMu.Lock()
			delete(c.running, j.ID)
			c.runningMu.Unlock()
		}()
		run, err := e.runCheck(c.ctx, j)
		if err != nil || c.ctx.Err() != nil {
			c.unstored.Add(-1)
			return // cut off by a shutdown: the tick is given up rather than recorded as a failure
		}
		run.Trigger = models.TriggerSchedule
		run.ScheduledAt = &due
		c.results <- run
	}()
	return true
}

// runCheck waits for a host slot and a global slot, then checks j.
func (e *Engine) runCheck(ctx context.Context, j *models.Job) (*models.CheckRun, error) {
	c := e.checkInit()
	release, err := c.limits.acquire(ctx, hostOf(j.URL))
	if err != nil {
		return nil, fmt.Errorf("wait for a check slot: %w", err)
	}
	defer release()
	start := time.Now() // real time: how long the check took, not when it ran
	run := c.runner.check(ctx, j, e.now())
	if ctx.Err() == nil { // a check cut off by a shutdown is not a result
		e.opt.Metrics.CheckDone(run.Result, time.Since(start))
	}
	return run, nil
}

// hostOf is the per-host limit's key for a check URL.
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.Host
}

// stopWait bounds how long Stop lets checks in flight finish before it
// cuts them off.
const stopWait = 10 * time.Second

// stopChecks stops dispatching, lets checks in flight finish (for at most
// stopWait, then cancels them) and waits for the writer to store every
// finished run.
func (e *Engine) stopChecks() {
	c := e.checkInit()
	c.dispatchMu.Lock()
	c.stopping.Store(true)
	c.dispatchMu.Unlock()
	done := make(chan struct{})
	go func() {
		c.inflight.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(stopWait):
		e.log.Warn("stopping: cutting off checks still in flight")
		c.cancel()
		<-done
	}
	c.cancel()
	if c.started.CompareAndSwap(true, false) {
		close(c.results)
		<-c.writerDone
	}
}

// JobChanged is called after a job is created, updated, paused or resumed
// through the API. The new nextRunAt is already stored, so the next dispatch
// follows it; when the job is due within one dispatch period it is
// dispatched right away.
func (e *Engine) JobChanged(j *models.Job) {
	if j == nil || !j.IsCheck() || j.Paused || j.NextRunAt == nil || !e.check.started.Load() {
		return
	}
	if j.NextRunAt.Sub(e.now()) <= dispatchEvery {
		go e.dispatch()
	}
}

// JobDeleted is called after a job is deleted. Its row, and with it its
// schedule, is gone; a check of it still in flight finishes and its run is
// dropped when stored.
func (e *Engine) JobDeleted(id string) {}

// Trigger runs a job's check now, outside its schedule (trigger "manual"),
// and stores the run, which counts toward the job's status like any other.
func (e *Engine) Trigger(ctx context.Context, j *models.Job) (*models.CheckRun, error) {
	if !j.IsCheck() {
		return nil, errors.New("job has no url")
	}
	run, err := e.runCheck(ctx, j)
	if err != nil {
		return nil, err
	}
	run.Trigger = models.TriggerManual
	if err := e.store.RecordRun(run); err != nil {
		return nil, fmt.Errorf("store manual check of job %s: %w", j.ID, err)
	}
	return run, nil
}
