package models

import (
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Channel kinds.
const (
	ChannelSlackWebhook = "slack_webhook"
	ChannelSlackBot     = "slack_bot"
	ChannelWebhook      = "webhook"
	ChannelEmail        = "email"
)

// Channel is where a project's alerts go.
type Channel struct {
	ID          string     `json:"id" gorm:"primaryKey"`
	ProjectID   string     `json:"projectId"`
	Name        string     `json:"name"`
	Kind        string     `json:"kind"`
	Config      JSONMap    `json:"config"`
	Enabled     bool       `json:"enabled"`
	RemindEvery int        `json:"remindEvery"`
	LastError   string     `json:"lastError"`
	LastErrorAt *time.Time `json:"lastErrorAt"`
	LastSentAt  *time.Time `json:"lastSentAt"`
	CreatedAt   time.Time  `json:"createdAt"`
	UpdatedAt   time.Time  `json:"updatedAt"`
}

// NewChannel builds a validated channel from a create request. Channels are
// enabled unless the request says otherwise.
func (s *Store) NewChannel(r *ChannelRequest) (*Channel, error) {
	for field, missing := range map[string]bool{"projectId": r.ProjectID == nil, "name": r.Name == nil, "kind": r.Kind == nil, "config": r.Config == nil} {
		if missing {
			return nil, invalid(field, "is required")
		}
	}
	now := s.Now()
	ch := &Channel{ID: NewID(now), Enabled: true, CreatedAt: now, UpdatedAt: now}
	kind := strings.TrimSpace(*r.Kind)
	ch.Kind = kind // so that Patch does not see a kind change without config
	if err := r.Patch(ch); err != nil {
		return nil, err
	}
	return ch, nil
}

// CreateChannel inserts ch after checking that its project exists.
func (s *Store) CreateChannel(ch *Channel) error {
	return s.db.Transaction(func(tx *gorm.DB) error {
		if err := requireProject(tx, ch.ProjectID); err != nil {
			return err
		}
		return translate(tx.Create(ch).Error, "create channel")
	})
}

// Channel returns the channel with the given id.
func (s *Store) Channel(id string) (*Channel, error) {
	var ch Channel
	if err := s.db.Where("id = ?", id).Take(&ch).Error; err != nil {
		return nil, translate(err, "channel "+id)
	}
	return &ch, nil
}

// ChannelFilter selects channels for listing.
type ChannelFilter struct {
	ProjectID string
	Page
}

// Channels returns one page of channels ordered by id, optionally of one
// project.
func (s *Store) Channels(f ChannelFilter) ([]Channel, error) {
	var out []Channel
	q := paged(s.db, f.Page)
	if f.ProjectID != "" {
		q = q.Where("project_id = ?", f.ProjectID)
	}
	if err := q.Find(&out).Error; err != nil {
		return nil, translate(err, "list channels")
	}
	return out, nil
}

// UpdateChannel loads the channel, applies r, validates and saves it in one
// transaction.
func (s *Store) UpdateChannel(id string, r *ChannelRequest) (*Channel, error) {
	var ch Channel
	err := s.db.Transaction(func(tx *gorm.DB) error {
		q := tx.Where("id = ?", id)
		if s.dialect == Postgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"}) // hold the row from read to write
		}
		if err := q.Take(&ch).Error; err != nil {
			return translate(err, "channel "+id)
		}
		before := ch.ProjectID
		if err := r.Patch(&ch); err != nil {
			return err
		}
		if ch.ProjectID != before {
			if err := requireProject(tx, ch.ProjectID); err != nil {
				return err
			}
		}
		ch.UpdatedAt = s.Now()
		// Only the columns a request can change: GORM's Save would insert a
		// channel deleted meanwhile, and would write back last_error and
		// last_sent_at, which the notifier updates concurrently.
		res := tx.Model(&Channel{}).Where("id = ?", ch.ID).Updates(map[string]any{
			"project_id": ch.ProjectID, "name": ch.Name, "kind": ch.Kind, "config": ch.Config,
			"enabled": ch.Enabled, "remind_every": ch.RemindEvery, "updated_at": ch.UpdatedAt,
		})
		if res.Error != nil {
			return translate(res.Error, "save channel "+id)
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("channel %s: %w", id, ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ch, nil
}

// DeleteChannel removes a channel; the database cascades to its
// notifications.
func (s *Store) DeleteChannel(id string) error {
	res := s.db.Where("id = ?", id).Delete(&Channel{})
	if res.Error != nil {
		return translate(res.Error, "delete channel "+id)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("channel %s: %w", id, ErrNotFound)
	}
	return nil
}

// RecordChannelResult notes the outcome of a delivery (or a test message)
// on the channel: when it last succeeded, or its last error and when.
func (s *Store) RecordChannelResult(id string, sendErr error, at time.Time) error {
	var err error
	if sendErr == nil {
		err = s.db.Model(&Channel{}).Where("id = ?", id).Update("last_sent_at", at.UTC()).Error
	} else {
		err = s.db.Model(&Channel{}).Where("id = ?", id).
			Updates(map[string]any{"last_error": truncate(sendErr.Error(), MaxErrorText), "last_error_at": at.UTC()}).Error
	}
	return translate(err, "record result of channel "+id)
}
