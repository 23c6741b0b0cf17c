// Package pingwriter stores pings durably and fast by group commit.
//
// One goroutine takes every ping waiting in its queue, writes them all in
// one transaction, and only then tells each caller that its ping is stored.
// Under load a single commit (one fsync on PostgreSQL, one WAL append on
// SQLite) covers many pings; when idle a ping is committed alone at once.
// Nothing is acknowledged before its commit, so a crash loses only
// unanswered pings.
//
// Per ping the work is constant: its job's row is read at most once per
// batch (and not at all while the writer's copy of it is known to be
// current), the ping inserted, the job updated once per batch, and a finish
// ping with a run id looks up its start through an index.
//
// A batch goes one of two ways. The fast path (sqlite.go, postgres.go) runs
// on a connection the writer holds (conn.go), with statements prepared
// once, and covers batches that change no job across an alerting edge. A
// batch with a flip, or one the fast path cannot take, goes through the
// transactional path (tx.go), which also writes the flips and their
// notifications. Both apply the pings to their jobs the same way (plan.go).
//
// The package reaches into models only through a few named seams:
// models.ApplyPing (what a ping does to its job), Store.InsertFlip (a flip
// and its notifications), models.ScanPingJob and the column lists and row
// builders of models/sqlrows.go.
package pingwriter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/indoubt"
	"gorm.io/gorm"
)

// ErrClosed is returned for pings that arrive after the writer stopped.
var ErrClosed = errors.New("ping writer stopped")

// Options configures New.
type Options struct {
	Log      *slog.Logger
	History  int // pings kept per job (PING_HISTORY); 0 keeps everything
	MaxBatch int // pings committed in one transaction at most; 0 means 512
	Queue    int // pings waiting for the writer at most; 0 means 8192
	// WriteTimeout bounds a batch's write on PostgreSQL (0 means 10 s, the
	// time a ping waits for its answer): a connection that stops answering
	// without breaking (a network that drops packets) would otherwise hold
	// the writer, and every ping behind it, for as long as TCP keeps
	// trying. The write is then in doubt (see Writer.inDoubt).
	WriteTimeout time.Duration
	// OnBatch, when set, is told of every batch as it is answered: how many
	// pings it held and how long storing it took (the metrics' batch-size
	// histogram). It runs on the writer's goroutine and must not block.
	OnBatch func(pings int, took time.Duration)
}

// Writer is the group-commit ping writer of one store. It is safe for
// concurrent use.
type Writer struct {
	store     *models.Store
	db        *gorm.DB
	postgres  bool
	settler   *indoubt.Settler
	schedules models.ScheduleCache
	log       *slog.Logger
	history   int64
	maxBatch  int
	// writeTimeout bounds a batch's statements on PostgreSQL.
	writeTimeout time.Duration
	onBatch      func(pings int, took time.Duration)
	queue        chan *pendingPing
	prune        chan pruneReq
	quit         chan struct{}
	fast         fastPath
	stopOnce     sync.Once
	wg           sync.WaitGroup
	stats        struct {
		sync.Mutex
		Stats
	}
}

// fastPath is a dialect's way of storing a batch without a flip.
type fastPath interface {
	// commit stores the batch, or returns an error having stored nothing,
	// for the transactional path to do it: errFastMiss when the batch is
	// not the fast path's to store (it flips a job, or a job changed
	// under it), another error when the fast path failed.
	commit(batch []*pendingPing) error
	// close releases the path's connection.
	close()
}

// errFastMiss means the fast path did not store the batch and the
// transactional path must.
var errFastMiss = errors.New("fast path does not apply")

// Stats counts the writer's work since it started.
type Stats struct {
	Batches       int64         // batches committed (or failed)
	Pings         int64         // pings in them
	Fast          int64         // batches stored by the fast path
	FastErrors    int64         // batches the fast path failed on (not declined): each was retried in a transaction, unless found stored
	InDoubt       int64         // failed writes whose outcome was unknown (PostgreSQL: the connection was lost), and looked for
	InDoubtStored int64         // of those, writes found committed: answered as stored, not written again
	Pooled        bool          // PostgreSQL behind a pooler: the server process of a lost write is not ended
	CommitTime    time.Duration // time spent storing them
}

// Stats returns the writer's counters.
func (w *Writer) Stats() Stats {
	w.stats.Lock()
	defer w.stats.Unlock()
	st := w.stats.Stats
	st.Pooled = w.settler.Pooled()
	return st
}

type pendingPing struct {
	token string
	ping  models.Ping
	err   error
	done  chan struct{}
}

