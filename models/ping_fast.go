package models

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"
)

// The PostgreSQL fast path of the ping writer. The transactional path costs
// five round trips per batch (BEGIN, SELECT … FOR UPDATE, INSERT, UPDATE,
// COMMIT), and with at most a connection's worth of pings outstanding the
// rate is pings per batch over batch latency. The fast path writes a batch
// in one statement, in its own implicit transaction: a CTE that updates the
// jobs only where the row version (xmin) is still the one the batch was
// computed from, inserts the pings, and fails the whole statement (division
// by zero) unless every job matched. The job rows it needs come from a
// cache of what the writer itself last wrote, with that row's xmin, so a
// batch of known jobs is one round trip; unknown jobs are read first
// (without a lock: the compare-and-set on xmin stands in for it).
//
// A batch that would change a job's status across an alerting edge (a
// flip), or whose compare-and-set fails because someone else (the
// watchdog, the checker, an API edit, another writer) changed a job, goes
// through the transactional path instead, which locks, rereads and writes
// flips through insertFlip in the same transaction.

// errFastMiss means the fast path did not store the batch and the
// transactional path must.
var errFastMiss = errors.New("fast path does not apply")

// pingJobCache holds, per ping token, the job row as the writer last wrote
// it and that row version's xmin.
type pingJobCache struct {
	sync.Mutex
	m map[string]cachedPingJob
}

type cachedPingJob struct {
	job  Job
	xmin string
}

// pingCacheMax bounds the cache; when full it is emptied (jobs are reread).
const pingCacheMax = 100_000

func (c *pingJobCache) forget(tokens []string) {
	c.Lock()
	defer c.Unlock()
	for _, t := range tokens {
		delete(c.m, t)
	}
}

const fastJobsSQL = `SELECT ` + pingJobColumns + `, xmin::text FROM jobs WHERE ping_token IN (SELECT json_array_elements_text(?::json))`

const fastWriteSQL = `WITH upd AS (
		UPDATE jobs SET ping_count = (v->>1)::bigint, last_activity_at = (v->>2)::timestamptz,
			last_ping_at = (v->>3)::timestamptz, last_start_at = (v->>4)::timestamptz, status = v->>5,
			last_status = v->>6, next_run_at = (v->>7)::timestamptz, alert_at = (v->>8)::timestamptz
		FROM json_array_elements(?::json) AS v
		WHERE jobs.id = v->>0 AND jobs.xmin::text = v->>9
		RETURNING jobs.id, jobs.xmin::text AS x),
	ins AS (
		INSERT INTO pings (job_id, n, kind, exit_status, rid, body, body_size, method, remote_addr, user_agent, duration_ms, created_at)
		SELECT v->>0, (v->>1)::bigint, v->>2, (v->>3)::integer, v->>4, v->>5, (v->>6)::integer, v->>7, v->>8, v->>9, (v->>10)::bigint, (v->>11)::timestamptz
		FROM json_array_elements(?::json) AS v)
	SELECT 1 / (count(*) = ?)::int, coalesce(json_agg(json_build_array(id, x)), '[]')::text FROM upd`

// commitFast stores the batch by the fast path, or returns errFastMiss
// (nothing stored) when the transactional path must do it.
func (w *PingWriter) commitFast(batch []*pendingPing) error {
	s := w.store
	var tokens, missing []string
	seen := make(map[string]bool, len(batch))
	byToken := make(map[string]*jobChange, len(batch))
	xmins := make(map[string]string, len(batch)) // job id → xmin read
	for _, p := range batch {
		p.err = nil
		p.ping.ID, p.ping.N, p.ping.DurationMs = 0, 0, nil
		if seen[p.token] {
			continue
		}
		seen[p.token] = true
		tokens = append(tokens, p.token)
	}
	w.cache.Lock()
	for _, t := range tokens {
		if c, ok := w.cache.m[t]; ok {
			j := c.job
			byToken[t] = &jobChange{job: &j, countFrom: j.PingCount}
			xmins[j.ID] = c.xmin
		} else {
			missing = append(missing, t)
		}
	}
	w.cache.Unlock()
	if len(missing) > 0 {
		arg, err := json.Marshal(missing)
		if err != nil {
			return fmt.Errorf("encode tokens: %w", err)
		}
		rows, err := w.db.Raw(fastJobsSQL, string(arg)).Rows()
		if err != nil {
			return fmt.Errorf("load jobs of ping batch: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var j Job
			var xmin string
			if err := rows.Scan(&j.ID, &j.PingToken, &j.Schedule, &j.Timezone, &j.Heartbeat, &j.HeartbeatTolerance,
				&j.Paused, &j.Status, &j.LastStatus, &j.PingCount, &j.LastActivityAt, &j.LastPingAt, &j.LastStartAt,
				&j.NextRunAt, &j.AlertAt, &j.URL, &xmin); err != nil {
				return fmt.Errorf("read job: %w", err)
			}
			byToken[j.PingToken] = &jobChange{job: &j, countFrom: j.PingCount}
			xmins[j.ID] = xmin
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read jobs: %w", err)
		}
		rows.Close()
	}
	starts := map[string]time.Time{}
	var pings []*Ping
	var changed []*jobChange
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
		matched, err := w.duration(w.db, j, ping, starts)
		if err != nil {
			return err
		}
		if ping.Kind == PingStart && ping.RID != "" {
			starts[j.ID+"\x00"+ping.RID] = ping.CreatedAt
		}
		if _, reason := pingEffect(j, w.schedule(j), ping, matched); reason != "" {
			return errFastMiss // a flip: written in a transaction
		}
		pings = append(pings, ping)
		if !touched[j.ID] {
			touched[j.ID] = true
			changed = append(changed, c)
		}
	}
	if len(pings) == 0 {
		return nil
	}
	pingArg, err := s.pingsJSON(pings)
	if err != nil {
		return err
	}
	jobBatch := make([][]any, len(changed))
	for i, c := range changed {
		j := c.job
		jobBatch[i] = []any{j.ID, j.PingCount, s.ts(j.LastActivityAt), s.ts(j.LastPingAt), s.ts(j.LastStartAt),
			j.Status, j.LastStatus, s.ts(j.NextRunAt), s.ts(j.AlertAt), xmins[j.ID]}
	}
	jobArg, err := json.Marshal(jobBatch)
	if err != nil {
		return fmt.Errorf("encode %d jobs: %w", len(changed), err)
	}
	var one int
	var written string
	row := w.db.Raw(fastWriteSQL, string(jobArg), pingArg, len(changed)).Row()
	if err := row.Scan(&one, &written); err != nil {
		// Most often a job changed under the batch (division by zero):
		// nothing was stored; the transactional path rereads and retries.
		w.cache.forget(tokens)
		w.log.Debug("ping fast path missed", "error", err)
		return errFastMiss
	}
	var ids [][2]string
	if err := json.Unmarshal([]byte(written), &ids); err != nil {
		w.cache.forget(tokens)
		return nil // stored; only the cache is unknown
	}
	newX := make(map[string]string, len(ids))
	for _, p := range ids {
		newX[p[0]] = p[1]
	}
	w.cache.Lock()
	if len(w.cache.m)+len(changed) > pingCacheMax {
		clear(w.cache.m)
	}
	for _, c := range changed {
		if x, ok := newX[c.job.ID]; ok {
			w.cache.m[c.job.PingToken] = cachedPingJob{job: *c.job, xmin: x}
		}
	}
	w.cache.Unlock()
	for _, c := range changed {
		w.maybePrune(c)
	}
	return nil
}
