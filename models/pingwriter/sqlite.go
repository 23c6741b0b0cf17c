package pingwriter

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/cronpulse/cronpulse/models"
)

// The SQLite fast path of the ping writer.
//
// SQLite has one writer at a time, so the ping writer may as well keep one
// connection: it takes it from the store's pool when the first batch comes
// and gives it back when the writer closes. On it, its statements are
// prepared once (the pure-Go driver parses a statement on every Exec
// otherwise), each batch is one BEGIN IMMEDIATE … COMMIT with its pings
// inserted and its jobs updated in statements of many rows (chunkedStmt),
// and the job rows it needs come from a copy of the rows it last wrote:
// PRAGMA data_version, read inside the write lock, tells whether any other
// connection has committed since (the watchdog, the checker, an API edit,
// the transactional path), and if so the copies are dropped and the rows
// reread. A batch that flips a job is rolled back and left to the
// transactional path, which writes the flip and its notifications.
//
// The WAL is copied into the database file (checkpointed) in the
// background: a PASSIVE checkpoint on another connection every
// checkpointEvery while batches are committed, which does not stop the
// writer and copies a page once however many batches rewrote it. A passive
// checkpoint alone never catches up with a busy writer, so the WAL would
// only grow without bound under load; the writer's own
// connection checkpoints too, past writerWALPages, and as the background
// has copied most of the log by then, that takes little and lets the WAL
// start over (it stays small). BENCHMARKS.md (Pings) has what this gained
// over SQLite's default of checkpointing on the committing connection.

// checkpointEvery is how often the background checkpointer runs while
// batches are committed.
const checkpointEvery = 100 * time.Millisecond

// writerWALPages is the writer connection's wal_autocheckpoint.
const writerWALPages = 16_000

// defaultWALPages is SQLite's own wal_autocheckpoint, set back before the
// connection returns to the pool.
const defaultWALPages = 1000

// pingCacheMax bounds the fast paths' copies of job rows; when full they
// are dropped (and the rows reread).
const pingCacheMax = 100_000

// writerCacheKiB is the page cache of the writer's connection. SQLite's
// default, 2 MiB, holds too little of the pings' indexes once they grow,
// and batches read pages back from the file.
const writerCacheKiB = 64 << 10

// defaultCacheSize is SQLite's own cache_size (KiB when negative), set
// back before the connection returns to the pool.
const defaultCacheSize = -2000

// The batch's writes go in statements of many rows each (a VALUES list of
// a power of two rows, up to maxChunk), each size prepared once: fewer
// statements per ping than one a row (BENCHMARKS.md, Pings).

// maxChunk is the most rows one statement takes.
const maxChunk = 64

// chunkedStmt is a statement over n rows of VALUES, prepared once per n.
type chunkedStmt struct {
	format string // the statement, with %s for the VALUES rows
	cols   int    // values in a row
	byN    map[int]*sql.Stmt
}

func newChunkedStmt(format string, cols int) *chunkedStmt {
	return &chunkedStmt{format: format, cols: cols, byN: map[int]*sql.Stmt{}}
}

// exec runs the statement over rows (cols values each, one after the
// other) in chunks of a power of two rows, and returns how many rows it
// changed.
func (c *chunkedStmt) exec(ctx context.Context, conn *heldConn, rows []any) (int64, error) {
	cols := c.cols
	var changed int64
	for len(rows) > 0 {
		n := maxChunk
		for n*cols > len(rows) {
			n /= 2
		}
		st, ok := c.byN[n]
		if !ok {
			q := fmt.Sprintf(c.format, models.ValueRows(n, cols))
			var err error
			if st, err = conn.PrepareContext(ctx, q); err != nil {
				return changed, fmt.Errorf("prepare %q for %d rows: %w", models.FirstWords(q), n, err)
			}
			c.byN[n] = st
		}
		res, err := st.ExecContext(ctx, rows[:n*cols]...)
		if err != nil {
			return changed, err
		}
		k, err := res.RowsAffected()
		if err != nil {
			return changed, err
		}
		changed += k
		rows = rows[n*cols:]
	}
	return changed, nil
}

// close closes every prepared size.
func (c *chunkedStmt) close() {
	for n, st := range c.byN {
		_ = st.Close() // the connection goes away or back; a close error changes nothing
		delete(c.byN, n)
	}
}

