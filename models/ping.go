package models

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// ErrAmbiguous is returned when a project ping key and slug match more than
// one job.
var ErrAmbiguous = errors.New("ambiguous slug")

// ErrPingWriterClosed is returned for pings that arrive after the writer
// stopped.
var ErrPingWriterClosed = errors.New("ping writer stopped")

// PingWriterOptions configures NewPingWriter.
type PingWriterOptions struct {
	Log      *slog.Logger
	History  int // pings kept per job (PING_HISTORY); 0 keeps everything
	MaxBatch int // pings committed in one transaction at most; 0 means 512
	Queue    int // pings waiting for the writer at most; 0 means 8192
	// WriteTimeout bounds a batch's write on PostgreSQL (0 means 10 s, the
	// time a ping waits for its answer): a connection that stops answering
	// without breaking (a network that drops packets) would otherwise hold
	// the writer, and every ping behind it, for as long as TCP keeps
	// trying. The write is then in doubt (see inDoubt).
	WriteTimeout time.Duration
}

// PingWriter stores pings durably and fast by group commit: one goroutine
// takes every ping waiting in its queue, writes them all in one transaction,
// and only then tells each caller that its ping is stored. Under load a
// single commit (one fsync on PostgreSQL, one WAL append on SQLite) covers
// many pings; when idle a ping is committed alone at once. Nothing is
// acknowledged before its commit, so a crash loses only unanswered pings.
//
// Per ping the work is constant: its job's row is read at most once per
// batch (and not at all while the writer's copy of it is known to be
// current), the ping inserted, the job updated once per batch, and a finish
// ping with a run id looks up its start through an index.
//
// A batch goes one of two ways. The fast path (fastPath: ping_sqlite.go,
// ping_pg.go) runs on a connection the writer holds, with statements
// prepared once, and covers batches that change no job across an alerting
// edge. A batch with a flip, or one the fast path cannot take, goes through
// the transactional path (ping_tx.go), which also writes the flips and
// their notifications.
type PingWriter struct {
	store    *Store
	log      *slog.Logger
	history  int64
	maxBatch int
	// writeTimeout bounds a batch's statements on PostgreSQL.
	writeTimeout time.Duration
	queue        chan *pendingPing
	prune        chan pruneReq
	quit         chan struct{}
	fast         fastPath
	stopOnce     sync.Once
	wg           sync.WaitGroup
	stats        struct {
		sync.Mutex
		PingWriterStats
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

// connWait bounds the wait for a connection from the pool.
const connWait = 5 * time.Second

// heldConn is a connection a fast path takes from the store's pool at its
// first batch and keeps until the writer closes (or an error makes it
// suspect), with session settings of its own that are undone before it goes
// back.
type heldConn struct {
	*sql.Conn
	reset string // statement that undoes the session settings
}

// holdConn takes a connection from s's pool and runs setup on it.
func (s *Store) holdConn(setup, reset string) (*heldConn, error) {
	sqlDB, err := s.db.DB()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), connWait)
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
		ctx, cancel := context.WithTimeout(context.Background(), connWait)
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

// PingWriterStats counts the writer's work since it started.
type PingWriterStats struct {
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
func (w *PingWriter) Stats() PingWriterStats {
	w.stats.Lock()
	defer w.stats.Unlock()
	st := w.stats.PingWriterStats
	st.Pooled = w.store.pooled.Load()
	return st
}

type pendingPing struct {
	token string
	ping  Ping
	err   error
	done  chan struct{}
}

type pruneReq struct {
	jobID  string
	cutoff int64
}

// NewPingWriter starts the writer (and its history pruner); stop it with
// Close. A server needs one: from its first batch to Close it holds one of
// the store's pooled connections (the SQLite pool has 8).
func (s *Store) NewPingWriter(o PingWriterOptions) *PingWriter {
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
	w := &PingWriter{
		store: s, log: o.Log,
		history: int64(o.History), maxBatch: o.MaxBatch, writeTimeout: o.WriteTimeout,
		queue: make(chan *pendingPing, o.Queue),
		prune: make(chan pruneReq, 1024),
		quit:  make(chan struct{}),
	}
	if s.dialect == Postgres {
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
// committed. It fails with ErrNotFound for an unknown token, and with
// another error (to be answered 503) when the ping could not be stored.
func (w *PingWriter) Write(ctx context.Context, token string, p Ping) (Ping, error) {
	p.CreatedAt = p.CreatedAt.Truncate(time.Microsecond) // as PostgreSQL keeps it, everywhere
	pp := &pendingPing{token: token, ping: p, done: make(chan struct{})}
	select {
	case w.queue <- pp:
	case <-w.quit:
		return p, ErrPingWriterClosed
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
func (w *PingWriter) Close() {
	w.stopOnce.Do(func() { close(w.quit) })
	w.wg.Wait()
}

// run is the writer goroutine: take a batch, store it, answer it.
func (w *PingWriter) run() {
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
func (w *PingWriter) next() []*pendingPing {
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
func (w *PingWriter) gather(first *pendingPing) []*pendingPing {
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
func (w *PingWriter) drain(batch []*pendingPing) []*pendingPing {
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
func (w *PingWriter) noteFast(batch []*pendingPing, err error) {
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

// commitTxRetry stores a batch by the transactional path, retrying once (a
// deadlock or a busy database is usually gone by then).
func (w *PingWriter) commitTxRetry(batch []*pendingPing) error {
	err := w.commitTx(batch)
	if err != nil {
		if settled, serr := w.inDoubt(batch, err); settled {
			return serr
		}
		w.log.Warn("ping batch failed, retrying", slog.Int("pings", len(batch)), slog.Any("error", err))
		err = w.commitTx(batch)
		if err != nil {
			if settled, serr := w.inDoubt(batch, err); settled {
				return serr
			}
		}
	}
	if err != nil {
		w.log.Error("ping batch not stored", slog.Int("pings", len(batch)), slog.Any("error", err))
	}
	return err
}

// inDoubt settles a batch whose write failed with err before it is
// retried: a write on PostgreSQL that may have committed all the same (see
// Store.settleWrite) is looked for, and the batch answered as stored if it
// is there, 503 if that cannot be told, and retried (not settled) if it is
// not. An error the server reported, an error on SQLite and a fast-path
// miss are never in doubt.
func (w *PingWriter) inDoubt(batch []*pendingPing, err error) (settled bool, _ error) {
	if !w.store.mayHaveCommitted(err) || errors.Is(err, errFastMiss) {
		return false, err
	}
	var rows []*Ping
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
	stored, serr := w.store.settleWrite(w.log, err, len(rows), func() (int, error) { return w.store.pingsStored(rows) })
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

// answer wakes a batch's callers: stored when err is nil, failed with err
// otherwise (a ping's own error, such as an unknown token, stands). The
// batch is counted first, so that a caller reading Stats after its answer
// finds its batch there.
func (w *PingWriter) answer(batch []*pendingPing, err error, took time.Duration) {
	w.stats.Lock()
	w.stats.Batches++
	w.stats.Pings += int64(len(batch))
	w.stats.CommitTime += took
	w.stats.Unlock()
	for _, p := range batch {
		if err != nil {
			p.err = err
		}
		close(p.done)
	}
}

// jobChange is a job touched by a batch: its row as read, and the job as
// the batch's pings leave it.
type jobChange struct {
	job        *Job
	countFrom  int64
	statusFrom string
	alertFrom  *time.Time // alert_at as stored
	// writeAlert tells the writer to store job.AlertAt; otherwise the
	// stored alert_at stands (see settle).
	writeAlert bool
}

func newJobChange(j *Job) *jobChange {
	return &jobChange{job: j, countFrom: j.PingCount, statusFrom: j.Status, alertFrom: j.AlertAt}
}

// settle decides whether the batch must store the job's new alert_at.
//
// alert_at is where the watchdog looks for due jobs, and is indexed, so
// writing it on every ping would make every ping's job update maintain an
// index (and on PostgreSQL every index: no HOT update). It only has to be
// a lower bound of the job's real next deadline: the watchdog re-derives
// the deadlines from the job's state (status, last ping, open start)
// whenever alert_at passes, and then stores the real one or acts on it. A
// success ping only moves the deadlines later, so it leaves alert_at alone;
// a change of status, or a deadline that moved earlier (a /start arming a
// hang deadline), is written.
func (c *jobChange) settle() {
	j := c.job
	if j.Status != c.statusFrom || (j.AlertAt != nil && (c.alertFrom == nil || j.AlertAt.Before(*c.alertFrom))) {
		c.writeAlert = true
		return
	}
	j.AlertAt = c.alertFrom
}

// startFinder returns the time of the latest start ping of the job with the
// given run id, and whether there is one.
type startFinder func(jobID, rid string) (time.Time, bool, error)

// batchPlan is what a batch does, computed in memory from its jobs.
type batchPlan struct {
	rows    []*Ping      // pings to insert, N and duration set
	changed []*jobChange // jobs to update, in the order first touched
	flips   []Flip       // status changes across an alerting edge
}

// plan applies the batch's pings, in order, to the jobs they name (keyed
// by ping token; a ping whose token is not there fails with ErrNotFound).
// findStart looks up the start of a run in the database.
func (w *PingWriter) plan(batch []*pendingPing, jobs map[string]*jobChange, findStart startFinder) (batchPlan, error) {
	var bp batchPlan
	starts := map[string]time.Time{} // job id + rid → start time, within this batch
	touched := make(map[string]bool, len(jobs))
	for _, p := range batch {
		p.err = nil
		p.ping.ID, p.ping.N, p.ping.DurationMs = 0, 0, nil
		c := jobs[p.token]
		if c == nil {
			p.err = fmt.Errorf("job by ping token: %w", ErrNotFound)
			continue
		}
		j := c.job
		ping := &p.ping
		ping.JobID = j.ID
		matched, err := duration(j, ping, starts, findStart)
		if err != nil {
			return bp, err
		}
		if ping.Kind == PingStart && ping.RID != "" {
			starts[j.ID+"\x00"+ping.RID] = ping.CreatedAt
		}
		from, reason := pingEffect(j, cachedSchedule(j.Schedule, j.Timezone), ping, matched)
		if reason != "" {
			bp.flips = append(bp.flips, Flip{JobID: j.ID, FromStatus: from, ToStatus: j.Status, Reason: reason, CreatedAt: ping.CreatedAt})
		}
		bp.rows = append(bp.rows, ping)
		if !touched[j.ID] {
			touched[j.ID] = true
			bp.changed = append(bp.changed, c)
		}
	}
	for _, c := range bp.changed {
		c.settle()
	}
	return bp, nil
}

// duration sets a finish ping's duration from its run's start: the start
// ping with the same run id (in this batch, or found by findStart), or,
// without a run id, the job's open start. It reports whether the start
// found is the job's latest open one.
func duration(j *Job, p *Ping, starts map[string]time.Time, findStart startFinder) (bool, error) {
	if p.Kind != PingSuccess && p.Kind != PingFail {
		return false, nil
	}
	var start time.Time
	switch {
	case p.RID != "":
		if t, ok := starts[j.ID+"\x00"+p.RID]; ok {
			start = t
			break
		}
		t, ok, err := findStart(j.ID, p.RID)
		if err != nil {
			return false, fmt.Errorf("find start of run %s: %w", p.RID, err)
		}
		if !ok {
			return false, nil
		}
		start = t
	case j.LastStartAt != nil:
		start = *j.LastStartAt
	default:
		return false, nil
	}
	d := p.CreatedAt.Sub(start).Milliseconds()
	if d < 0 {
		d = 0
	}
	p.DurationMs = &d
	return j.LastStartAt != nil && !start.Before(*j.LastStartAt), nil
}

// findStartSQL looks up the latest start of a run. kind = 'start' is written
// as a literal: it is the partial index's condition (pings_job_rid), and a
// bound parameter would not let SQLite use it.
const findStartSQL = `SELECT created_at FROM pings WHERE job_id = ? AND rid = ? AND kind = 'start' ORDER BY n DESC LIMIT 1`

// pruneDue reports whether a batch's change to a job calls for trimming
// its history, and the serial to delete up to: each time the job's ping
// count crosses a multiple of a tenth of the history size, so pruning costs
// one indexed DELETE per history/10 pings.
func (w *PingWriter) pruneDue(c *jobChange) (cutoff int64, due bool) {
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
func (w *PingWriter) maybePrune(c *jobChange) {
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
func (w *PingWriter) runPruner() {
	defer w.wg.Done()
	for r := range w.prune {
		if err := w.store.PrunePings(r.jobID, r.cutoff); err != nil {
			w.log.Warn("prune pings", slog.String("job", r.jobID), slog.Any("error", err))
		}
	}
}

// prunePingsSQL deletes a job's pings numbered up to a cutoff.
const prunePingsSQL = `DELETE FROM pings WHERE job_id = ? AND n <= ?`

// PrunePings deletes a job's pings numbered cutoff and below.
func (s *Store) PrunePings(jobID string, cutoff int64) error {
	if err := s.db.Exec(prunePingsSQL, jobID, cutoff).Error; err != nil {
		return fmt.Errorf("prune pings of job %s: %w", jobID, err)
	}
	return nil
}

// CleanPingBody makes a received body storable: cut to limit bytes (at a
// character boundary), invalid UTF-8 replaced and NUL bytes dropped (neither
// fits a PostgreSQL text column). It returns the text to store.
func CleanPingBody(b []byte, limit int) string {
	if len(b) > limit {
		b = b[:limit]
		// Drop a character cut in half at the end.
		for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
			if utf8.RuneStart(b[i]) {
				if !utf8.FullRune(b[i:]) {
					b = b[:i]
				}
				break
			}
		}
	}
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	if len(s) > limit { // replacement characters can make it longer again
		s = strings.ToValidUTF8(s[:limit], "")
	}
	return s
}

// JobBySlug returns the job of the project with the given ping key that has
// the given slug. ErrNotFound when there is none, ErrAmbiguous when there
// are several.
func (s *Store) JobBySlug(pingKey, slug string) (*Job, error) {
	var jobs []Job
	err := s.db.Joins("JOIN projects ON projects.id = jobs.project_id").
		Where("projects.ping_key = ? AND jobs.slug = ?", pingKey, slug).Limit(2).Find(&jobs).Error
	if err != nil {
		return nil, translate(err, "job by slug")
	}
	switch len(jobs) {
	case 0:
		return nil, fmt.Errorf("job by slug %q: %w", slug, ErrNotFound)
	case 1:
		return &jobs[0], nil
	default:
		return nil, fmt.Errorf("job by slug %q: %w", slug, ErrAmbiguous)
	}
}

// Defaults of a job created by a ping to a missing slug (?create=1), as
// Healthchecks.io's auto-provisioning does: a heartbeat expected once a day
// (measured from the last ping), alerting an hour after it is missed.
const (
	AutoJobSchedule  = "@every 24h"
	AutoJobTolerance = 60
)

// EnsureJobBySlug returns the job with the slug in the project of pingKey,
// creating it with the Auto* defaults when it does not exist. created
// reports whether it did. Concurrent calls create one job: the project row
// is locked while looking and creating.
func (s *Store) EnsureJobBySlug(pingKey, slug string) (job *Job, created bool, err error) {
	if !slugPattern.MatchString(slug) {
		return nil, false, invalid("slug", "must be 1-100 characters of a-z, 0-9, - and _, starting with a letter or digit")
	}
	err = s.db.Transaction(func(tx *gorm.DB) error {
		var p Project
		q := tx.Where("ping_key = ?", pingKey)
		if s.dialect == Postgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		if err := q.Take(&p).Error; err != nil {
			return translate(err, "project by ping key")
		}
		var jobs []Job
		if err := tx.Where("project_id = ? AND slug = ?", p.ID, slug).Limit(2).Find(&jobs).Error; err != nil {
			return translate(err, "job by slug")
		}
		if len(jobs) > 1 {
			return fmt.Errorf("job by slug %q: %w", slug, ErrAmbiguous)
		}
		if len(jobs) == 1 {
			job = &jobs[0]
			return nil
		}
		hb, name, sched, tol := true, slug, AutoJobSchedule, AutoJobTolerance
		j, err := s.NewJob(&JobRequest{Name: &name, ProjectID: &p.ID, Slug: &name, Schedule: &sched, Heartbeat: &hb, HeartbeatTolerance: &tol})
		if err != nil {
			return err
		}
		if err := tx.Create(j).Error; err != nil {
			return translate(err, "create job "+slug)
		}
		job, created = j, true
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return job, created, nil
}
