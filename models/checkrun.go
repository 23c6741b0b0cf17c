package models

import (
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
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
	won := make([]CheckClaim, 0, len(claims))
	err := s.db.Transaction(func(tx *gorm.DB) error {
		won = won[:0]
		for _, c := range claims {
			var res *gorm.DB
			if c.From == nil {
				res = tx.Exec("UPDATE jobs SET next_run_at = ? WHERE id = ? AND next_run_at IS NULL AND "+dueChecksPredicate,
					c.Next.UTC(), c.JobID)
			} else {
				res = tx.Exec("UPDATE jobs SET next_run_at = ? WHERE id = ? AND next_run_at = ? AND "+dueChecksPredicate,
					c.Next.UTC(), c.JobID, c.From.UTC())
			}
			if res.Error != nil {
				return fmt.Errorf("claim check %s: %w", c.JobID, res.Error)
			}
			if res.RowsAffected == 1 {
				won = append(won, c)
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
		ok, err := s.applyRun(tx, run)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("job %s: %w", run.JobID, ErrNotFound)
		}
		return translate(tx.Create(run).Error, "insert check run")
	})
}

// RecordRuns stores a batch of check runs in one transaction: each job's
// lastStatus, lastActivityAt, failure count and status follow its run (a
// status change writes its flip in this same transaction), and the runs are
// inserted with multi-row statements. Runs of jobs deleted in the meantime
// are dropped. It returns how many runs were stored.
func (s *Store) RecordRuns(runs []*CheckRun) (int, error) {
	if len(runs) == 0 {
		return 0, nil
	}
	stored := 0
	err := s.db.Transaction(func(tx *gorm.DB) error {
		keep := make([]*CheckRun, 0, len(runs))
		for _, r := range runs {
			ok, err := s.applyRun(tx, r)
			if err != nil {
				return err
			}
			if ok {
				keep = append(keep, r)
			}
		}
		stored = len(keep)
		return insertRuns(tx, keep)
	})
	if err != nil {
		return 0, err
	}
	return stored, nil
}

// runEffect is what applyRun reads back from the job it updated.
type runEffect struct {
	Status              string
	ConsecutiveFailures int
	FailureThreshold    int
	Heartbeat           bool
	Paused              bool
}

// applyRun moves run's job on: lastStatus, lastActivityAt, the consecutive
// failure count and, through the status machine, its status with a flip.
// It reports false when the job no longer exists.
//
// The first UPDATE locks the job row until the transaction ends (PostgreSQL
// row lock; SQLite's write lock), so the status it returns cannot change
// under us; the status UPDATE still names the expected old status and checks
// RowsAffected, so a change made any other way is never overwritten.
func (s *Store) applyRun(tx *gorm.DB, run *CheckRun) (bool, error) {
	ok := run.Result == RunSuccess
	failures := "consecutive_failures + 1"
	if ok {
		failures = "0"
	}
	var eff []runEffect
	err := tx.Raw("UPDATE jobs SET last_status = ?, last_activity_at = ?, consecutive_failures = "+failures+
		" WHERE id = ? RETURNING status, consecutive_failures, failure_threshold, heartbeat, paused",
		LastStatusOf(run.Result), run.CreatedAt.UTC(), run.JobID).Scan(&eff).Error
	if err != nil {
		return false, fmt.Errorf("update job %s after check: %w", run.JobID, err)
	}
	if len(eff) == 0 {
		return false, nil
	}
	e := eff[0]
	from := e.Status
	if e.Paused {
		from = StatusPaused
	}
	to := CheckStatusAfter(from, e.Heartbeat, ok, e.ConsecutiveFailures, e.FailureThreshold)
	if to == from {
		return true, nil
	}
	res := tx.Exec("UPDATE jobs SET status = ? WHERE id = ? AND status = ?", to, run.JobID, from)
	if res.Error != nil {
		return false, fmt.Errorf("set job %s %s: %w", run.JobID, to, res.Error)
	}
	if res.RowsAffected != 1 || !IsFlip(from, to) {
		return true, nil
	}
	if _, err := s.insertFlip(tx, run.JobID, from, to, runReason(run, e.ConsecutiveFailures), run.CreatedAt); err != nil {
		return false, err
	}
	return true, nil
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

// runColumns are the check_runs columns insertRuns writes, in order.
// "trigger" is quoted: it is a keyword in both databases.
const runColumns = `job_id, result, http_status, response_time_ms, error, "trigger", scheduled_at, created_at`

// insertRunsChunk keeps a multi-row INSERT's parameter count (8 per row)
// well under both databases' limits.
const insertRunsChunk = 500

// insertRuns inserts runs with multi-row INSERT statements. The runs' ids
// are not read back.
func insertRuns(tx *gorm.DB, runs []*CheckRun) error {
	for len(runs) > 0 {
		n := min(len(runs), insertRunsChunk)
		chunk := runs[:n]
		runs = runs[n:]
		var b strings.Builder
		b.Grow(64 + n*20)
		b.WriteString("INSERT INTO check_runs (" + runColumns + ") VALUES ")
		args := make([]any, 0, n*8)
		for i, r := range chunk {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("(?,?,?,?,?,?,?,?)")
			var scheduled any
			if r.ScheduledAt != nil {
				scheduled = r.ScheduledAt.UTC()
			}
			var status any
			if r.HTTPStatus != nil {
				status = *r.HTTPStatus
			}
			trigger := r.Trigger
			if trigger == "" {
				trigger = TriggerSchedule
			}
			args = append(args, r.JobID, r.Result, status, r.ResponseTimeMs, r.Error, trigger, scheduled, r.CreatedAt.UTC())
		}
		if err := tx.Exec(b.String(), args...).Error; err != nil {
			return fmt.Errorf("insert %d check runs: %w", n, err)
		}
	}
	return nil
}

// PruneCheckRuns keeps the newest `keep` check runs of each job in one page
// of jobs (ids after the cursor, at most limit of them) and deletes the
// rest. It returns the cursor for the next page ("" after the last one) and
// how many runs it deleted.
func (s *Store) PruneCheckRuns(keep int, after string, limit int) (string, int64, error) {
	var ids []string
	if err := s.db.Model(&Job{}).Where("id > ?", after).Order("id").Limit(limit).Pluck("id", &ids).Error; err != nil {
		return "", 0, translate(err, "list jobs to prune")
	}
	var deleted int64
	err := s.db.Transaction(func(tx *gorm.DB) error {
		for _, id := range ids {
			// The subquery finds the id of the (keep+1)-th newest run through
			// the (job_id, id) index; without that many runs it is NULL and
			// nothing is deleted.
			res := tx.Exec(`DELETE FROM check_runs WHERE job_id = ? AND id <=
				(SELECT id FROM check_runs WHERE job_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`, id, id, keep)
			if res.Error != nil {
				return fmt.Errorf("prune check runs of job %s: %w", id, res.Error)
			}
			deleted += res.RowsAffected
		}
		return nil
	})
	if err != nil {
		return "", 0, translate(err, "prune check runs")
	}
	if len(ids) < limit {
		return "", deleted, nil
	}
	return ids[len(ids)-1], deleted, nil
}
