package models

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// checkState is the part of a job a check run changes.
type checkState struct {
	ID                  string
	ProjectID           string
	Status              string
	ConsecutiveFailures int
	FailureThreshold    int
	Heartbeat           bool
	Paused              bool

	lastStatus string
	lastAt     time.Time
}

// applyRuns moves the runs' jobs on, in the order of the runs: lastStatus,
// lastActivityAt, the consecutive failure count and, through the status
// machine, the status with its flip; and it adds the runs to their jobs'
// and projects' rollups. It returns the runs whose job exists.
//
// The jobs are read first and locked for the rest of the transaction
// (PostgreSQL: FOR UPDATE; SQLite: the write lock every transaction takes
// at BEGIN), so the status the machine starts from cannot change under it:
// a heartbeat ping arriving meanwhile waits. The status UPDATE still names
// the expected old status and checks RowsAffected, so a change made any
// other way is never overwritten and never flipped twice.
func (s *Store) applyRuns(tx *gorm.DB, runs []*CheckRun) ([]*CheckRun, error) {
	states, err := s.lockCheckStates(tx, runs)
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	var setStatus *sql.Stmt
	keep := make([]*CheckRun, 0, len(runs))
	order := make([]*checkState, 0, len(states))
	var rollups Rollups
	for _, r := range runs {
		st := states[r.JobID]
		if st == nil {
			continue // deleted since it was checked
		}
		keep = append(keep, r)
		rollups.Add(st.ID, st.ProjectID, r.CreatedAt, r.Result, &r.ResponseTimeMs)
		if st.lastStatus == "" {
			order = append(order, st)
		}
		ok := r.Result == RunSuccess
		if ok {
			st.ConsecutiveFailures = 0
		} else {
			st.ConsecutiveFailures++
		}
		st.lastStatus, st.lastAt = LastStatusOf(r.Result), r.CreatedAt.UTC()
		from := st.Status
		if st.Paused {
			from = StatusPaused
		}
		to := CheckStatusAfter(from, st.Heartbeat, ok, st.ConsecutiveFailures, st.FailureThreshold)
		if to == from {
			continue
		}
		if setStatus == nil {
			if setStatus, err = s.prepare(tx, "UPDATE jobs SET status = ? WHERE id = ? AND status = ?"); err != nil {
				return nil, err
			}
			defer setStatus.Close()
		}
		res, err := setStatus.ExecContext(ctx, to, st.ID, from)
		if err != nil {
			return nil, fmt.Errorf("set job %s %s: %w", st.ID, to, err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			continue // changed some other way: that change stands
		}
		st.Status = to
		if IsFlip(from, to) {
			if _, err := s.InsertFlip(tx, st.ID, from, to, runReason(r, st.ConsecutiveFailures), r.CreatedAt); err != nil {
				return nil, err
			}
		}
	}
	if err := s.AddRollups(tx, &rollups); err != nil {
		return nil, err
	}
	if len(order) == 0 {
		return keep, nil
	}
	// One statement per chunk: UPDATE joined with a VALUES list of
	// (id, lastStatus, lastActivityAt, consecutiveFailures).
	at, failures := "v.column3", "v.column4"
	if s.dialect == Postgres {
		at, failures = "CAST(v.column3 AS timestamptz)", "CAST(v.column4 AS integer)"
	}
	for len(order) > 0 {
		chunk := order[:min(len(order), stmtChunk)]
		order = order[len(chunk):]
		args := make([]any, 0, 4*len(chunk))
		for _, st := range chunk {
			args = append(args, st.ID, st.lastStatus, s.valuesTime(st.lastAt), strconv.Itoa(st.ConsecutiveFailures)) // as text: see valuesTime
		}
		q := "UPDATE jobs SET last_status = v.column2, last_activity_at = " + at + ", consecutive_failures = " + failures +
			" FROM (VALUES " + ValueRows(len(chunk), 4) + ") AS v WHERE jobs.id = v.column1"
		if err := tx.Exec(q, args...).Error; err != nil {
			return nil, fmt.Errorf("update %d jobs after their checks: %w", len(chunk), err)
		}
	}
	return keep, nil
}

// lockCheckStates reads (and on PostgreSQL locks) the jobs of runs.
func (s *Store) lockCheckStates(tx *gorm.DB, runs []*CheckRun) (map[string]*checkState, error) {
	ids := distinctKeys(runs, func(r *CheckRun) string { return r.JobID })
	states := make(map[string]*checkState, len(ids))
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), stmtChunk)]
		ids = ids[len(chunk):]
		q := tx.Table("jobs").Select("id, project_id, status, consecutive_failures, failure_threshold, heartbeat, paused").
			Where("id IN ?", chunk)
		if s.dialect == Postgres {
			// In id order, so that two transactions locking overlapping
			// batches cannot deadlock.
			q = q.Order("id").Clauses(clause.Locking{Strength: "UPDATE"})
		}
		var rows []checkState
		if err := q.Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("read jobs of %d check runs: %w", len(chunk), err)
		}
		for i := range rows {
			states[rows[i].ID] = &rows[i]
		}
	}
	return states, nil
}

// runReason explains a status change caused by run, for the flip.
func runReason(run *CheckRun, failures int) string {
	if run.Result == RunSuccess {
		status := 0
		if run.HTTPStatus != nil {
			status = *run.HTTPStatus
		}
		return fmt.Sprintf("check succeeded: HTTP %d in %d ms", status, run.ResponseTimeMs)
	}
	what := "check failed"
	if failures > 1 {
		what = fmt.Sprintf("%d consecutive checks failed", failures)
	}
	return fmt.Sprintf("%s: %s", what, run.Error)
}
