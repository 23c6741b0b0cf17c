package models

import "time"

// Notification states.
const (
	NotifyPending = "pending"
	NotifySent    = "sent"
	NotifyFailed  = "failed"
)

// Notification is one alert to deliver: a row of the durable outbox.
type Notification struct {
	ID            int64      `json:"id" gorm:"primaryKey"`
	ChannelID     string     `json:"channelId"`
	FlipID        int64      `json:"flipId"`
	Reminder      int        `json:"reminder"` // 0: the flip's alert; n: the n-th reminder
	State         string     `json:"state"`
	Attempts      int        `json:"attempts"`
	LastError     string     `json:"lastError"`
	NextAttemptAt time.Time  `json:"nextAttemptAt"`
	ClaimedUntil  *time.Time `json:"-"`
	SentAt        *time.Time `json:"sentAt"`
	CreatedAt     time.Time  `json:"createdAt"`
}

// Notifications returns the notifications of one flip, for tests and tools.
func (s *Store) Notifications(flipID int64) ([]Notification, error) {
	var out []Notification
	if err := s.db.Where("flip_id = ?", flipID).Order("id").Find(&out).Error; err != nil {
		return nil, translate(err, "list notifications")
	}
	return out, nil
}

// FlipNotification is a notification as listed with its flip.
type FlipNotification struct {
	ID            int64      `json:"id"`
	FlipID        int64      `json:"-"`
	ChannelID     string     `json:"channelId"`
	ChannelName   string     `json:"channelName"`
	ChannelKind   string     `json:"channelKind"`
	Reminder      int        `json:"reminder"`
	State         string     `json:"state"`
	Attempts      int        `json:"attempts"`
	LastError     string     `json:"lastError"`
	NextAttemptAt *time.Time `json:"nextAttemptAt"` // when pending
	SentAt        *time.Time `json:"sentAt"`
}

// FlipNotifications returns the notifications of the given flips, keyed by
// flip id, in one query.
func (s *Store) FlipNotifications(flipIDs []int64) (map[int64][]FlipNotification, error) {
	out := make(map[int64][]FlipNotification, len(flipIDs))
	if len(flipIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		Notification
		ChannelName string
		ChannelKind string
	}
	err := s.db.Table("notifications").
		Select("notifications.*, channels.name AS channel_name, channels.kind AS channel_kind").
		Joins("JOIN channels ON channels.id = notifications.channel_id").
		Where("notifications.flip_id IN ?", flipIDs).
		Order("notifications.flip_id, notifications.reminder, notifications.id").
		Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "list flip notifications")
	}
	for _, r := range rows {
		fn := FlipNotification{ID: r.ID, FlipID: r.FlipID, ChannelID: r.ChannelID, ChannelName: r.ChannelName,
			ChannelKind: r.ChannelKind, Reminder: r.Reminder, State: r.State, Attempts: r.Attempts,
			LastError: r.LastError, SentAt: r.SentAt}
		if r.State == NotifyPending {
			next := r.NextAttemptAt
			fn.NextAttemptAt = &next
		}
		out[r.FlipID] = append(out[r.FlipID], fn)
	}
	return out, nil
}