type sqliteFast struct {
	w     *Writer
	conn  *heldConn // nil until the first batch, and after an error
	stmts struct {
		begin, commit, version, job, start, prune *sql.Stmt
		insert, update, updateAlert               *chunkedStmt
		rollups                                   [2]*chunkedStmt // job and project buckets
	}
	version int64                 // data_version when the copies were last known current
	cache   map[string]models.Job // ping token → the job's row as this connection last wrote it

	committed chan struct{} // a batch was committed: there is WAL to copy
	stop      chan struct{} // closed at close: the checkpointer ends
	stopped   chan struct{} // closed when it has
}

func newSQLiteFast(w *Writer) *sqliteFast {
	f := &sqliteFast{w: w, cache: map[string]models.Job{},
		committed: make(chan struct{}, 1), stop: make(chan struct{}), stopped: make(chan struct{})}
	go f.checkpointer()
	return f
}

func (f *sqliteFast) close() {
	close(f.stop)
	<-f.stopped
	f.release(nil)
}

// checkpointer copies the WAL into the database file, at most every
// checkpointEvery, after batches are committed.
func (f *sqliteFast) checkpointer() {
	defer close(f.stopped)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-f.stop:
			return
		case <-f.committed:
		}
		select {
		case <-f.stop:
			return
		case <-t.C:
		}
		if err := f.w.db.Exec("PRAGMA wal_checkpoint(PASSIVE)").Error; err != nil {
			f.w.log.Warn("wal checkpoint", slog.Any("error", err))
		}
	}
}

// acquire takes the writer's connection and prepares its statements.
func (f *sqliteFast) acquire() error {
	conn, err := f.w.holdConn(
		fmt.Sprintf("PRAGMA cache_size = %d; PRAGMA wal_autocheckpoint = %d", -writerCacheKiB, writerWALPages),
		fmt.Sprintf("PRAGMA cache_size = %d; PRAGMA wal_autocheckpoint = %d", defaultCacheSize, defaultWALPages))
	if err != nil {
		return err
	}
	f.conn = conn
	for _, p := range []struct {
		dst **sql.Stmt
		sql string
	}{
		{&f.stmts.begin, "BEGIN IMMEDIATE"},
		{&f.stmts.commit, "COMMIT"},
		{&f.stmts.version, "PRAGMA data_version"},
		{&f.stmts.job, sqliteJobByTokenSQL},
		{&f.stmts.start, findStartSQL},
		{&f.stmts.prune, prunePingsSQL},
	} {
		if *p.dst, err = conn.PrepareContext(context.Background(), p.sql); err != nil {
			f.release(err)
			return fmt.Errorf("prepare %q: %w", models.FirstWords(p.sql), err)
		}
	}
	f.stmts.insert = newChunkedStmt(sqliteInsertPingsSQL, len(models.PingColumns))
	f.stmts.update = newChunkedStmt(sqliteUpdateJobsSQL, len(hotColumns))
	f.stmts.updateAlert = newChunkedStmt(sqliteUpdateJobsAlertSQL, len(jobRowColumns))
	for i, t := range models.RollupTables {
		f.stmts.rollups[i] = newChunkedStmt(sqliteRollupSQL[i], len(models.RollupColumns(t[1])))
	}
	clear(f.cache)
	return nil
}

// release gives the connection up (see heldConn.release).
func (f *sqliteFast) release(cause error) {
	if f.conn == nil {
		return
	}
	for _, st := range []*sql.Stmt{f.stmts.begin, f.stmts.commit, f.stmts.version, f.stmts.job, f.stmts.start, f.stmts.prune} {
		if st != nil {
			_ = st.Close() // the connection goes away or back; a close error changes nothing
		}
	}
	for _, c := range []*chunkedStmt{f.stmts.insert, f.stmts.update, f.stmts.updateAlert, f.stmts.rollups[0], f.stmts.rollups[1]} {
		if c != nil {
			c.close()
		}
	}
	f.stmts.begin, f.stmts.commit, f.stmts.version, f.stmts.job, f.stmts.start, f.stmts.prune = nil, nil, nil, nil, nil, nil
	f.stmts.insert, f.stmts.update, f.stmts.updateAlert = nil, nil, nil
	f.stmts.rollups = [2]*chunkedStmt{}
	f.conn.release(cause)
	f.conn = nil
	clear(f.cache)
}

// commit implements fastPath.
func (f *sqliteFast) commit(batch []*pendingPing) error {
	if f.conn == nil {
		if err := f.acquire(); err != nil {
			return err
		}
	}
	err := f.write(batch)
	if err != nil {
		if !errors.Is(err, errNoTx) {
			if _, rbErr := f.conn.ExecContext(context.Background(), "ROLLBACK"); rbErr != nil {
				f.release(rbErr)
			}
		}
		if errors.Is(err, errFlip) {
			return errFastMiss
		}
		return err
	}
	select {
	case f.committed <- struct{}{}:
	default: // the checkpointer has been told already
	}
	return nil
}

