package models

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// The statements of the ping writer's transactional path (ping_tx.go), and
// of the watchdog, carry a whole batch as one JSON parameter, unpacked by
// the database (json_each on SQLite, json_array_elements on PostgreSQL):
// the statement text is the same for one row or five hundred, so it is
// prepared once whatever the batch. (The fast paths, which run far more
// often, use prepared multi-row statements on SQLite and typed arrays on
// PostgreSQL instead: see ping_sqlite.go and ping_pg.go.)

// sqliteTimeFormat is how the SQLite driver writes a time.Time; timestamps
// inside JSON must look the same so that comparisons on text still order.
const sqliteTimeFormat = "2006-01-02 15:04:05.999999999-07:00"

// ts renders a timestamp for a JSON batch (nil stays null).
func (s *Store) ts(t *time.Time) any {
	if t == nil {
		return nil
	}
	if s.dialect == SQLite {
		return t.UTC().Format(sqliteTimeFormat)
	}
	return t.UTC().Format(time.RFC3339Nano)
}

var insertPingsSQL = map[Dialect]string{
	SQLite: `INSERT INTO pings (job_id, n, kind, exit_status, rid, body, body_size, method, remote_addr, user_agent, duration_ms, created_at)
		SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7, value->>8, value->>9, value->>10, value->>11
		FROM json_each(?)`,
	Postgres: `INSERT INTO pings (job_id, n, kind, exit_status, rid, body, body_size, method, remote_addr, user_agent, duration_ms, created_at)
		SELECT v->>0, (v->>1)::bigint, v->>2, (v->>3)::integer, v->>4, v->>5, (v->>6)::integer, v->>7, v->>8, v->>9, (v->>10)::bigint, (v->>11)::timestamptz
		FROM json_array_elements(?::json) AS v`,
}

// insertPings writes rows in one statement. Their ids are not read back:
// nothing needs them.
func (s *Store) insertPings(tx *gorm.DB, rows []*Ping) error {
	arg, err := s.pingsJSON(rows)
	if err != nil {
		return err
	}
	if err := tx.Exec(insertPingsSQL[s.dialect], arg).Error; err != nil {
		return fmt.Errorf("insert %d pings: %w", len(rows), err)
	}
	return nil
}

// pingsJSON encodes rows as the JSON parameter of insertPingsSQL.
func (s *Store) pingsJSON(rows []*Ping) (string, error) {
	batch := make([][]any, len(rows))
	for i, p := range rows {
		batch[i] = []any{p.JobID, p.N, p.Kind, p.ExitStatus, p.RID, p.Body, p.BodySize, p.Method, p.RemoteAddr, p.UserAgent, p.DurationMs, s.ts(&p.CreatedAt)}
	}
	arg, err := json.Marshal(batch)
	if err != nil {
		return "", fmt.Errorf("encode %d pings: %w", len(rows), err)
	}
	return string(arg), nil
}

var updateJobsSQL = map[Dialect]string{
	SQLite: `UPDATE jobs SET ping_count = v.c, last_activity_at = v.a, last_ping_at = v.p, last_start_at = v.s,
			status = v.st, last_status = v.ls, alert_at = v.al
		FROM (SELECT value->>0 AS id, value->>1 AS c, value->>2 AS a, value->>3 AS p, value->>4 AS s,
			value->>5 AS st, value->>6 AS ls, value->>7 AS al FROM json_each(?)) AS v
		WHERE jobs.id = v.id`,
	Postgres: `UPDATE jobs SET ping_count = (v->>1)::bigint, last_activity_at = (v->>2)::timestamptz,
			last_ping_at = (v->>3)::timestamptz, last_start_at = (v->>4)::timestamptz, status = v->>5,
			last_status = v->>6, alert_at = (v->>7)::timestamptz
		FROM json_array_elements(?::json) AS v
		WHERE jobs.id = v->>0`,
}

