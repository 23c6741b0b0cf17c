package models

import (
	"fmt"
)

// badgeKeyLen is the length of a badge key: 22 base-62 characters, about
// 131 bits, so that badge URLs cannot be guessed. Migration 7 gives the
// projects that existed before it keys of the same form.
const badgeKeyLen = 22

func newBadgeKey() string { return randomString(badgeKeyLen, keyAlphabet) }

// RotateBadgeKey gives the project a new badge key and returns the project:
// badge URLs with the old key stop working.
func (s *Store) RotateBadgeKey(id string) (*Project, error) {
	res := s.db.Model(&Project{}).Where("id = ?", id).
		Updates(map[string]any{"badge_key": newBadgeKey(), "updated_at": s.Now()})
	if res.Error != nil {
		return nil, translate(res.Error, "rotate badge key of project "+id)
	}
	if res.RowsAffected == 0 {
		return nil, fmt.Errorf("project %s: %w", id, ErrNotFound)
	}
	return s.Project(id)
}
