package models

import (
	"fmt"
	"time"

	"github.com/cronpulse/cronpulse/models/indoubt"
	"gorm.io/gorm"
)

// Check run results and triggers.
const (
	RunSuccess = "success"
	RunFailure = "failure"
	RunTimeout = "timeout"
	RunError   = "error"

	TriggerSchedule = "schedule"
	TriggerManual   = "manual"
)

// CheckRun is one HTTP check of a job.
type CheckRun struct {
	ID             int64      `json:"id" gorm:"primaryKey"`
	JobID          string     `json:"jobId"`
	Result         string     `json:"result"`
	HTTPStatus     *int       `json:"httpStatus" gorm:"column:http_status"`
	ResponseTimeMs int64      `json:"responseTimeMs"`
	Error          string     `json:"error"`
	Trigger        string     `json:"trigger"`
	ScheduledAt    *time.Time `json:"scheduledAt"`
	CreatedAt      time.Time  `json:"createdAt"`
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
// been committed all the same; it is then looked for (see indoubt.Settler.Settle)
// rather than reported failed, since storing it again would count each
// failed run twice against its job's failure threshold. An error wrapping
// ErrInDoubt means it cannot be told: the caller must not retry.
func (s *Store) RecordRuns(runs []*CheckRun) (int, error) {
	if len(runs) == 0 {
		return 0, nil
	}
	var keep []*CheckRun
	var be indoubt.Backend
	s.inDoubt.KnowPooler()
	err := s.db.Transaction(func(tx *gorm.DB) error {
		if err := s.inDoubt.Record(tx, &be); err != nil {
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
	if len(keep) == 0 || !s.inDoubt.MayHaveCommitted(err) {
		return 0, err
	}
	stored, serr := s.inDoubt.Settle(nil, indoubt.WithBackend(err, be), len(keep), func() (int, error) { return s.runsStored(keep) })
	switch {
	case serr != nil:
		return 0, serr
	case stored:
		return len(keep), nil
	}
	return 0, err
}

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
		q := "INSERT INTO check_runs (" + runColumns + ") VALUES " + ValueRows(len(chunk), 8)
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
		batch[i] = []any{r.JobID, r.Result, runTrigger(r), r.ResponseTimeMs, r.HTTPStatus, s.BatchTime(&r.CreatedAt), s.BatchTime(r.ScheduledAt)}
	}
	return s.inDoubt.CountStored("check runs", runsStoredSQL, batch)
}