// errFlip stops the fast path at a flip.
var errFlip = errors.New("the batch flips a job")

// errNoTx marks an error from BEGIN: there is no transaction to roll back.
var errNoTx = errors.New("no transaction")

// write runs the batch's transaction up to and including COMMIT. On error
// the transaction may be open (unless the error is errNoTx): the caller
// rolls it back.
func (f *sqliteFast) write(batch []*pendingPing) error {
	ctx := context.Background()
	s := f.w.store
	if _, err := f.stmts.begin.ExecContext(ctx); err != nil {
		return fmt.Errorf("begin: %w: %w", errNoTx, err)
	}
	var version int64
	if err := f.stmts.version.QueryRowContext(ctx).Scan(&version); err != nil {
		return fmt.Errorf("data_version: %w", err)
	}
	if version != f.version || len(f.cache) > pingCacheMax {
		clear(f.cache) // another connection committed: the copies may be stale
		f.version = version
	}
	jobs := make(map[string]*jobChange, len(batch))
	for _, p := range batch {
		if _, ok := jobs[p.token]; ok {
			continue
		}
		if j, ok := f.cache[p.token]; ok {
			jobs[p.token] = newJobChange(&j)
			continue
		}
		rows, err := f.stmts.job.QueryContext(ctx, p.token)
		if err != nil {
			return fmt.Errorf("load job: %w", err)
		}
		found, err := models.ScanPingJobs(rows, 1)
		if err != nil {
			return err
		}
		if len(found) == 1 {
			jobs[p.token] = newJobChange(&found[0])
		} else {
			jobs[p.token] = nil // unknown token: the plan answers ErrNotFound
		}
	}
	findStart := func(jobID, rid string) (time.Time, bool, error) {
		rows, err := f.stmts.start.QueryContext(ctx, jobID, rid)
		if err != nil {
			return time.Time{}, false, err
		}
		return scanStart(rows)
	}
	bp, err := f.w.plan(batch, jobs, findStart)
	if err != nil {
		return err
	}
	if len(bp.flips) > 0 {
		return errFlip
	}
	args := make([]any, 0, len(models.PingColumns)*len(bp.rows))
	for _, p := range bp.rows {
		args = append(args, s.PingRow(p)...)
	}
	if _, err := f.stmts.insert.exec(ctx, f.conn, args); err != nil {
		return fmt.Errorf("insert %d pings: %w", len(bp.rows), err)
	}
	var hot, alert []any
	for _, c := range bp.changed {
		j := c.job
		row := s.PingedJobRow(j)
		if c.writeAlert {
			alert = append(append(alert, row...), s.BatchTime(j.AlertAt))
		} else {
			hot = append(hot, hotRow(row)...)
		}
	}
	n, err := f.stmts.update.exec(ctx, f.conn, hot)
	if err != nil {
		return fmt.Errorf("update jobs: %w", err)
	}
	m, err := f.stmts.updateAlert.exec(ctx, f.conn, alert)
	if err != nil {
		return fmt.Errorf("update jobs: %w", err)
	}
	if n+m != int64(len(bp.changed)) {
		return fmt.Errorf("update jobs: %d of %d rows", n+m, len(bp.changed))
	}
	for i, rows := range [2][]any{s.JobRollupRows(&bp.rollups), s.ProjectRollupRows(&bp.rollups)} {
		if _, err := f.stmts.rollups[i].exec(ctx, f.conn, rows); err != nil {
			return fmt.Errorf("add to %s: %w", models.RollupTables[i][0], err)
		}
	}
	// History is trimmed in the batch's own transaction: from the pruner's
	// connection every trim would be a write transaction of its own, taking
	// turns with the writer for SQLite's one write lock (a busy wait) and
	// making the writer drop its copies of the job rows (data_version).
	for _, c := range bp.changed {
		if cutoff, due := f.w.pruneDue(c); due {
			if _, err := f.stmts.prune.ExecContext(ctx, c.job.ID, cutoff); err != nil {
				return fmt.Errorf("prune pings of job %s: %w", c.job.ID, err)
			}
		}
	}
	if _, err := f.stmts.commit.ExecContext(ctx); err != nil {
		clear(f.cache)
		return fmt.Errorf("commit: %w", err)
	}
	for _, c := range bp.changed {
		f.cache[c.job.PingToken] = *c.job
	}
	return nil
}
