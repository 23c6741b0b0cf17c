package models

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Rollups: every stored ping and check run also adds to its job's hourly
// bucket (stats_hourly) and its project's (project_stats_hourly), in the
// same transaction as the run, by the writer that stores it. The stats
// API reads buckets, never raw runs (see stats.go).

// DurationBuckets are the upper bounds, in milliseconds, of the duration
// histogram's buckets h0…h14; h15 counts the longer ones. They span a fast
// endpoint's response time to a nightly job's run, so that p50 and p95 can
// be read off within a bucket's width.
var DurationBuckets = [15]int64{10, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000,
	60_000, 300_000, 900_000, 3_600_000, 10_800_000}

// histBuckets is the number of histogram buckets.
const histBuckets = len(DurationBuckets) + 1

// Counters are what a bucket counts.
type Counters struct {
	Success, Failure, Timeout, Error int64
	DurCount, DurSum, DurMax         int64 // durations in milliseconds
	Hist                             [histBuckets]int64
}

// Runs is the number of runs counted.
func (c *Counters) Runs() int64 { return c.Success + c.Failure + c.Timeout + c.Error }

// Failed is the number of runs that did not succeed.
func (c *Counters) Failed() int64 { return c.Failure + c.Timeout + c.Error }

// add counts one run with the given outcome (a check run's result, or
// RunSuccess / RunFailure for a ping) and duration (nil: unknown).
func (c *Counters) add(outcome string, durMs *int64) {
	switch outcome {
	case RunSuccess:
		c.Success++
	case RunTimeout:
		c.Timeout++
	case RunError:
		c.Error++
	default:
		c.Failure++
	}
	if durMs == nil {
		return
	}
	d := max(*durMs, 0)
	c.DurCount++
	c.DurSum += d
	c.DurMax = max(c.DurMax, d)
	i := 0
	for i < len(DurationBuckets) && d > DurationBuckets[i] {
		i++
	}
	c.Hist[i]++
}

// Merge adds o's counts to c.
func (c *Counters) Merge(o *Counters) {
	c.Success += o.Success
	c.Failure += o.Failure
	c.Timeout += o.Timeout
	c.Error += o.Error
	c.DurCount += o.DurCount
	c.DurSum += o.DurSum
	c.DurMax = max(c.DurMax, o.DurMax)
	for i := range c.Hist {
		c.Hist[i] += o.Hist[i]
	}
}

// values are c's values in counterColumns order.
func (c *Counters) values() []any {
	v := make([]any, 0, len(counterColumns))
	for _, n := range c.appendTo(make([]int64, 0, len(counterColumns))) {
		v = append(v, n)
	}
	return v
}

// appendTo appends c's values to dst in counterColumns order.
func (c *Counters) appendTo(dst []int64) []int64 {
	dst = append(dst, c.Success, c.Failure, c.Timeout, c.Error, c.DurCount, c.DurSum, c.DurMax)
	return append(dst, c.Hist[:]...)
}

// dest are pointers to c's fields in counterColumns order, for Scan.
func (c *Counters) dest() []any {
	d := []any{&c.Success, &c.Failure, &c.Timeout, &c.Error, &c.DurCount, &c.DurSum, &c.DurMax}
	for i := range c.Hist {
		d = append(d, &c.Hist[i])
	}
	return d
}

// counterColumns are the bucket columns after the key, in Counters order.
var counterColumns = func() []Column {
	cols := []Column{{"success", "bigint"}, {"failure", "bigint"}, {"timeout", "bigint"}, {"error", "bigint"},
		{"dur_count", "bigint"}, {"dur_sum", "bigint"}, {"dur_max", "bigint"}}
	for i := 0; i < histBuckets; i++ {
		cols = append(cols, Column{fmt.Sprintf("h%d", i), "bigint"})
	}
	return cols
}()

// counterList is counterColumns as a column list.
var counterList = ColumnNames(counterColumns)

// bucketKey names one hourly bucket of a job or a project.
type bucketKey struct {
	id   string
	hour time.Time
}

// Rollups gathers a batch's runs by bucket, for AddRollups (or a writer's
// own statement: JobRollupRows, ProjectRollupRows). The zero value is
// empty and ready.
type Rollups struct {
	jobs, projects map[bucketKey]*Counters
	jobOrder       []bucketKey
	projectOrder   []bucketKey
}

// Add counts a run of the job (of the project) at the given time.
func (r *Rollups) Add(jobID, projectID string, at time.Time, outcome string, durMs *int64) {
	if r.jobs == nil {
		r.jobs, r.projects = map[bucketKey]*Counters{}, map[bucketKey]*Counters{}
	}
	hour := at.UTC().Truncate(time.Hour)
	for _, b := range []struct {
		m     map[bucketKey]*Counters
		order *[]bucketKey
		id    string
	}{{r.jobs, &r.jobOrder, jobID}, {r.projects, &r.projectOrder, projectID}} {
		k := bucketKey{b.id, hour}
		c := b.m[k]
		if c == nil {
			c = &Counters{}
			b.m[k] = c
			*b.order = append(*b.order, k)
		}
		c.add(outcome, durMs)
	}
}

// AddPing counts p (of job j) if it is a run: a success or failure ping.
// A finish's duration is the time since its start (Ping.DurationMs).
func (r *Rollups) AddPing(j *Job, p *Ping) {
	switch p.Kind {
	case PingSuccess:
		r.Add(j.ID, j.ProjectID, p.CreatedAt, RunSuccess, p.DurationMs)
	case PingFail:
		r.Add(j.ID, j.ProjectID, p.CreatedAt, RunFailure, p.DurationMs)
	}
}

