package notifier

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/jonboulle/clockwork"
)

// Store is what the worker needs of the store.
type Store interface {
	ClaimDueNotifications(now time.Time, lease time.Duration, limit int) ([]models.Notification, error)
	PreclaimedNotifications(flipIDs []int64) ([]models.Notification, error)
	Deliveries(ns []models.Notification) ([]models.Delivery, error)
	MarkNotificationsSent(ids []int64, channelIDs []string, at time.Time) error
	RetryNotification(n *models.Notification, sendErr error, next, at time.Time) error
	FailNotification(n *models.Notification, sendErr error, at time.Time) error
	EnqueueReminders(now time.Time) (int, error)
}

var _ Store = (*models.Store)(nil)

// WorkerOptions configures a Worker. Zero values take the defaults shown.
type WorkerOptions struct {
	Store      Store
	Dispatcher *Dispatcher
	Log        *slog.Logger
	// Clock decides when notifications are due and how long backoff waits;
	// tests pass a clockwork.FakeClock. nil means the real clock.
	Clock clockwork.Clock

	PollInterval  time.Duration // 2s: how often the outbox is read without a nudge
	Concurrency   int           // 16 deliveries in flight
	BatchSize     int           // 100 notifications claimed at once
	Lease         time.Duration // 5m: a claim's validity; a sender that dies frees its rows after this
	SendTimeout   time.Duration // 30s per delivery attempt
	RetryBase     time.Duration // 15s: the first retry's wait (before jitter); doubles each time
	RetryMax      time.Duration // 1h: the longest wait between two attempts
	GiveUpAfter   time.Duration // 24h: after this a failing notification is marked failed
	ReminderEvery time.Duration // 30s: how often due reminders are looked for
	// Rand draws the jitter; nil seeds one from the clock.
	Rand *rand.Rand
	// Metrics hears of every delivery's outcome; nil reports nothing.
	Metrics Metrics
}

// Worker sends the outbox. Build it with NewWorker, register its Listener
// on the store that writes flips, then Start and Stop.
type Worker struct {
	o          WorkerOptions
	wake       chan struct{}
	queue      chan models.Delivery
	results    chan delivered
	backlog    atomic.Bool // the last claim filled the queue: more may be due
	claimWake  chan struct{}
	hintMu     sync.Mutex
	hints      []hint // flips written by this process, their notifications pre-claimed for us
	randMu     sync.Mutex
	heldMu     sync.Mutex
	held       map[int64]bool      // claimed by this worker and not yet recorded
	recorded   map[int64]time.Time // recently recorded, by real time of recording
	lastPoll   time.Time           // clock time at which the last finished poll began (under heldMu)
	cancel     context.CancelFunc
	loopDone   chan struct{}
	sendersWG  sync.WaitGroup
	collectWG  sync.WaitGroup
	abandon    chan struct{} // closed when Stop's deadline passes
	lastRemind time.Time
}

// delivered is a successful delivery waiting to be recorded.
type delivered struct {
	id      int64
	channel string
}

// NewWorker builds a worker; nothing runs until Start.
func NewWorker(o WorkerOptions) *Worker {
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.PollInterval, 2*time.Second)
	def(&o.Lease, 5*time.Minute)
	def(&o.SendTimeout, 30*time.Second)
	def(&o.RetryBase, 15*time.Second)
	def(&o.RetryMax, time.Hour)
	def(&o.GiveUpAfter, 24*time.Hour)
	def(&o.ReminderEvery, 30*time.Second)
	if o.Concurrency <= 0 {
		o.Concurrency = 16
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 100
	}
	if o.Metrics == nil {
		o.Metrics = noMetrics{}
	}
	if o.Rand == nil {
		seed := uint64(o.Clock.Now().UnixNano())
		o.Rand = rand.New(rand.NewPCG(seed, seed>>7|1))
	}
	return &Worker{o: o, wake: make(chan struct{}, 1), claimWake: make(chan struct{}, 1),
		held: map[int64]bool{}, recorded: map[int64]time.Time{}}
}

// Stats is a snapshot of a worker's progress.
type Stats struct {
	// LastPoll is the time on the worker's clock at which its last finished
	// poll began (reminders written, due notifications claimed and queued);
	// zero before the first. Every notification due at LastPoll has been
	// claimed, by this worker or another.
	LastPoll time.Time
	// Held is how many notifications this worker has claimed whose outcome
	// (sent, retry, failed) is not written yet: queued, being sent, or
	// waiting for the collector.
	Held int
}

