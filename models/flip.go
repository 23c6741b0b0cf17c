package models

import (
	"fmt"
	"time"

	"gorm.io/gorm"
)

// IsFlip reports whether a status change from → to is an alerting change: a
// job going down (from anything but down) or coming back up from down.
// new→up and up→late are not flips: nobody needs to hear about them.
func IsFlip(from, to string) bool {
	return (to == StatusDown && from != StatusDown) || (to == StatusUp && from == StatusDown)
}

// insertFlip writes a Flip inside tx, the transaction that changed the job's
// status, so that a status change and its flip exist together or not at all.
// The notification outbox rows for the flip are written here too.
func (s *Store) insertFlip(tx *gorm.DB, jobID, from, to, reason string, at time.Time) (*Flip, error) {
	f := &Flip{JobID: jobID, FromStatus: from, ToStatus: to, Reason: reason, CreatedAt: at.UTC()}
	if err := tx.Create(f).Error; err != nil {
		return nil, fmt.Errorf("insert flip for job %s: %w", jobID, err)
	}
	l := s.flipped.Load()
	if err := enqueueNotifications(tx, f, l); err != nil {
		return nil, err
	}
	if l != nil {
		l.Flip(f.ID)
	}
	return f, nil
}

// Flips returns a job's flips, newest first, a page at a time (the cursor
// is the id of the last flip of the previous page).
func (s *Store) Flips(jobID string, before int64, limit int) ([]Flip, error) {
	var out []Flip
	q := s.db.Where("job_id = ?", jobID).Order("id DESC").Limit(limit)
	if before > 0 {
		q = q.Where("id < ?", before)
	}
	if err := q.Find(&out).Error; err != nil {
		return nil, translate(err, "list flips")
	}
	return out, nil
}
