package models

import (
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Pause is a stretch of time a job was paused: no alerts then, and no
// downtime counted (see Uptime). ResumedAt is nil while it lasts.
type Pause struct {
	ID        int64      `json:"-" gorm:"primaryKey"`
	JobID     string     `json:"jobId"`
	PausedAt  time.Time  `json:"pausedAt"`
	ResumedAt *time.Time `json:"resumedAt"`
}

// startPause records, inside the transaction that pauses job, that it was
// paused at at.
func startPause(tx *gorm.DB, jobID string, at time.Time) error {
	if err := tx.Create(&Pause{JobID: jobID, PausedAt: at.UTC()}).Error; err != nil {
		return fmt.Errorf("record pause of job %s: %w", jobID, err)
	}
	return nil
}

// endPause records, inside the transaction that resumes job, that its
// pause ended at at.
func endPause(tx *gorm.DB, jobID string, at time.Time) error {
	if err := tx.Model(&Pause{}).Where("job_id = ? AND resumed_at IS NULL", jobID).Update("resumed_at", at.UTC()).Error; err != nil {
		return fmt.Errorf("record resume of job %s: %w", jobID, err)
	}
	return nil
}

// pausesAround returns the pauses of job jobID that overlap [from, to), in
// order, and the last one that began before from (nil: none), in one query.
func (s *Store) pausesAround(jobID string, from, to time.Time) ([]Pause, *Pause, error) {
	var rows []Pause
	err := s.db.Where("job_id = ? AND paused_at < ? AND (resumed_at IS NULL OR resumed_at > ? OR paused_at = (SELECT max(paused_at) FROM pauses WHERE job_id = ? AND paused_at < ?))",
		jobID, to.UTC(), from.UTC(), jobID, from.UTC()).Order("paused_at").Find(&rows).Error
	if err != nil {
		return nil, nil, translate(err, "pauses of job "+jobID)
	}
	var in []Pause
	var last *Pause
	for i, p := range rows {
		if p.PausedAt.Before(from) {
			last = &rows[i]
		}
		if p.ResumedAt == nil || p.ResumedAt.After(from) {
			in = append(in, p)
		}
	}
	return in, last, nil
}
