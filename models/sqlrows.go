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

// The SQL pieces every batched writer shares: the ping writer
// (models/pingwriter), the check-run writer and the watchdog. Column lists
// and row builders are written once here, so that the statements built
// from them cannot drift apart.

// Column is a column a batched statement writes, with its PostgreSQL type
// (for casts and typed arrays).
type Column struct {
	Name   string
	PGType string
}

// ColumnNames joins the names of cols for a column list.
func ColumnNames(cols []Column) string {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}

// JSONRows selects cols, by name, from a batch passed as one JSON parameter
// (an array of rows, each an array of values in cols order): the statement
// text is the same for one row or five hundred, so it is prepared once
// whatever the batch. PostgreSQL casts each value from text.
func JSONRows(postgres bool, cols []Column) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		switch {
		case !postgres:
			parts[i] = fmt.Sprintf("value->>%d AS %s", i, c.Name)
		case c.PGType == "text":
			parts[i] = fmt.Sprintf("v->>%d AS %s", i, c.Name)
		default:
			parts[i] = fmt.Sprintf("(v->>%d)::%s AS %s", i, c.PGType, c.Name)
		}
	}
	from := "json_each(?)"
	if postgres {
		from = "json_array_elements(?::json) AS v"
	}
	return "SELECT " + strings.Join(parts, ", ") + " FROM " + from
}

// PingColumns are the columns of a stored ping, in the order of PingRow.
var PingColumns = []Column{
	{"job_id", "text"}, {"n", "bigint"}, {"kind", "text"}, {"exit_status", "integer"}, {"rid", "text"},
	{"body", "text"}, {"body_size", "integer"}, {"method", "text"}, {"remote_addr", "text"},
	{"user_agent", "text"}, {"duration_ms", "bigint"}, {"created_at", "timestamptz"},
}

// PingRow is p's values in PingColumns order, its time as BatchTime
// renders it.
func (s *Store) PingRow(p *Ping) []any {
	return []any{p.JobID, p.N, p.Kind, p.ExitStatus, p.RID, p.Body, p.BodySize,
		p.Method, p.RemoteAddr, p.UserAgent, p.DurationMs, s.BatchTime(&p.CreatedAt)}
}

// PingedJobColumns are the job columns a ping writes, after the job's id
// and before alert_at (which a ping writes only when it must: see
// pingwriter's jobChange.settle), in the order of PingedJobRow.
var PingedJobColumns = []Column{
	{"ping_count", "bigint"}, {"last_activity_at", "timestamptz"}, {"last_ping_at", "timestamptz"},
	{"last_start_at", "timestamptz"}, {"status", "text"}, {"last_status", "text"},
}

// PingedJobRow is j's id and then its PingedJobColumns values.
func (s *Store) PingedJobRow(j *Job) []any {
	return []any{j.ID, j.PingCount, s.BatchTime(j.LastActivityAt), s.BatchTime(j.LastPingAt),
		s.BatchTime(j.LastStartAt), j.Status, j.LastStatus}
}

// PingJobColumns are the job columns a ping reads or writes, and the
// watchdog too; the rest (headers, tags, body, …) are neither loaded nor
// decoded. ScanPingJob reads them.
const PingJobColumns = `id, project_id, ping_token, schedule, timezone, heartbeat, heartbeat_tolerance, paused, status,
	last_status, ping_count, last_activity_at, last_ping_at, last_start_at, next_run_at, alert_at, url`

// ScanPingJob reads a row of PingJobColumns, and then of extra, through
// scan (the Scan of *sql.Rows, *sql.Row or pgx.Rows).
func ScanPingJob(scan func(dest ...any) error, extra ...any) (Job, error) {
	var j Job
	dest := append([]any{&j.ID, &j.ProjectID, &j.PingToken, &j.Schedule, &j.Timezone, &j.Heartbeat, &j.HeartbeatTolerance,
		&j.Paused, &j.Status, &j.LastStatus, &j.PingCount, &j.LastActivityAt, &j.LastPingAt, &j.LastStartAt,
		&j.NextRunAt, &j.AlertAt, &j.URL}, extra...)
	if err := scan(dest...); err != nil {
		return j, fmt.Errorf("read job: %w", err)
	}
	return j, nil
}

// ScanPingJobs reads rows of PingJobColumns, and closes them.
func ScanPingJobs(rows *sql.Rows, sizeHint int) ([]Job, error) {
	defer rows.Close()
	jobs := make([]Job, 0, sizeHint)
	for rows.Next() {
		j, err := ScanPingJob(rows.Scan)
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read jobs: %w", err)
	}
	return jobs, nil
}

// sqliteTimeFormat is how the SQLite driver writes a time.Time; timestamps
// inside JSON must look the same so that comparisons on text still order.
const sqliteTimeFormat = "2006-01-02 15:04:05.999999999-07:00"

// BatchTime renders a timestamp for a batch passed as JSON, or as text
// parameters of a multi-row statement on SQLite (nil stays null).
func (s *Store) BatchTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	if s.dialect == SQLite {
		return t.UTC().Format(sqliteTimeFormat)
	}
	return t.UTC().Format(time.RFC3339Nano)
}

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

// ValueRows writes n rows of cols placeholders: "(?,?),(?,?)".
func ValueRows(n, cols int) string {
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
		return nil, fmt.Errorf("prepare %q: %w", FirstWords(query), err)
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

// FirstWords shortens a query for an error message.
func FirstWords(q string) string {
	if len(q) > 40 {
		return q[:40] + "…"
	}
	return q
}

// stmtChunk is how many rows one batched statement carries. The SQLite
// driver parses every statement anew (it keeps no prepared statements), so
// batching saves a parse per row; but a statement with thousands of
// parameters makes SQLite allocate (and the pure-Go libc map and unmap)
// large buffers, so chunks stay moderate.
const stmtChunk = 100
