package models

import (
	"fmt"
	"time"

	"gorm.io/gorm"
)

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

// RunTiming is when a scheduled check run was due and when it started.
type RunTiming struct {
	JobID       string
	ScheduledAt time.Time
	CreatedAt   time.Time
}

// RunTimings returns every scheduled check run started in [from, to): what
// the checker's scale benchmark measures lateness and coverage from.
func (s *Store) RunTimings(from, to time.Time) ([]RunTiming, error) {
	var out []RunTiming
	err := s.db.Model(&CheckRun{}).Select("job_id, scheduled_at, created_at").
		Where(`"trigger" = ? AND created_at >= ? AND created_at < ?`, TriggerSchedule, from.UTC(), to.UTC()).
		Find(&out).Error
	if err != nil {
		return nil, translate(err, "list run timings")
	}
	return out, nil
}