// Stats reports the worker's progress. A worker with LastPoll at or after a
// time t and nothing Held has done everything that was due at t: this is
// how a caller on a fake clock knows the worker is idle (tests assert that
// nothing more was sent only after that), and what a health check can read.
func (w *Worker) Stats() Stats {
	w.heldMu.Lock()
	defer w.heldMu.Unlock()
	return Stats{LastPoll: w.lastPoll, Held: len(w.held)}
}

// now reads the worker's clock in UTC at the precision the databases keep.
func (w *Worker) now() time.Time { return w.o.Clock.Now().UTC().Truncate(time.Microsecond) }

// hasHints reports whether flips wait to be read.
func (w *Worker) hasHints() bool {
	w.hintMu.Lock()
	defer w.hintMu.Unlock()
	return len(w.hints) > 0
}

// Nudge asks the worker to look at the outbox now. It never blocks.
func (w *Worker) Nudge() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Start runs the worker until Stop: a loop that reads the notifications of
// flips this process writes, a claimer for every other due notification
// (see intake.go), both feeding a queue; Concurrency senders that deliver
// from it; and a collector that records successes in batches.
func (w *Worker) Start(ctx context.Context) {
	ctx, w.cancel = context.WithCancel(ctx)
	w.queue = make(chan models.Delivery, w.o.BatchSize)
	w.results = make(chan delivered, 4*w.o.BatchSize) // senders must not wait on a slow write
	w.loopDone = make(chan struct{})
	w.abandon = make(chan struct{})
	for range w.o.Concurrency {
		w.sendersWG.Add(1)
		go w.sender()
	}
	w.collectWG.Add(1)
	go w.collector()
	var producers sync.WaitGroup
	producers.Add(2)
	go func() { defer producers.Done(); w.loop(ctx) }()
	go func() { defer producers.Done(); w.claimer(ctx) }()
	go func() {
		producers.Wait()
		close(w.queue)
		close(w.loopDone)
	}()
}

// Stop stops claiming, lets the senders deliver what is already claimed
// (each attempt bounded by SendTimeout) until ctx ends, and waits for them.
// Claimed notifications left when ctx ends are not lost: their claim runs
// out and the next worker sends them.
func (w *Worker) Stop(ctx context.Context) error {
	if w.cancel == nil {
		return nil
	}
	w.cancel()
	<-w.loopDone
	done := make(chan struct{})
	go func() {
		w.sendersWG.Wait()
		close(w.results)
		w.collectWG.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		close(w.abandon)
		<-done // in-flight attempts end within SendTimeout; queued ones are skipped
		return fmt.Errorf("notifier stop: %w", ctx.Err())
	}
}

// sender delivers queued notifications until the queue closes.
func (w *Worker) sender() {
	defer w.sendersWG.Done()
	for d := range w.queue {
		select {
		case <-w.abandon:
			continue // shutting down past its deadline: the claim will run out
		default:
		}
		if final, ok := w.deliver(&d); ok {
			w.results <- delivered{id: d.Notification.ID, channel: d.Channel.ID}
		} else {
			w.release(final, d.Notification.ID) // deliver wrote the failure
		}
		if w.backlog.Load() {
			w.kickClaimer()
		}
		if w.hasHints() {
			w.Nudge()
		}
	}
}

// collector records successful deliveries in batches: one transaction per
// burst instead of one per message keeps SQLite's single writer free for
// claims.
func (w *Worker) collector() {
	defer w.collectWG.Done()
	var batch []delivered
	flush := func() {
		if len(batch) == 0 {
			return
		}
		ids := make([]int64, len(batch))
		chans := map[string]bool{}
		var chanIDs []string
		for i, b := range batch {
			ids[i] = b.id
			if !chans[b.channel] {
				chans[b.channel] = true
				chanIDs = append(chanIDs, b.channel)
			}
		}
		if err := w.o.Store.MarkNotificationsSent(ids, chanIDs, w.now()); err != nil {
			// Not recorded means sent again when the claim runs out: log
			// loudly, it is the one way a duplicate can happen.
			w.o.Log.Error("notifier: record sent notifications", slog.Int("count", len(ids)), slog.Any("error", err))
		}
		w.release(true, ids...)
		batch = batch[:0]
	}
	for r := range w.results {
		batch = append(batch, r)
		// Gather for a moment, then write once: recording is not on the
		// delivery's critical path, but every write takes SQLite's one
		// write lock from flips and claims.
		window := time.NewTimer(collectWindow)
	more:
		for len(batch) < 500 {
			select {
			case r, ok := <-w.results:
				if !ok {
					break more
				}
				batch = append(batch, r)
			case <-window.C:
				break more
			}
		}
		window.Stop()
		flush()
	}
	flush()
}

