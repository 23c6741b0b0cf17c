package models

import (
	"fmt"
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
	q := "UPDATE jobs SET next_run_at = " + next + " FROM (VALUES " + ValueRows(len(chunk), 3) + ") AS v" +
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