// updatePingedJobs writes the ping-driven columns of every job a batch
// touched, in one statement. alert_at is written as settle left it (the
// stored value when it need not move). next_run_at is not a ping's to
// write: see Job.deriveNextRun.
func (s *Store) updatePingedJobs(tx *gorm.DB, changed []*jobChange) error {
	batch := make([][]any, len(changed))
	for i, c := range changed {
		j := c.job
		batch[i] = []any{j.ID, j.PingCount, s.ts(j.LastActivityAt), s.ts(j.LastPingAt), s.ts(j.LastStartAt),
			j.Status, j.LastStatus, s.ts(j.AlertAt)}
	}
	arg, err := json.Marshal(batch)
	if err != nil {
		return fmt.Errorf("encode %d jobs: %w", len(changed), err)
	}
	res := tx.Exec(updateJobsSQL[s.dialect], string(arg))
	if res.Error != nil {
		return fmt.Errorf("update %d jobs after pings: %w", len(changed), res.Error)
	}
	if res.RowsAffected != int64(len(changed)) {
		return fmt.Errorf("update jobs after pings: %d of %d rows updated", res.RowsAffected, len(changed))
	}
	return nil
}

// pingJobColumns are the job columns a ping reads or writes; the rest
// (headers, tags, body, …) are neither loaded nor decoded.
const pingJobColumns = `id, ping_token, schedule, timezone, heartbeat, heartbeat_tolerance, paused, status,
	last_status, ping_count, last_activity_at, last_ping_at, last_start_at, next_run_at, alert_at, url`

var jobsByTokenSQL = map[Dialect]string{
	SQLite:   `SELECT ` + pingJobColumns + ` FROM jobs WHERE ping_token IN (SELECT value FROM json_each(?)) ORDER BY id`,
	Postgres: `SELECT ` + pingJobColumns + ` FROM jobs WHERE ping_token IN (SELECT json_array_elements_text(?::json)) ORDER BY id FOR UPDATE`,
}

// jobsByTokens loads the ping columns of the jobs of a batch; on PostgreSQL
// it locks their rows (the watchdog and the HTTP checker update the same
// jobs, and the batch reads before it writes), in id order so that writers
// never deadlock.
func (s *Store) jobsByTokens(tx *gorm.DB, tokens []string) ([]Job, error) {
	arg, err := json.Marshal(tokens)
	if err != nil {
		return nil, fmt.Errorf("encode tokens: %w", err)
	}
	rows, err := tx.Raw(jobsByTokenSQL[s.dialect], string(arg)).Rows()
	if err != nil {
		return nil, fmt.Errorf("load jobs of ping batch: %w", err)
	}
	return scanPingJobs(rows, len(tokens))
}

// scanPingJobs reads rows of pingJobColumns, and closes them.
func scanPingJobs(rows *sql.Rows, sizeHint int) ([]Job, error) {
	defer rows.Close()
	jobs := make([]Job, 0, sizeHint)
	for rows.Next() {
		var j Job
		if err := rows.Scan(&j.ID, &j.PingToken, &j.Schedule, &j.Timezone, &j.Heartbeat, &j.HeartbeatTolerance,
			&j.Paused, &j.Status, &j.LastStatus, &j.PingCount, &j.LastActivityAt, &j.LastPingAt, &j.LastStartAt,
			&j.NextRunAt, &j.AlertAt, &j.URL); err != nil {
			return nil, fmt.Errorf("read job: %w", err)
		}
		jobs = append(jobs, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read jobs: %w", err)
	}
	return jobs, nil
}

// pingsStoredSQL counts the rows of pings that are the given ones: the same
// job, serial, kind, time, run id, body size, method, remote address and
// user agent. (Times are whole microseconds, as PostgreSQL keeps them:
// PingWriter.Write truncates them.) PostgreSQL only: only there can a write
// end in doubt (see PingWriter.inDoubt).
const pingsStoredSQL = `SELECT count(*) FROM json_array_elements(?::json) AS v
	JOIN pings ON pings.job_id = v->>0 AND pings.n = (v->>1)::bigint AND pings.kind = v->>2
		AND pings.created_at = (v->>3)::timestamptz AND pings.rid = v->>4 AND pings.body_size = (v->>5)::integer
		AND pings.method = v->>6 AND pings.remote_addr = v->>7 AND pings.user_agent = v->>8`

// pingsStored reports how many of rows (job id, N, kind and time set) are
// stored.
func (s *Store) pingsStored(rows []*Ping) (int, error) {
	batch := make([][]any, len(rows))
	for i, p := range rows {
		batch[i] = []any{p.JobID, p.N, p.Kind, s.ts(&p.CreatedAt), p.RID, p.BodySize, p.Method, p.RemoteAddr, p.UserAgent}
	}
	return s.countStored("pings", pingsStoredSQL, batch)
}
