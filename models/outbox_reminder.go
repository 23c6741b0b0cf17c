package models

import (
	"time"

	"gorm.io/gorm/clause"
)

// EnqueueReminders writes a reminder for every enabled channel with
// remindEvery set whose project has a job that is still down: reminder n
// is due n×remindEvery after the down flip. Only the latest due reminder is
// written (after an outage of CronPulse itself, one reminder, not a burst),
// and the unique (flip, channel, reminder) index makes concurrent callers
// harmless. It returns how many reminders it wrote.
func (s *Store) EnqueueReminders(now time.Time) (int, error) {
	now = now.UTC()
	var cands []struct {
		ChannelID   string
		RemindEvery int
		FlipID      int64
		FlipAt      time.Time
	}
	err := s.db.Raw(`SELECT c.id AS channel_id, c.remind_every AS remind_every, f.id AS flip_id, f.created_at AS flip_at
		FROM jobs j
		JOIN channels c ON c.project_id = j.project_id
		JOIN flips f ON f.job_id = j.id
		WHERE j.status = ? AND c.enabled = ? AND c.remind_every > 0 AND f.to_status = ?
		  AND f.id = (SELECT MAX(f2.id) FROM flips f2 WHERE f2.job_id = j.id)`,
		StatusDown, true, StatusDown).Scan(&cands).Error
	if err != nil {
		return 0, translate(err, "find due reminders")
	}
	written := 0
	for _, c := range cands {
		n := int(now.Sub(c.FlipAt) / (time.Duration(c.RemindEvery) * time.Minute))
		if n < 1 {
			continue
		}
		row := &Notification{ChannelID: c.ChannelID, FlipID: c.FlipID, Reminder: n, State: NotifyPending,
			NextAttemptAt: now, CreatedAt: now}
		res := s.db.Clauses(clause.OnConflict{DoNothing: true}).Create(row)
		if res.Error != nil {
			return written, translate(res.Error, "enqueue reminder")
		}
		written += int(res.RowsAffected)
	}
	if written > 0 {
		s.nudge()
	}
	return written, nil
}
