package pingwriter

import (
	"fmt"
	"slices"
	"strings"

	"github.com/cronpulse/cronpulse/models"
)

// The writer's statements. Each is built from the column lists of
// models/sqlrows.go, so the ping inserts and job updates of the three ways
// of writing a batch (the transactional path on either database, each
// dialect's fast path) name the same columns in the same order as the row
// builders fill them.

// alertAt is the job column a ping writes only when it must (see
// jobChange.settle).
var alertAt = models.Column{Name: "alert_at", PGType: "timestamptz"}

// idColumn is a job's primary key, the first value of every job row.
var idColumn = models.Column{Name: "id", PGType: "text"}

// setList writes "a = v.a, b = v.b" for cols, the value of each from val.
func setList(cols []models.Column, val func(i int, c models.Column) string) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = c.Name + " = " + val(i, c)
	}
	return strings.Join(parts, ", ")
}

// fromV is the value of column c in the row source v.
func fromV(_ int, c models.Column) string { return "v." + c.Name }

// unnestArrays writes the typed array parameters of cols, numbered from
// first: "$1::text[], $2::bigint[]".
func unnestArrays(first int, cols []models.Column) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = fmt.Sprintf("$%d::%s[]", first+i, c.PGType)
	}
	return strings.Join(parts, ", ")
}

// rollupRowsSQL is the source of a rollup table's rows from the three
// arrays of models.Rollups.Arrays, numbered from first: the hour and the
// id of row i, and its counters, cols[2:], at i's place in the third.
// "WHERE true" tells the parser that the INSERT's ON CONFLICT does not
// belong to the FROM item.
func rollupRowsSQL(first int, cols []models.Column) string {
	width := len(cols) - 2
	parts := []string{fmt.Sprintf("($%d::%s[])[i]", first, cols[0].PGType), fmt.Sprintf("($%d::%s[])[i]", first+1, cols[1].PGType)}
	for k := range width {
		parts = append(parts, fmt.Sprintf("($%d::bigint[])[(i-1)*%d+%d]", first+2, width, k+1))
	}
	return "SELECT " + strings.Join(parts, ", ") + fmt.Sprintf(" FROM generate_subscripts($%d::%s[], 1) AS g(i) WHERE true", first+1, cols[1].PGType)
}

// insertPings is the INSERT of pings from the given source of rows.
func insertPings(source string) string {
	return "INSERT INTO pings (" + models.ColumnNames(models.PingColumns) + ") " + source
}

// jobRowColumns are the columns of a job row as the transactional path and
// the SQLite fast path write it: the id, the ping columns, then alert_at
// (models.Store.PingedJobRow and the alert_at appended to it).
var jobRowColumns = append(append([]models.Column{idColumn}, models.PingedJobColumns...), alertAt)

// The transactional path's statements (tx.go).
var (
	txInsertPingsSQL = map[bool]string{
		false: insertPings(models.JSONRows(false, models.PingColumns)),
		true:  insertPings(models.JSONRows(true, models.PingColumns)),
	}
	// txUpdateJobsSQL writes alert_at as settle left it: the stored value
	// when it need not move.
	txUpdateJobsSQL = map[bool]string{
		false: "UPDATE jobs SET " + setList(jobRowColumns[1:], fromV) + " FROM (" + models.JSONRows(false, jobRowColumns) + ") AS v WHERE jobs.id = v.id",
		true:  "UPDATE jobs SET " + setList(jobRowColumns[1:], fromV) + " FROM (" + models.JSONRows(true, jobRowColumns) + ") AS v WHERE jobs.id = v.id",
	}
	// txJobsByTokenSQL loads the jobs of a batch; on PostgreSQL it locks
	// their rows (the watchdog and the HTTP checker update the same jobs,
	// and the batch reads before it writes), in id order so that writers
	// never deadlock.
	txJobsByTokenSQL = map[bool]string{
		false: `SELECT ` + models.PingJobColumns + ` FROM jobs WHERE ping_token IN (SELECT value FROM json_each(?)) ORDER BY id`,
		true:  `SELECT ` + models.PingJobColumns + ` FROM jobs WHERE ping_token IN (SELECT json_array_elements_text(?::json)) ORDER BY id FOR UPDATE`,
	}
)

// findStartSQL looks up the latest start of a run. kind = 'start' is written
// as a literal: it is the partial index's condition (pings_job_rid), and a
// bound parameter would not let SQLite use it.
const findStartSQL = `SELECT created_at FROM pings WHERE job_id = ? AND rid = ? AND kind = 'start' ORDER BY n DESC LIMIT 1`

// prunePingsSQL deletes a job's pings numbered up to a cutoff.
const prunePingsSQL = `DELETE FROM pings WHERE job_id = ? AND n <= ?`

// The SQLite fast path's statements (sqlite.go): VALUES lists of many rows,
// %s standing for the rows.
var (
	sqliteInsertPingsSQL = insertPings("VALUES %s")
	// Two job updates: status and alert_at are indexed, and SQLite
	// maintains the indexes of every column a statement sets, changed or
	// not. A job whose status and alert_at stand (most pings: see
	// jobChange.settle) is updated without them.
	sqliteUpdateJobsSQL      = sqliteUpdateJobs(hotColumns)
	sqliteUpdateJobsAlertSQL = sqliteUpdateJobs(jobRowColumns)
	sqliteJobByTokenSQL      = `SELECT ` + models.PingJobColumns + ` FROM jobs WHERE ping_token = ?`
	// sqliteRollupSQL adds to the job and the project buckets
	// (models.RollupTables), in that order.
	sqliteRollupSQL = rollupSQL(false, func(cols []models.Column) string { return "VALUES %s" })
)

