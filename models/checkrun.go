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

// dueChecksPredicate selects the jobs the HTTP checker schedules. It repeats
// the predicate of the partial index jobs_check_due (migration 3) word for
// word, which SQLite needs before it will use that index.
const dueChecksPredicate = "url <> '' AND paused = false"

// dueCheckColumns are the job columns a check run needs.
const dueCheckColumns = "id, url, method, headers, body, timeout, expected_status_code, schedule, timezone, next_run_at"

// DueChecks returns up to limit unpaused jobs with a url whose nextRunAt is
// at or before now, earliest first. Only the columns a check needs are
// filled in.
func (s *Store) DueChecks(now time.Time, limit int) ([]Job, error) {
	var out []Job
	err := s.db.Select(dueCheckColumns).
		Where(dueChecksPredicate+" AND next_run_at <= ?", now.UTC()).
		Order("next_run_at").Limit(limit).Find(&out).Error
	if err != nil {
		return nil, translate(err, "list due checks")
	}
	return out, nil
}

// UnscheduledChecks returns up to limit unpaused jobs with a url whose
// nextRunAt is missing or before now, after the id cursor, ordered by id.
// The checker gives them a first tick when it starts.
func (s *Store) UnscheduledChecks(now time.Time, after string, limit int) ([]Job, error) {
	var out []Job
	err := s.db.Select(dueCheckColumns).
		Where(dueChecksPredicate+" AND (next_run_at IS NULL OR next_run_at < ?) AND id > ?", now.UTC(), after).
		Order("id").Limit(limit).Find(&out).Error
	if err != nil {
		return nil, translate(err, "list unscheduled checks")
	}
	return out, nil
}

// CheckClaim moves one job's nextRunAt from From (what the caller read;
// nil for a job that had none) to Next.
type CheckClaim struct {
	JobID string
	From  *time.Time
	Next  time.Time
}

// ClaimChecks applies the claims in one transaction and returns those that
// took effect. Each is a conditional update on nextRunAt, so when two
// instances (or a restart racing a still-running process) read the same due
// job, exactly one of them moves it on and runs that tick: no tick runs
// twice. A claim also fails when the job was paused, deleted, lost its url or
// was rescheduled since it was read.
func (s *Store) ClaimChecks(claims []CheckClaim) ([]CheckClaim, error) {
	if len(claims) == 0 {
		return nil, nil
	}
	var won []CheckClaim
	err := s.db.Transaction(func(tx *gorm.DB) error {
		won = won[:0]
		var moved []CheckClaim // had a nextRunAt: claimed in batches
		for _, c := range claims {
			if c.From != nil {
				moved = append(moved, c)
				continue
			}
			res := tx.Exec("UPDATE jobs SET next_run_at = ? WHERE id = ? AND next_run_at IS NULL AND "+dueChecksPredicate,
				c.Next.UTC(), c.JobID)
			if res.Error != nil {
				return fmt.Errorf("claim check %s: %w", c.JobID, res.Error)
			}
			if res.RowsAffected == 1 {
				won = append(won, c)
			}
		}
		for len(moved) > 0 {
			chunk := moved[:min(len(moved), stmtChunk)]
			moved = moved[len(chunk):]
			ids, err := s.claimChunk(tx, chunk)
			if err != nil {
				return err
			}
			for _, c := range chunk {
				if ids[c.JobID] {
					won = append(won, c)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, translate(err, "claim checks")
	}
	return won, nil
}

// CheckStatusAfter is the HTTP check's status machine: the status a job in
// status `from` moves to after a run that succeeded (ok) or not, given its
// consecutive failures including this run and its failure threshold.
//
// A paused job never changes status. A success brings the job up, except
// for a job that also has a heartbeat: there the call only starts the remote
// work and the success ping confirms it, so the heartbeat decides when it
// is up (SPEC §5); its failed calls still take it down.
func CheckStatusAfter(from string, heartbeat, ok bool, failures, threshold int) string {
	if from == StatusPaused {
		return from
	}
	if ok {
		if heartbeat {
			return from
		}
		return StatusUp
	}
	if failures >= max(threshold, 1) {
		return StatusDown
	}
	return from
}

// LastStatusOf maps a run's result onto the job's lastStatus: an error
// (the target could not be reached) is a failure.
func LastStatusOf(result string) string {
	switch result {
	case RunSuccess:
		return LastSuccess
	case RunTimeout:
		return LastTimeout
	default:
		return LastFailure
	}
}

// RecordRun stores one check run (a manual trigger), applies it to its job
// and fills in run.ID. It returns ErrNotFound when the job no longer exists.
func (s *Store) RecordRun(run *CheckRun) error {
	return s.db.Transaction(func(tx *gorm.DB) error {
		keep, err := s.applyRuns(tx, []*CheckRun{run})
		if err != nil {
			return err
		}
		if len(keep) == 0 {
			return fmt.Errorf("job %s: %w", run.JobID, ErrNotFound)
		}
		return translate(tx.Create(run).Error, "insert check run")
	})
}

// RecordRuns stores a batch of check runs in one transaction: each job's
// lastStatus, lastActivityAt, failure count and status follow its runs (a
// status change writes its flip in this same transaction), and the runs are
// inserted. Runs of jobs deleted in the meantime are dropped. It returns how
// many runs were stored.
//
// On PostgreSQL a batch whose connection is lost during the write may have
// been committed all the same; it is then looked for (see settleWrite)
// rather than reported failed, since storing it again would count each
// failed run twice against its job's failure threshold. An error wrapping
// ErrInDoubt means it cannot be told: the caller must not retry.
func (s *Store) RecordRuns(runs []*CheckRun) (int, error) {
	if len(runs) == 0 {
		return 0, nil
	}
	var keep []*CheckRun
	var be backend
	s.knowPooler()
	err := s.db.Transaction(func(tx *gorm.DB) error {
		if err := s.recordBackend(tx, &be); err != nil {
			return err
		}
		var err error
		if keep, err = s.applyRuns(tx, runs); err != nil {
			return err
		}
		return s.insertRuns(tx, keep)
	})
	if err == nil {
		return len(keep), nil
	}
	if len(keep) == 0 || !s.mayHaveCommitted(err) {
		return 0, err
	}
	stored, serr := s.settleWrite(nil, withBackend(err, be), len(keep), func() (int, error) { return s.runsStored(keep) })
	switch {
	case serr != nil:
		return 0, serr
	case stored:
		return len(keep), nil
	}
	return 0, err
}

// checkState is the part of a job a check run changes.
type checkState struct {
	ID                  string
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
// machine, the status with its flip. It returns the runs whose job exists.
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
	for _, r := range runs {
		st := states[r.JobID]
		if st == nil {
			continue // deleted since it was checked
		}
		keep = append(keep, r)
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
			if _, err := s.insertFlip(tx, st.ID, from, to, runReason(r, st.ConsecutiveFailures), r.CreatedAt); err != nil {
				return nil, err
			}
		}
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
			" FROM (VALUES " + valueRows(len(chunk), 4) + ") AS v WHERE jobs.id = v.column1"
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
		q := tx.Table("jobs").Select("id, status, consecutive_failures, failure_threshold, heartbeat, paused").
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
