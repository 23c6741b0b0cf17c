package models

import (
	"context"
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
	// Writers is how many transactions may be in flight at once (0 means
	// 1). Jobs are locked in id order, so batches touching the same job take
	// turns and its serials stay exact. More than one only helps on
	// PostgreSQL with pings spread over many jobs, and there barely: on
	// this project's 2-core machine two writers gave +20% over 1,000 jobs
	// and -25% on one job, so the default stays one.
	Writers int
	Queue   int // pings waiting for the writer at most; 0 means 8192
}

// PingWriter stores pings durably and fast by group commit: one goroutine
// takes every ping waiting in its queue, writes them all in one transaction,
// and only then tells each caller that its ping is stored. Under load a
// single commit (one fsync on PostgreSQL, one WAL append on SQLite) covers
// many pings; when idle a ping is committed alone at once. Nothing is
// acknowledged before its commit, so a crash loses only unanswered pings.
//
// Per ping the work is constant: its job's row is read once per batch, the
// ping inserted in one multi-row INSERT, the job updated once per batch, and
// a finish ping with a run id looks up its start through an index.
type PingWriter struct {
	store    *Store
	db       *gorm.DB // the store's handle with a prepared-statement cache
	schedMu  sync.Mutex
	scheds   map[[2]string]*Schedule
	log      *slog.Logger
	history  int64
	maxBatch int
	queue    chan *pendingPing
	prune    chan pruneReq
	quit     chan struct{}
	cache    pingJobCache // PostgreSQL fast path; see commitFast
	stopOnce sync.Once
	wg       sync.WaitGroup
	stats    struct {
		sync.Mutex
		PingWriterStats
	}
}

// PingWriterStats counts the writer's work since it started.
type PingWriterStats struct {
	Batches    int64         // transactions committed (or failed)
	Pings      int64         // pings in them
	CommitTime time.Duration // time spent in those transactions
}

// Stats returns the writer's counters.
func (w *PingWriter) Stats() PingWriterStats {
	w.stats.Lock()
	defer w.stats.Unlock()
	return w.stats.PingWriterStats
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
// Close.
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
	w := &PingWriter{
		store: s, log: o.Log,
		db:     s.db.Session(&gorm.Session{PrepareStmt: true}),
		scheds: map[[2]string]*Schedule{}, history: int64(o.History), maxBatch: o.MaxBatch,
		queue: make(chan *pendingPing, o.Queue),
		prune: make(chan pruneReq, 1024),
		quit:  make(chan struct{}),
	}
	w.cache.m = map[string]cachedPingJob{}
	if o.Writers <= 0 {
		o.Writers = 1
	}
	var writers sync.WaitGroup
	w.wg.Add(2)
	writers.Add(o.Writers)
	for i := 0; i < o.Writers; i++ {
		go func() { defer writers.Done(); w.run() }()
	}
	go func() { defer w.wg.Done(); writers.Wait(); close(w.prune) }()
	go w.runPruner()
	return w
}

