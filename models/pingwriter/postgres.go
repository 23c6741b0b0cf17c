package pingwriter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/indoubt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"
)

// The PostgreSQL fast path of the ping writer (its statement: pgWrite).
//
// With a transaction per batch (BEGIN, SELECT … FOR UPDATE, INSERT, UPDATE,
// COMMIT) a batch costs five round trips, and with at most a connection's
// worth of pings outstanding the rate is pings per batch over batch
// latency. The fast path writes a batch in one statement, in its own
// implicit transaction, on a connection the writer holds (taken from the
// store's pool at the first batch, given back at Close), through pgx
// directly so that the batch travels as typed arrays in the binary format:
// a CTE that updates the jobs only where the row version (xmin) is still
// the one the batch was computed from, inserts the pings (unnest), and
// fails the whole statement (division by zero) unless every job matched.
// The job rows come from a copy of what the writer itself last wrote, with
// that row version's xmin (the statement returns it: every row one
// statement updates has its transaction's id as xmin), so a batch of known
// jobs is one round trip;
// unknown jobs are read first (without a lock: the compare-and-set on xmin
// stands in for it). The statement updates the jobs in id order, the order
// every writer of jobs locks them in, so it cannot deadlock with the
// watchdog or the transactional path.
//
// The job update sets no indexed column unless it must (alert_at only as
// jobChange.settle says; next_run_at never: the store derives it when a job
// is read), so PostgreSQL can update the row in place (HOT) without touching
// any of the jobs' indexes (BENCHMARKS.md, Pings, has what that saves).
//
// A batch that would flip a job, or whose compare-and-set fails because
// someone else (the watchdog, the checker, an API edit) changed a job,
// goes through the transactional path instead.

// sqlstateDivisionByZero is how pgWriteSQL fails when a job did not match.
const sqlstateDivisionByZero = "22012"

type cachedPingJob struct {
	job  models.Job
	xmin string
}

type postgresFast struct {
	w       *Writer
	conn    *heldConn       // nil until the first batch, and after an error
	backend indoubt.Backend // the server process behind conn
	cache   map[string]cachedPingJob
}

func newPostgresFast(w *Writer) *postgresFast {
	return &postgresFast{w: w, cache: map[string]cachedPingJob{}}
}

func (f *postgresFast) close() { f.release(nil) }

// acquire takes the writer's connection. The join of the batch with the
// jobs must probe the primary key, never scan the table: the planner,
// guessing the arrays' length, may pick a hash join over a sequential
// scan, so the session forbids those joins; and it plans the statement once,
// as a custom plan per batch costs the server more than the plan saves
// (BENCHMARKS.md, Pings).
func (f *postgresFast) acquire() error {
	conn, err := f.w.holdConn("SET enable_hashjoin = off; SET enable_mergejoin = off; SET plan_cache_mode = force_generic_plan", "RESET ALL")
	if err != nil {
		return err
	}
	f.conn = conn
	if err := f.identify(); err != nil {
		f.release(err)
		return err
	}
	clear(f.cache)
	return nil
}

// identify records the server process behind the writer's connection, for
// Writer.inDoubt, unless PostgreSQL is behind a pooler (see
// indoubt.Settler.Identify).
func (f *postgresFast) identify() error {
	b, changed, err := f.w.settler.Identify(f.conn.Conn)
	if err != nil {
		return err
	}
	if changed {
		f.w.log.Info("PostgreSQL behind a pooler that lends server connections per transaction: the server process of a lost write cannot be ended",
			slog.Bool("pooled", f.w.settler.Pooled()))
	}
	f.backend = b
	return nil
}

// release gives the connection up (see heldConn.release).
func (f *postgresFast) release(cause error) {
	if f.conn == nil {
		return
	}
	f.conn.release(cause)
	f.conn = nil
	clear(f.cache)
}

// commit implements fastPath.
func (f *postgresFast) commit(batch []*pendingPing) error {
	if f.conn == nil {
		if err := f.acquire(); err != nil {
			return err
		}
	}
	var bp batchPlan
	var stored, closed bool
	err := f.conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("not a pgx connection: %T", dc)
		}
		var err error
		bp, stored, err = f.write(sc.Conn(), batch)
		closed = sc.Conn().IsClosed()
		return err
	})
	if err != nil || !stored {
		err = indoubt.WithBackend(err, f.backend)
		f.forget(batch)
		var pgErr *pgconn.PgError
		switch {
		case err == nil: // a flip
			return errFastMiss
		case errors.As(err, &pgErr) && pgErr.Code == sqlstateDivisionByZero:
			return errFastMiss // a job changed under the batch
		case closed || !errors.As(err, &pgErr):
			// Not an error of the statement but of the connection (closed
			// by the server or a proxy, broken, timed out): take another
			// one for the next batch.
			f.release(err)
		}
		return err
	}
	for _, c := range bp.changed {
		f.w.maybePrune(c)
	}
	return nil
}

// forget drops the copies of the batch's jobs.
func (f *postgresFast) forget(batch []*pendingPing) {
	for _, p := range batch {
		delete(f.cache, p.token)
	}
}

