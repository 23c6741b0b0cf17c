package models

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Helpers for the check runs' batched statements.

// valuesTime is a time as a parameter of a VALUES list. PostgreSQL types
// those parameters as text (the statements cast them back), so it gets an
// RFC 3339 string; SQLite stores times as text already and gets the time
// itself, so that the driver formats it exactly as it formats the stored
// values it is compared with.
func (s *Store) valuesTime(t time.Time) any {
	if s.dialect == Postgres {
		return t.UTC().Format(time.RFC3339Nano)
	}
	return t.UTC()
}

// valueRows writes n rows of cols placeholders: "(?,?),(?,?)".
func valueRows(n, cols int) string {
	row := "(" + strings.Repeat("?,", cols-1) + "?)"
	var b strings.Builder
	b.Grow(n * (len(row) + 1))
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(row)
	}
	return b.String()
}

// prepare prepares query, written with ? placeholders, on tx's connection.
// The statement is the caller's to close.
func (s *Store) prepare(tx *gorm.DB, query string) (*sql.Stmt, error) {
	if s.dialect == Postgres {
		query = dollarPlaceholders(query)
	}
	st, err := tx.Statement.ConnPool.PrepareContext(context.Background(), query)
	if err != nil {
		return nil, fmt.Errorf("prepare %q: %w", firstWords(query), err)
	}
	return st, nil
}

// dollarPlaceholders rewrites ? placeholders as PostgreSQL's $1, $2, …
// (the queries passed to it hold no other question marks).
func dollarPlaceholders(q string) string {
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// firstWords shortens a query for an error message.
func firstWords(q string) string {
	if len(q) > 40 {
		return q[:40] + "…"
	}
	return q
}

// claimChunk claims up to stmtChunk ticks with one statement: an UPDATE
// joined with a VALUES list of (id, expected nextRunAt, new nextRunAt),
// which moves only the rows still at their expected tick and returns their
// ids.
func (s *Store) claimChunk(tx *gorm.DB, chunk []CheckClaim) (map[string]bool, error) {
	cur, next := "v.column2", "v.column3"
	if s.dialect == Postgres {
		cur, next = "CAST(v.column2 AS timestamptz)", "CAST(v.column3 AS timestamptz)"
	}
	args := make([]any, 0, 3*len(chunk))
	for _, c := range chunk {
		args = append(args, c.JobID, s.valuesTime(*c.From), s.valuesTime(c.Next))
	}
	q := "UPDATE jobs SET next_run_at = " + next + " FROM (VALUES " + valueRows(len(chunk), 3) + ") AS v" +
		" WHERE jobs.id = v.column1 AND jobs.next_run_at = " + cur + " AND jobs.url <> '' AND jobs.paused = false RETURNING jobs.id"
	rows, err := tx.Raw(q, args...).Rows()
	if err != nil {
		return nil, fmt.Errorf("claim %d checks: %w", len(chunk), err)
	}
	defer rows.Close()
	ids := make(map[string]bool, len(chunk))
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("read claimed check: %w", err)
		}
		ids[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim %d checks: %w", len(chunk), err)
	}
	return ids, nil
}

// stmtChunk is how many rows one batched statement carries. The SQLite
// driver parses every statement anew (it keeps no prepared statements), so
// batching saves a parse per row; but a statement with thousands of
// parameters makes SQLite allocate (and the pure-Go libc map and unmap)
// large buffers, so chunks stay moderate.
const stmtChunk = 100

// runColumns are the check_runs columns insertRuns writes, in order.
// "trigger" is quoted: it is a keyword in both databases.
const runColumns = `job_id, result, http_status, response_time_ms, error, "trigger", scheduled_at, created_at`

// runArgs are a run's values in runColumns order.
func runArgs(r *CheckRun) []any {
	var scheduled, status any
	if r.ScheduledAt != nil {
		scheduled = r.ScheduledAt.UTC()
	}
	if r.HTTPStatus != nil {
		status = *r.HTTPStatus
	}
	return []any{r.JobID, r.Result, status, r.ResponseTimeMs, r.Error, runTrigger(r), scheduled, r.CreatedAt.UTC()}
}

// runTrigger is the trigger a run is stored with (schedule when unset).
func runTrigger(r *CheckRun) string {
	if r.Trigger == "" {
		return TriggerSchedule
	}
	return r.Trigger
}

// insertRuns inserts runs with multi-row INSERTs of stmtChunk rows; their
// ids are not read back.
func (s *Store) insertRuns(tx *gorm.DB, runs []*CheckRun) error {
	for len(runs) > 0 {
		chunk := runs[:min(len(runs), stmtChunk)]
		runs = runs[len(chunk):]
		args := make([]any, 0, 8*len(chunk))
		for _, r := range chunk {
			args = append(args, runArgs(r)...)
		}
		q := "INSERT INTO check_runs (" + runColumns + ") VALUES " + valueRows(len(chunk), 8)
		if err := tx.Exec(q, args...).Error; err != nil {
			return fmt.Errorf("insert %d check runs: %w", len(chunk), err)
		}
	}
	return nil
}

// runsStoredSQL counts the rows of check_runs that are the given runs: the
// same job, result, trigger, response time and HTTP status, and times
// within a millisecond (sent in binary they are truncated to the
// microsecond, as text rounded). PostgreSQL only (see RecordRuns).
const runsStoredSQL = `SELECT count(*) FROM json_array_elements(?::json) AS v
	JOIN check_runs ON check_runs.job_id = v->>0 AND check_runs.result = v->>1 AND check_runs.trigger = v->>2
		AND check_runs.response_time_ms = (v->>3)::bigint AND check_runs.http_status IS NOT DISTINCT FROM (v->>4)::integer
		AND abs(extract(epoch FROM check_runs.created_at - (v->>5)::timestamptz)) < 0.001
		AND (check_runs.scheduled_at IS NULL) = (v->>6 IS NULL)
		AND (v->>6 IS NULL OR abs(extract(epoch FROM check_runs.scheduled_at - (v->>6)::timestamptz)) < 0.001)`

// runsStored reports how many of runs are stored.
func (s *Store) runsStored(runs []*CheckRun) (int, error) {
	batch := make([][]any, len(runs))
	for i, r := range runs {
		batch[i] = []any{r.JobID, r.Result, runTrigger(r), r.ResponseTimeMs, r.HTTPStatus, s.ts(&r.CreatedAt), s.ts(r.ScheduledAt)}
	}
	return s.countStored("check runs", runsStoredSQL, batch)
}
