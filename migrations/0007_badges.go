package migrations

import (
	"crypto/rand"
	"fmt"
	"math/big"

	"gorm.io/gorm"
)

// badges gives every project a badge key: the public part of its status
// badge URLs (/badge/{badgeKey}/…), apart from the ping key so that
// showing a badge never lets anyone ping, and rotatable on its own.
//
// Existing projects get a random key here, in Go: neither database makes
// crypto/rand-quality base-62 strings in SQL the same way (SQLite has
// randomblob, PostgreSQL gen_random_uuid, each with its own alphabet). The
// unique index comes after the backfill, once every key is set.
var badges = Migration{
	Version: 7,
	Name:    "badges",
	SQL: []string{
		`ALTER TABLE projects ADD COLUMN badge_key text NOT NULL DEFAULT ''`,
	},
	Go: backfillBadgeKeys,
}

// badgeKeyLen and badgeKeyAlphabet match models.NewProject's badge keys:
// 22 base-62 characters, about 131 bits. (Migrations never import models:
// an applied migration must not change when the models do.)
const (
	badgeKeyLen      = 22
	badgeKeyAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)

func backfillBadgeKeys(tx *gorm.DB) error {
	var ids []string
	if err := tx.Raw(`SELECT id FROM projects WHERE badge_key = ''`).Scan(&ids).Error; err != nil {
		return fmt.Errorf("read projects: %w", err)
	}
	for _, id := range ids {
		key, err := randomKey(badgeKeyLen)
		if err != nil {
			return err
		}
		if err := tx.Exec(`UPDATE projects SET badge_key = ? WHERE id = ?`, key, id).Error; err != nil {
			return fmt.Errorf("set badge key of project %s: %w", id, err)
		}
	}
	if err := tx.Exec(`CREATE UNIQUE INDEX projects_badge_key ON projects (badge_key)`).Error; err != nil {
		return fmt.Errorf("CREATE UNIQUE INDEX projects_badge_key: %w", err)
	}
	return nil
}

// randomKey draws n characters of badgeKeyAlphabet uniformly from
// crypto/rand.
func randomKey(n int) (string, error) {
	out := make([]byte, n)
	size := big.NewInt(int64(len(badgeKeyAlphabet)))
	for i := range out {
		v, err := rand.Int(rand.Reader, size)
		if err != nil {
			return "", fmt.Errorf("random badge key: %w", err)
		}
		out[i] = badgeKeyAlphabet[v.Int64()]
	}
	return string(out), nil
}