// write stores the batch in one statement. stored is false, with nothing
// written, when the batch flips a job.
func (f *postgresFast) write(conn *pgx.Conn, batch []*pendingPing) (bp batchPlan, stored bool, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), f.w.writeTimeout)
	defer cancel()
	jobs := make(map[string]*jobChange, len(batch))
	xmins := make(map[string]string, len(batch)) // job id → row version the batch starts from
	var missing []string
	for _, p := range batch {
		if _, ok := jobs[p.token]; ok {
			continue
		}
		if c, ok := f.cache[p.token]; ok {
			j := c.job
			jobs[p.token] = newJobChange(&j)
			xmins[j.ID] = c.xmin
			continue
		}
		jobs[p.token] = nil
		missing = append(missing, p.token)
	}
	if len(missing) > 0 {
		if err := f.load(ctx, conn, missing, jobs, xmins); err != nil {
			return bp, false, err
		}
	}
	findStart := func(jobID, rid string) (time.Time, bool, error) {
		var t time.Time
		err := conn.QueryRow(ctx, pgFindStartSQL, jobID, rid).Scan(&t)
		if errors.Is(err, pgx.ErrNoRows) {
			return t, false, nil
		}
		return t, err == nil, err
	}
	if bp, err = f.w.plan(batch, jobs, findStart); err != nil {
		return bp, false, err
	}
	if len(bp.flips) > 0 {
		return bp, false, nil
	}
	if len(bp.rows) == 0 {
		return bp, true, nil // every token unknown
	}
	// The statement updates the jobs in the order of the arrays, and every
	// writer of jobs (the watchdog, the transactional path) locks them in
	// id order: so must this one, or two can deadlock.
	slices.SortFunc(bp.changed, func(a, b *jobChange) int { return strings.Compare(a.job.ID, b.job.ID) })
	args := f.args(bp, xmins)
	var one int
	var xmin string
	if err := conn.QueryRow(ctx, pgWriteSQL, args...).Scan(&one, &xmin); err != nil {
		// Most often a job changed under the batch (division by zero):
		// nothing was stored; the transactional path rereads and retries.
		return bp, false, err
	}
	if len(f.cache)+len(bp.changed) > pingCacheMax {
		clear(f.cache)
	}
	for _, c := range bp.changed {
		f.cache[c.job.PingToken] = cachedPingJob{job: *c.job, xmin: xmin}
	}
	return bp, true, nil
}

// load reads the jobs of the given tokens, with their row versions.
func (f *postgresFast) load(ctx context.Context, conn *pgx.Conn, tokens []string, jobs map[string]*jobChange, xmins map[string]string) error {
	rows, err := conn.Query(ctx, pgJobsByTokenSQL, tokens)
	if err != nil {
		return fmt.Errorf("load jobs of ping batch: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var xmin string
		j, err := models.ScanPingJob(rows.Scan, &xmin)
		if err != nil {
			return err
		}
		jobs[j.PingToken] = newJobChange(&j)
		xmins[j.ID] = xmin
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read jobs: %w", err)
	}
	return nil
}

// args lays the batch out as the arrays of pgWriteSQL.
func (f *postgresFast) args(bp batchPlan, xmins map[string]string) []any {
	nj, np := len(bp.changed), len(bp.rows)
	var (
		jid, jx, st, ls = make([]string, nj), make([]string, nj), make([]string, nj), make([]string, nj)
		cnt             = make([]int64, nj)
		act, last, strt = make([]pgtype.Timestamptz, nj), make([]pgtype.Timestamptz, nj), make([]pgtype.Timestamptz, nj)
		wa              = make([]bool, nj)
		al              = make([]pgtype.Timestamptz, nj)
	)
	for i, c := range bp.changed {
		j := c.job
		jid[i], jx[i], cnt[i], st[i], ls[i], wa[i] = j.ID, xmins[j.ID], j.PingCount, j.Status, j.LastStatus, c.writeAlert
		act[i], last[i], strt[i], al[i] = pgTime(j.LastActivityAt), pgTime(j.LastPingAt), pgTime(j.LastStartAt), pgTime(j.AlertAt)
	}
	var (
		pj, kind, rid, body, method, addr, ua = make([]string, np), make([]string, np), make([]string, np), make([]string, np), make([]string, np), make([]string, np), make([]string, np)
		n                                     = make([]int64, np)
		exit, size                            = make([]pgtype.Int4, np), make([]int32, np)
		dur                                   = make([]pgtype.Int8, np)
		at                                    = make([]time.Time, np)
	)
	for i, p := range bp.rows {
		pj[i], n[i], kind[i], rid[i], body[i], size[i] = p.JobID, p.N, p.Kind, p.RID, p.Body, int32(p.BodySize)
		method[i], addr[i], ua[i], at[i] = p.Method, p.RemoteAddr, p.UserAgent, p.CreatedAt
		if p.ExitStatus != nil {
			exit[i] = pgtype.Int4{Int32: int32(*p.ExitStatus), Valid: true}
		}
		if p.DurationMs != nil {
			dur[i] = pgtype.Int8{Int64: *p.DurationMs, Valid: true}
		}
	}
	args := []any{jid, jx, cnt, act, last, strt, st, ls, wa, al,
		pj, n, kind, exit, rid, body, size, method, addr, ua, dur, at, int64(nj)}
	for i := range models.RollupTables {
		args = append(args, bp.rollups.Arrays(i)...)
	}
	return args
}

// pgTime is t as a nullable timestamptz.
func pgTime(t *time.Time) pgtype.Timestamptz {
	if t == nil {
		return pgtype.Timestamptz{}
	}
	return pgtype.Timestamptz{Time: *t, Valid: true}
}