// Write stores p for the job whose ping token is token and returns the
// stored ping (with its job id, serial N and duration) once it is
// committed. It fails with ErrNotFound for an unknown token, and with
// another error (to be answered 503) when the ping could not be stored.
func (w *PingWriter) Write(ctx context.Context, token string, p Ping) (Ping, error) {
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

// run is the writer goroutine: take a batch, commit it, answer it.
func (w *PingWriter) run() {
	batch := make([]*pendingPing, 0, w.maxBatch)
	for {
		var first *pendingPing
		select {
		case first = <-w.queue:
		case <-w.quit:
			// Commit what is already queued; late senders see quit.
			for {
				select {
				case p := <-w.queue:
					w.commit([]*pendingPing{p})
				default:
					return
				}
			}
		}
		batch = append(batch[:0], first)
		batch = w.drain(batch)
		if len(batch) < w.maxBatch {
			// Let the callers just answered queue their next pings before
			// committing: one yield, no timer, often doubles the batch.
			runtime.Gosched()
			batch = w.drain(batch)
		}
		w.commit(batch)
	}
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

// commit writes a batch and wakes its callers. A failed transaction is
// retried once (a deadlock or a busy database is usually gone by then).
func (w *PingWriter) commit(batch []*pendingPing) {
	start := time.Now()
	defer func() {
		w.stats.Lock()
		w.stats.Batches++
		w.stats.Pings += int64(len(batch))
		w.stats.CommitTime += time.Since(start)
		w.stats.Unlock()
	}()
	err := w.commitOnce(batch)
	if err != nil {
		w.log.Warn("ping batch failed, retrying", slog.Int("pings", len(batch)), slog.Any("error", err))
		err = w.commitOnce(batch)
	}
	for _, p := range batch {
		if err != nil {
			p.err = err
		}
		close(p.done)
	}
	if err != nil {
		w.log.Error("ping batch not stored", slog.Int("pings", len(batch)), slog.Any("error", err))
	}
}

// schedule returns j's parsed schedule (nil if it does not parse), from a
// cache: most jobs share a few schedules.
func (w *PingWriter) schedule(j *Job) *Schedule {
	w.schedMu.Lock()
	defer w.schedMu.Unlock()
	k := [2]string{j.Schedule, j.Timezone}
	if s, ok := w.scheds[k]; ok {
		return s
	}
	if len(w.scheds) > 10_000 {
		clear(w.scheds)
	}
	s, err := j.ParsedSchedule()
	if err != nil {
		s = nil
	}
	w.scheds[k] = s
	return s
}

// jobChange is a job touched by a batch.
type jobChange struct {
	job       *Job
	countFrom int64
}

// commitOnce writes the batch in one transaction. Each ping's err is set to
// ErrNotFound when its token matches no job.
func (w *PingWriter) commitOnce(batch []*pendingPing) error {
	s := w.store
	if s.dialect == Postgres {
		if err := w.commitFast(batch); !errors.Is(err, errFastMiss) {
			return err
		}
	}
	tokens := make([]string, 0, len(batch))
	seen := make(map[string]bool, len(batch))
	for _, p := range batch {
		p.err = nil
		p.ping.ID, p.ping.N, p.ping.DurationMs = 0, 0, nil
		if !seen[p.token] {
			seen[p.token] = true
			tokens = append(tokens, p.token)
		}
	}
	var changed []*jobChange
	err := w.db.Transaction(func(tx *gorm.DB) error {
		jobs, err := s.jobsByTokens(tx, tokens)
		if err != nil {
			return err
		}
		byToken := make(map[string]*jobChange, len(jobs))
		changed = changed[:0]
		for i := range jobs {
			c := &jobChange{job: &jobs[i], countFrom: jobs[i].PingCount}
			byToken[jobs[i].PingToken] = c
		}
		starts := map[string]time.Time{} // job id + rid → start time, within this batch
		var rows []*Ping
		var flips []Flip
		touched := map[string]bool{}
		for _, p := range batch {
			c := byToken[p.token]
			if c == nil {
				p.err = fmt.Errorf("job by ping token: %w", ErrNotFound)
				continue
			}
			j := c.job
			ping := &p.ping
			ping.JobID = j.ID
			matched, err := w.duration(tx, j, ping, starts)
			if err != nil {
				return err
			}
			if ping.Kind == PingStart && ping.RID != "" {
				starts[j.ID+"\x00"+ping.RID] = ping.CreatedAt
			}
			from, reason := pingEffect(j, w.schedule(j), ping, matched)
			if reason != "" {
				flips = append(flips, Flip{JobID: j.ID, FromStatus: from, ToStatus: j.Status, Reason: reason, CreatedAt: ping.CreatedAt})
			}
			rows = append(rows, ping)
			if !touched[j.ID] {
				touched[j.ID] = true
				changed = append(changed, c)
			}
		}
		if len(rows) == 0 {
			return nil
		}
		if err := s.insertPings(tx, rows); err != nil {
			return err
		}
		if err := s.updatePingedJobs(tx, changed); err != nil {
			return err
		}
		for _, f := range flips {
			if _, err := s.insertFlip(tx, f.JobID, f.FromStatus, f.ToStatus, f.Reason, f.CreatedAt); err != nil {
				return err
			}
		}
		return nil
	})
	if s.dialect == Postgres {
		w.cache.forget(tokens) // the rows have new versions now
	}
	if err != nil {
		return err
	}
	for _, c := range changed {
		w.maybePrune(c)
	}
	return nil
}

// duration sets a finish ping's duration from its run's start: the start
// ping with the same run id, or, without a run id, the job's open start. It
// reports whether the start found is the job's latest open one.
func (w *PingWriter) duration(tx *gorm.DB, j *Job, p *Ping, starts map[string]time.Time) (bool, error) {
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
		var prev []Ping
		// kind = 'start' is written as a literal: it is the partial index's
		// condition, and a bound parameter would not let SQLite use it.
		err := tx.Select("created_at").Where("job_id = ? AND rid = ? AND kind = 'start'", j.ID, p.RID).
			Order("n DESC").Limit(1).Find(&prev).Error
		if err != nil {
			return false, fmt.Errorf("find start of run %s: %w", p.RID, err)
		}
		if len(prev) == 0 {
			return false, nil
		}
		start = prev[0].CreatedAt
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

// maybePrune asks the pruner to trim a job's history each time its ping
// count crosses a multiple of a tenth of the history size, so pruning costs
// one indexed DELETE per history/10 pings.
func (w *PingWriter) maybePrune(c *jobChange) {
	if w.history <= 0 || c.job.PingCount <= w.history {
		return
	}
	step := max(w.history/10, 1)
	if c.countFrom/step == c.job.PingCount/step {
		return
	}
	select {
	case w.prune <- pruneReq{jobID: c.job.ID, cutoff: c.job.PingCount - w.history}:
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

// PrunePings deletes a job's pings numbered cutoff and below.
func (s *Store) PrunePings(jobID string, cutoff int64) error {
	if err := s.db.Where("job_id = ? AND n <= ?", jobID, cutoff).Delete(&Ping{}).Error; err != nil {
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