// sorted returns the keys of m in (id, hour) order: every writer adds to
// buckets in that order, so two transactions that share buckets take
// their row locks in the same order and cannot deadlock on them.
func sorted(order []bucketKey) []bucketKey {
	out := slices.Clone(order)
	slices.SortFunc(out, func(a, b bucketKey) int {
		if c := strings.Compare(a.id, b.id); c != 0 {
			return c
		}
		return a.hour.Compare(b.hour)
	})
	return out
}

// Empty reports whether nothing was counted.
func (r *Rollups) Empty() bool { return len(r.jobOrder) == 0 }

// RollupColumns are the columns of a rollup row: the bucket's hour, the
// job's or project's id, the counters.
func RollupColumns(idColumn string) []Column {
	return append([]Column{{"hour", "timestamptz"}, {idColumn, "text"}}, counterColumns...)
}

// JobRollupRows and ProjectRollupRows are the buckets' rows in
// RollupColumns order, one after the other, with times as BatchTime
// renders them.
func (s *Store) JobRollupRows(r *Rollups) []any { return s.rollupRows(r.jobs, sorted(r.jobOrder)) }

// ProjectRollupRows: see JobRollupRows.
func (s *Store) ProjectRollupRows(r *Rollups) []any {
	return s.rollupRows(r.projects, sorted(r.projectOrder))
}

func (s *Store) rollupRows(m map[bucketKey]*Counters, order []bucketKey) []any {
	rows := make([]any, 0, len(order)*(2+len(counterColumns)))
	for _, k := range order {
		h := k.hour
		rows = append(append(rows, s.BatchTime(&h), k.id), m[k].values()...)
	}
	return rows
}

// Arrays are the buckets of RollupTables[table] for PostgreSQL as three
// typed arrays: the hours, the ids, and every bucket's counters one after
// the other (counterColumns order, row by row), which the statement reads
// by subscript (see pingwriter's rollupRowsSQL). Three arrays, not one per
// column: unnest over 25 arrays materialises each of them on the server,
// which made the server's work per ping half as large again
// (BENCHMARKS.md, Pings).
func (r *Rollups) Arrays(table int) []any {
	m, order := r.jobs, sorted(r.jobOrder)
	if table == 1 {
		m, order = r.projects, sorted(r.projectOrder)
	}
	hours, ids := make([]time.Time, len(order)), make([]string, len(order))
	counters := make([]int64, 0, len(order)*len(counterColumns))
	for k, key := range order {
		hours[k], ids[k] = key.hour, key.id
		counters = m[key].appendTo(counters)
	}
	return []any{hours, ids, counters}
}

// RollupTables are the two hourly tables and their id columns.
var RollupTables = [2][2]string{{"stats_hourly", "job_id"}, {"project_stats_hourly", "project_id"}}

// RollupConflict is the ON CONFLICT clause that adds a row's counters to
// the bucket already stored in table (keyed by hour and idColumn).
func RollupConflict(postgres bool, table, idColumn string) string {
	maxFn := "max"
	if postgres {
		maxFn = "GREATEST"
	}
	set := make([]string, len(counterColumns))
	for i, c := range counterColumns {
		if c.Name == "dur_max" {
			set[i] = fmt.Sprintf("%s = %s(%s.%s, excluded.%s)", c.Name, maxFn, table, c.Name, c.Name)
		} else {
			set[i] = fmt.Sprintf("%s = %s.%s + excluded.%s", c.Name, table, c.Name, c.Name)
		}
	}
	return " ON CONFLICT (hour, " + idColumn + ") DO UPDATE SET " + strings.Join(set, ", ")
}

// rollupJSONSQL upserts a batch of rollup rows passed as one JSON
// parameter, per database and table.
var rollupJSONSQL = func() map[bool][2]string {
	out := map[bool][2]string{}
	for _, pg := range []bool{false, true} {
		var q [2]string
		for i, t := range RollupTables {
			cols := RollupColumns(t[1])
			// "WHERE true" tells SQLite's parser that ON CONFLICT belongs
			// to the INSERT, not to a join in the SELECT.
			q[i] = "INSERT INTO " + t[0] + " (" + ColumnNames(cols) + ") " + JSONRows(pg, cols) + " WHERE true" +
				RollupConflict(pg, t[0], t[1])
		}
		out[pg] = q
	}
	return out
}()

// AddRollups adds r's buckets inside tx, the transaction that stores the
// runs they count.
func (s *Store) AddRollups(tx *gorm.DB, r *Rollups) error {
	if r.Empty() {
		return nil
	}
	qs := rollupJSONSQL[s.dialect == Postgres]
	for i, rows := range [2][]any{s.JobRollupRows(r), s.ProjectRollupRows(r)} {
		width := 2 + len(counterColumns)
		batch := make([][]any, 0, len(rows)/width)
		for len(rows) > 0 {
			batch = append(batch, rows[:width])
			rows = rows[width:]
		}
		arg, err := json.Marshal(batch)
		if err != nil {
			return fmt.Errorf("encode %d buckets: %w", len(batch), err)
		}
		if err := tx.Exec(qs[i], string(arg)).Error; err != nil {
			return fmt.Errorf("add to %d %s buckets: %w", len(batch), RollupTables[i][0], err)
		}
	}
	return nil
}