// rollupSQL is the upsert of each of models.RollupTables, its rows from
// the source that values gives for the table's columns.
func rollupSQL(postgres bool, values func(cols []models.Column) string) [2]string {
	var q [2]string
	for i, t := range models.RollupTables {
		cols := models.RollupColumns(t[1])
		q[i] = "INSERT INTO " + t[0] + " (" + models.ColumnNames(cols) + ") " + values(cols) + models.RollupConflict(postgres, t[0], t[1])
	}
	return q
}

// statusAt is the place of status in a job row (jobRowColumns).
var statusAt = slices.IndexFunc(jobRowColumns, func(c models.Column) bool { return c.Name == "status" })

// hotColumns are jobRowColumns without status and alert_at.
var hotColumns = slices.Delete(slices.Clone(jobRowColumns[:len(jobRowColumns)-1]), statusAt, statusAt+1)

// hotRow is a job row (models.Store.PingedJobRow) without its status, in
// hotColumns order. It reuses row.
func hotRow(row []any) []any { return slices.Delete(row, statusAt, statusAt+1) }

// sqliteUpdateJobs updates cols[1:] of the jobs whose ids are cols[0] of
// VALUES rows (SQLite names their columns column1, column2, …).
func sqliteUpdateJobs(cols []models.Column) string {
	set := setList(cols[1:], func(i int, _ models.Column) string { return fmt.Sprintf("v.column%d", i+2) })
	return "UPDATE jobs SET " + set + " FROM (VALUES %s) AS v WHERE jobs.id = v.column1"
}

// The PostgreSQL fast path's statements (postgres.go).
var (
	pgJobsByTokenSQL = `SELECT ` + models.PingJobColumns + `, xmin::text FROM jobs WHERE ping_token = ANY($1::text[])`
	pgFindStartSQL   = `SELECT created_at FROM pings WHERE job_id = $1 AND rid = $2 AND kind = 'start' ORDER BY n DESC LIMIT 1`
	pgWriteSQL       = pgWrite()
)

// pgJobColumns are the job arrays of pgWriteSQL: the id, the row version
// the batch was computed from (xmin, as text), the ping columns, whether to
// write alert_at, and alert_at.
var pgJobColumns = append(append([]models.Column{idColumn, {Name: "x", PGType: "text"}}, models.PingedJobColumns...),
	models.Column{Name: "wa", PGType: "boolean"}, alertAt)

// pgWrite builds the fast path's one statement: a CTE that updates the
// jobs only where the row version (xmin) is still the one the batch was
// computed from, inserts the pings (unnest), adds the runs to their
// buckets, and fails the whole statement (division by zero) unless every
// job matched. Its parameters are the arrays of pgJobColumns, then of
// models.PingColumns, the number of jobs, then the three arrays of each of
// models.RollupTables (models.Rollups.Arrays).
func pgWrite() string {
	nj := len(pgJobColumns)
	np := len(models.PingColumns)
	set := setList(models.PingedJobColumns, fromV) + ", alert_at = CASE WHEN v.wa THEN v.alert_at ELSE jobs.alert_at END"
	next := nj + np + 2
	rollups := rollupSQL(true, func(cols []models.Column) string {
		src := rollupRowsSQL(next, cols)
		next += 3
		return src
	})
	return `WITH v AS (
		SELECT * FROM unnest(` + unnestArrays(1, pgJobColumns) + `)
			AS v(` + models.ColumnNames(pgJobColumns) + `)),
	upd AS (
		UPDATE jobs SET ` + set + `
		FROM v WHERE jobs.id = v.id AND jobs.xmin::text = v.x
		RETURNING jobs.xmin::text AS x),
	ins AS (
		` + insertPings("SELECT * FROM unnest("+unnestArrays(nj+1, models.PingColumns)+")") + `),
	rj AS (` + rollups[0] + `),
	rp AS (` + rollups[1] + `)
	SELECT 1 / (count(*) = $` + fmt.Sprint(nj+np+1) + `)::int, max(x) FROM upd`
}

// pingsStoredSQL counts the rows of pings that are the given ones: the same
// job, serial, kind, time, run id, body size, method, remote address and
// user agent. (Times are whole microseconds, as PostgreSQL keeps them:
// Writer.Write truncates them.) PostgreSQL only: only there can a write end
// in doubt (see Writer.inDoubt).
const pingsStoredSQL = `SELECT count(*) FROM json_array_elements(?::json) AS v
	JOIN pings ON pings.job_id = v->>0 AND pings.n = (v->>1)::bigint AND pings.kind = v->>2
		AND pings.created_at = (v->>3)::timestamptz AND pings.rid = v->>4 AND pings.body_size = (v->>5)::integer
		AND pings.method = v->>6 AND pings.remote_addr = v->>7 AND pings.user_agent = v->>8`