// New starts the writer of store (and its history pruner); stop it with
// Close. A server needs one: from its first batch to Close it holds one of
// the store's pooled connections (the SQLite pool has 8).
func New(store *models.Store, o Options) *Writer {
	if o.MaxBatch <= 0 {
		o.MaxBatch = 512
	}
	if o.Queue <= 0 {
		o.Queue = 8192
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	w := &Writer{
		store: store, db: store.DB(), postgres: store.Dialect() == models.Postgres, settler: store.InDoubt(),
		log: o.Log, history: int64(o.History), maxBatch: o.MaxBatch, writeTimeout: o.WriteTimeout, onBatch: o.OnBatch,
		queue: make(chan *pendingPing, o.Queue),
		prune: make(chan pruneReq, 1024),
		quit:  make(chan struct{}),
	}
	if w.postgres {
		w.fast = newPostgresFast(w)
	} else {
		w.fast = newSQLiteFast(w)
	}
	w.wg.Add(2)
	go func() {
		defer w.wg.Done()
		w.run()
		w.fast.close()
		close(w.prune)
	}()
	go w.runPruner()
	return w
}

// Write stores p for the job whose ping token is token and returns the
// stored ping (with its job id, serial N and duration) once it is
// committed. It fails with models.ErrNotFound for an unknown token, and
// with another error (to be answered 503) when the ping could not be
// stored.
func (w *Writer) Write(ctx context.Context, token string, p models.Ping) (models.Ping, error) {
	p.CreatedAt = p.CreatedAt.Truncate(time.Microsecond) // as PostgreSQL keeps it, everywhere
	pp := &pendingPing{token: token, ping: p, done: make(chan struct{})}
	select {
	case w.queue <- pp:
	case <-w.quit:
		return p, ErrClosed
	case <-ctx.Done():
		return p, fmt.Errorf("queue ping: %w", ctx.Err())
	}
	select {
	case <-pp.done:
		return pp.ping, pp.err
	case <-ctx.Done():
		return p, fmt.Errorf("wait for ping commit: %w", ctx.Err())
	}
}

// Close stops taking pings, commits the ones already queued and waits for
// the writer and the pruner to finish.
func (w *Writer) Close() {
	w.stopOnce.Do(func() { close(w.quit) })
	w.wg.Wait()
}

// run is the writer goroutine: take a batch, store it, answer it.
func (w *Writer) run() {
	for {
		batch := w.next()
		if batch == nil {
			return
		}
		start := time.Now()
		err := w.fast.commit(batch)
		w.noteFast(batch, err)
		if err != nil {
			if settled, serr := w.inDoubt(batch, err); settled {
				err = serr
			} else {
				err = w.commitTxRetry(batch)
			}
		}
		w.answer(batch, err, time.Since(start))
	}
}

// next waits for the next batch: the pings queued now, up to maxBatch.
// Once the writer is closing it returns what is still queued, and nil when
// nothing is: late senders see quit.
func (w *Writer) next() []*pendingPing {
	select {
	case p := <-w.queue:
		return w.gather(p)
	case <-w.quit:
		if batch := w.drain(nil); len(batch) > 0 {
			return batch
		}
		return nil
	}
}

// gather makes a batch of first and the pings queued behind it.
func (w *Writer) gather(first *pendingPing) []*pendingPing {
	batch := w.drain(append(make([]*pendingPing, 0, 64), first))
	if len(batch) < w.maxBatch {
		// Let the callers just answered queue their next pings before
		// committing: one yield, no timer, often doubles the batch.
		runtime.Gosched()
		batch = w.drain(batch)
	}
	return batch
}

// drain adds the pings waiting in the queue to batch, up to maxBatch.
func (w *Writer) drain(batch []*pendingPing) []*pendingPing {
	for len(batch) < w.maxBatch {
		select {
		case p := <-w.queue:
			batch = append(batch, p)
		default:
			return batch
		}
	}
	return batch
}

// noteFast counts what the fast path did with a batch (err from its
// commit) and logs a failure: a miss is normal, a failure is not.
func (w *Writer) noteFast(batch []*pendingPing, err error) {
	w.stats.Lock()
	defer w.stats.Unlock()
	switch {
	case err == nil:
		w.stats.Fast++
	case !errors.Is(err, errFastMiss):
		w.stats.FastErrors++
		w.log.Warn("ping fast path failed, using a transaction", slog.Int("pings", len(batch)), slog.Any("error", err))
	}
}

// answer wakes a batch's callers: stored when err is nil, failed with err
// otherwise (a ping's own error, such as an unknown token, stands). The
// batch is counted first, so that a caller reading Stats after its answer
// finds its batch there.
func (w *Writer) answer(batch []*pendingPing, err error, took time.Duration) {
	w.stats.Lock()
	w.stats.Batches++
	w.stats.Pings += int64(len(batch))
	w.stats.CommitTime += took
	w.stats.Unlock()
	if w.onBatch != nil {
		w.onBatch(len(batch), took)
	}
	for _, p := range batch {
		if err != nil {
			p.err = err
		}
		close(p.done)
	}
}
