package models

// The notification outbox, in the files outbox*.go. A flip writes one
// pending notification per enabled channel of its project in the flip's own
// transaction (enqueueNotifications, via InsertFlip), so an alert exists
// exactly when its status change does. The notifier's workers claim due
// rows with a lease (ClaimDueNotifications; a flip's own process may have
// preclaimed them), load what a message needs in a few queries
// (Deliveries, outbox_delivery.go), and mark each sent, retried with
// backoff or failed. Reminders (outbox_reminder.go) are more rows of the
// same outbox for jobs that stay down.

import (
	"fmt"
	"time"

	"gorm.io/gorm"
)

// MaxErrorText caps the error text kept on a notification or channel.
const MaxErrorText = 1000

// FlipListener hears of the flips this process writes: the notifier, and
// the flip counter of the metrics. Either func may be nil.
type FlipListener struct {
	// Flip is called inside the flip's transaction, before the commit, with
	// the flip's id (0 after reminders were written). It must not block,
	// and whoever looks for the new rows must look again a little later.
	Flip func(flipID int64)
	// Preclaim, when positive, writes the flip's notifications already
	// claimed for this long (attempt 1), so that this process's worker can
	// send them without a claim of its own: on SQLite a claim is a write,
	// and writes queue behind the very flips being alerted on. If this
	// process dies first, the claim runs out and any worker sends them.
	Preclaim time.Duration
	// FlipTo, when set, is called with the status of each flip written, as
	// Flip is (inside the flip's transaction): the flip counter of the
	// service's metrics. A transaction that then rolls back, and is retried
	// (a database error), has counted its flip twice.
	FlipTo func(status string)
}

// SetFlipListener registers l (nil removes it).
func (s *Store) SetFlipListener(l *FlipListener) {
	s.flipped.Store(l)
}

// nudge tells the listener, if any, that rows appeared without a flip.
func (s *Store) nudge() {
	if l := s.flipped.Load(); l != nil && l.Flip != nil {
		l.Flip(0)
	}
}

// enqueueNotifications writes, inside the flip's transaction, one pending
// notification per enabled channel of the job's project: the outbox. It is
// one INSERT … SELECT, so a flip costs no extra round trip per channel.
// With a listener that pre-claims, the rows are written claimed for it.
func enqueueNotifications(tx *gorm.DB, f *Flip, l *FlipListener) error {
	attempts, claimedUntil := 0, (*time.Time)(nil)
	if l != nil && l.Preclaim > 0 {
		until := f.CreatedAt.Add(l.Preclaim)
		attempts, claimedUntil = 1, &until
	}
	err := tx.Exec(`INSERT INTO notifications
		(channel_id, flip_id, reminder, state, attempts, last_error, next_attempt_at, claimed_until, created_at)
		SELECT c.id, ?, 0, ?, ?, '', ?, ?, ?
		FROM channels c JOIN jobs j ON j.project_id = c.project_id
		WHERE j.id = ? AND c.enabled = ?`,
		f.ID, NotifyPending, attempts, f.CreatedAt, claimedUntil, f.CreatedAt, f.JobID, true).Error
	if err != nil {
		return fmt.Errorf("enqueue notifications for flip %d: %w", f.ID, err)
	}
	return nil
}

// PreclaimedNotifications returns the notifications of the given flips that
// were written pre-claimed (see FlipListener) and are still in that first
// claim: nobody has sent, failed or re-claimed them. Reading them is all
// the pre-claiming worker needs to do before sending; it is not a write.
func (s *Store) PreclaimedNotifications(flipIDs []int64) ([]Notification, error) {
	if len(flipIDs) == 0 {
		return nil, nil
	}
	var out []Notification
	err := s.db.Where("flip_id IN ? AND reminder = 0 AND state = ? AND attempts = 1 AND claimed_until IS NOT NULL",
		flipIDs, NotifyPending).Order("id").Find(&out).Error
	if err != nil {
		return nil, translate(err, "read pre-claimed notifications")
	}
	return out, nil
}

// ClaimDueNotifications claims up to limit pending notifications whose time
// has come and that nobody holds, for lease: their claimedUntil moves to
// now+lease and their attempts count up, in one statement. Claimed rows are
// invisible to other claimers until the lease runs out, so a notification
// is sent twice only if its sender died mid-send (or overran the lease).
//
// On PostgreSQL the candidates are picked FOR UPDATE SKIP LOCKED, so
// concurrent claimers never wait on each other nor take the same row; on
// SQLite the single writer makes the conditional UPDATE atomic by itself.
func (s *Store) ClaimDueNotifications(now time.Time, lease time.Duration, limit int) ([]Notification, error) {
	now = now.UTC()
	lock := ""
	if s.dialect == Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	var out []Notification
	err := s.db.Raw(`UPDATE notifications SET claimed_until = ?, attempts = attempts + 1
		WHERE id IN (SELECT id FROM notifications
			WHERE state = ? AND next_attempt_at <= ? AND (claimed_until IS NULL OR claimed_until < ?)
			ORDER BY next_attempt_at, id LIMIT ?`+lock+`)
		RETURNING *`,
		now.Add(lease), NotifyPending, now, now, limit).Scan(&out).Error
	if err != nil {
		return nil, translate(err, "claim notifications")
	}
	return out, nil
}

// MarkNotificationsSent records successful deliveries, and on their
// channels when they last succeeded, in one transaction.
func (s *Store) MarkNotificationsSent(ids []int64, channelIDs []string, at time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	at = at.UTC()
	return s.db.Transaction(func(tx *gorm.DB) error {
		err := tx.Model(&Notification{}).Where("id IN ? AND state = ?", ids, NotifyPending).
			Updates(map[string]any{"state": NotifySent, "sent_at": at, "claimed_until": nil, "last_error": ""}).Error
		if err != nil {
			return translate(err, "mark notifications sent")
		}
		if len(channelIDs) > 0 {
			if err := tx.Model(&Channel{}).Where("id IN ?", channelIDs).Update("last_sent_at", at).Error; err != nil {
				return translate(err, "record channel delivery")
			}
		}
		return nil
	})
}

// RetryNotification records a failed attempt that will be retried at next.
func (s *Store) RetryNotification(n *Notification, sendErr error, next, at time.Time) error {
	return s.failNotification(n, sendErr, map[string]any{"next_attempt_at": next.UTC()}, at)
}

// FailNotification records a failed attempt that will not be retried.
func (s *Store) FailNotification(n *Notification, sendErr error, at time.Time) error {
	return s.failNotification(n, sendErr, map[string]any{"state": NotifyFailed}, at)
}

func (s *Store) failNotification(n *Notification, sendErr error, set map[string]any, at time.Time) error {
	msg := truncate(sendErr.Error(), MaxErrorText)
	set["last_error"] = msg
	set["claimed_until"] = nil
	return s.db.Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(&Notification{}).Where("id = ? AND state = ?", n.ID, NotifyPending).Updates(set).Error; err != nil {
			return translate(err, fmt.Sprintf("record failure of notification %d", n.ID))
		}
		err := tx.Model(&Channel{}).Where("id = ?", n.ChannelID).
			Updates(map[string]any{"last_error": msg, "last_error_at": at.UTC()}).Error
		return translate(err, "record channel error")
	})
}
