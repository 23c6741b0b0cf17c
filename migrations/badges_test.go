package migrations_test

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/cronpulse/cronpulse/migrations"
	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBadgesBackfillsRandomKeys starts from the schema before migration 7,
// with projects in it, and checks that each gets a distinct base-62 key.
func TestBadgesBackfillsRandomKeys(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, db := range modelstest.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			db.SkipIfMissing(t)
			conn := open(t, db.URL)
			_, err := migrations.ApplyThrough(conn, log, 6)
			require.NoError(t, err)
			now := time.Now().UTC()
			for _, id := range []string{"p1", "p2", "p3"} {
				require.NoError(t, conn.Exec(`INSERT INTO projects (id, name, ping_key, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
					id, "project "+id, "ping"+id, now, now).Error)
			}
			_, err = migrations.Apply(conn, log)
			require.NoError(t, err)

			var keys []string
			require.NoError(t, conn.Raw(`SELECT badge_key FROM projects ORDER BY id`).Scan(&keys).Error)
			require.Len(t, keys, 3)
			seen := map[string]bool{}
			for _, k := range keys {
				assert.Regexp(t, `^[0-9A-Za-z]{22}$`, k)
				assert.False(t, seen[k], "badge keys must differ")
				seen[k] = true
			}
			err = conn.Exec(`UPDATE projects SET badge_key = ? WHERE id = 'p2'`, keys[0]).Error
			assert.Error(t, err, "badge keys are unique")
		})
	}
}
