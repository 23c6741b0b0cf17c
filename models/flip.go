package models

import (
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Flip is a change of a job's status: the alert history.
type Flip struct {
	ID         int64     `json:"id" gorm:"primaryKey"`
	JobID      string    `json:"jobId"`
	FromStatus string    `json:"fromStatus"`
	ToStatus   string    `json:"toStatus"`
	Reason     string    `json:"reason"`
	CreatedAt  time.Time `json:"createdAt"`
}

// IsFlip reports whether a status change from → to is an alerting change: a
// job going down (from anything but down) or coming back up from down.
// new→up and up→late are not flips: nobody needs to hear about them.
func IsFlip(from, to string) bool {
	return (to == StatusDown && from != StatusDown) || (to == StatusUp && from == StatusDown)
}

// InsertFlip writes a Flip inside tx, the transaction that changed the job's
// status, so that a status change and its flip exist together or not at all.
// The notification outbox rows for the flip are written here too. Every
// writer of flips calls it: the watchdog, the check-run writer, the ping
// writer (models/pingwriter) and ChangeStatus.
func (s *Store) InsertFlip(tx *gorm.DB, jobID, from, to, reason string, at time.Time) (*Flip, error) {
	f := &Flip{JobID: jobID, FromStatus: from, ToStatus: to, Reason: reason, CreatedAt: at.UTC()}
	if err := tx.Create(f).Error; err != nil {
		return nil, fmt.Errorf("insert flip for job %s: %w", jobID, err)
	}
	l := s.flipped.Load()
	if err := enqueueNotifications(tx, f, l); err != nil {
		return nil, err
	}
	if l != nil && l.Flip != nil {
		l.Flip(f.ID)
	}
	if l != nil && l.FlipTo != nil {
		l.FlipTo(to)
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

// ChangeStatus sets a job's status to `to` and, when that is a flip (see
// IsFlip), writes the flip and its notifications in the same transaction.
// The engine moves jobs through its own paths; this one serves operators'
// tools, benchmarks and tests that drive alerts without it. It returns the
// flip, or nil when the change was not one.
func (s *Store) ChangeStatus(jobID, to, reason string, at time.Time) (*Flip, error) {
	var flip *Flip
	err := s.db.Transaction(func(tx *gorm.DB) error {
		var j Job
		if err := tx.Select("id", "status").Where("id = ?", jobID).Take(&j).Error; err != nil {
			return translate(err, "job "+jobID)
		}
		if err := tx.Model(&Job{}).Where("id = ?", jobID).Update("status", to).Error; err != nil {
			return translate(err, "set status of job "+jobID)
		}
		if !IsFlip(j.Status, to) {
			return nil
		}
		var err error
		flip, err = s.InsertFlip(tx, jobID, j.Status, to, reason, at)
		return err
	})
	return flip, err
}

// FlipsBefore returns a job's flips newest first (created_at, then id,
// descending), limit of them: with a zero t all, else those before the
// position (t, id): created_at < t, or created_at = t and id < id (pass
// math.MaxInt64 to keep every flip at t). The job page merges them with
// pings and check runs in time order.
func (s *Store) FlipsBefore(jobID string, t time.Time, id int64, limit int) ([]Flip, error) {
	var out []Flip
	q := s.db.Where("job_id = ?", jobID).Order("created_at DESC, id DESC").Limit(limit)
	if !t.IsZero() {
		t = t.UTC()
		q = q.Where("created_at < ? OR (created_at = ? AND id < ?)", t, t, id)
	}
	if err := q.Find(&out).Error; err != nil {
		return nil, translate(err, "list flips")
	}
	return out, nil
}