// collectWindow is how long the collector gathers successes before writing
// them. Real time: it is about write batching, not semantics.
const collectWindow = 20 * time.Millisecond

// RunOnce claims one batch of due notifications, delivers them and records
// the outcomes before returning how many it handled. It is the worker's
// whole cycle in one synchronous call, for tools and tests; it must not be
// mixed with Start on the same worker, and it only sees rows a claim can
// take (not those pre-claimed for a registered Listener).
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	ds, n, err := w.claim(w.o.BatchSize)
	if err != nil {
		return n, err
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, w.o.Concurrency)
	var mu sync.Mutex
	var sent []int64
	var chans []string
	for i := range ds {
		wg.Add(1)
		sem <- struct{}{}
		go func(d *models.Delivery) {
			defer wg.Done()
			defer func() { <-sem }()
			if _, ok := w.deliver(d); ok {
				mu.Lock()
				sent, chans = append(sent, d.Notification.ID), append(chans, d.Channel.ID)
				mu.Unlock()
			}
		}(&ds[i])
	}
	wg.Wait()
	if err := w.o.Store.MarkNotificationsSent(sent, chans, w.now()); err != nil {
		return n, fmt.Errorf("record sent notifications: %w", err)
	}
	return n, ctx.Err()
}

// deliver makes one attempt and records a failure (retry or give up). It
// reports whether the message was delivered (successes are recorded by the
// caller, in batches) and, for a failure, whether it was final.
func (w *Worker) deliver(d *models.Delivery) (final, ok bool) {
	ctx, cancel := context.WithTimeout(context.Background(), w.o.SendTimeout)
	defer cancel()
	alert := w.o.Dispatcher.Alert(d)
	err := w.o.Dispatcher.Send(ctx, &d.Channel, alert)
	if err == nil {
		w.o.Metrics.NotificationDone(d.Channel.Kind, OutcomeSent)
		return true, true
	}
	n := &d.Notification
	now := w.now()
	log := w.o.Log.With(slog.Int64("notification", n.ID), slog.String("channel", d.Channel.ID),
		slog.String("kind", d.Channel.Kind), slog.String("job", d.Job.ID), slog.Int("attempt", n.Attempts))
	if IsPermanent(err) {
		log.Warn("notifier: delivery failed for good", slog.Any("error", err))
		w.o.Metrics.NotificationDone(d.Channel.Kind, OutcomeFailed)
		w.record(w.o.Store.FailNotification(n, err, now), log)
		return true, false
	}
	next := now.Add(max(w.backoff(n.Attempts), retryAfter(err)))
	if next.Sub(n.CreatedAt) > w.o.GiveUpAfter {
		gaveUp := fmt.Errorf("gave up after %d attempts over %s: %w", n.Attempts, Duration(now.Sub(n.CreatedAt)), err)
		log.Warn("notifier: giving up", slog.Any("error", err))
		w.o.Metrics.NotificationDone(d.Channel.Kind, OutcomeFailed)
		w.record(w.o.Store.FailNotification(n, gaveUp, now), log)
		return true, false
	}
	log.Info("notifier: delivery failed, will retry", slog.Time("next", next), slog.Any("error", err))
	w.o.Metrics.NotificationDone(d.Channel.Kind, OutcomeRetry)
	w.record(w.o.Store.RetryNotification(n, err, next, now), log)
	return false, false
}

// record logs a failure to write a delivery's outcome.
func (w *Worker) record(err error, log *slog.Logger) {
	if err != nil && !errors.Is(err, context.Canceled) {
		log.Error("notifier: record delivery outcome", slog.Any("error", err))
	}
}

// backoff is the wait before attempt attempts+1: RetryBase doubled per
// attempt, capped at RetryMax, with "equal jitter" (half fixed, half
// random) so that many notifications failing together do not retry in
// lockstep.
func (w *Worker) backoff(attempts int) time.Duration {
	d := w.o.RetryMax
	if shift := attempts - 1; shift < 30 {
		d = min(w.o.RetryBase<<max(shift, 0), w.o.RetryMax)
	}
	w.randMu.Lock()
	j := time.Duration(w.o.Rand.Int64N(int64(d/2) + 1))
	w.randMu.Unlock()
	return d/2 + j
}
