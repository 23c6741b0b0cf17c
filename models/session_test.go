package models_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPasswordHashes(t *testing.T) {
	t.Run("argon2id", func(t *testing.T) {
		store := modelstest.Open(t, t.TempDir()+"/p.db", nil)
		u, err := store.CreateUser("a@example.com", "correct horse", models.RoleViewer)
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(u.PasswordHash, "$argon2id$v=19$m=19456,t=2,p=1$"), u.PasswordHash)
		assert.True(t, u.CheckPassword("correct horse"))
		assert.False(t, u.CheckPassword("correct horsE"))
		assert.False(t, u.CheckPassword(""))
	})
	t.Run("pbkdf2 hashes made before argon2id still verify", func(t *testing.T) {
		u := &models.User{PasswordHash: models.PBKDF2Hash("old password", 1000)}
		assert.True(t, u.CheckPassword("old password"))
		assert.False(t, u.CheckPassword("old passwore"))
	})
	t.Run("malformed hashes verify nothing", func(t *testing.T) {
		for _, h := range []string{"", "$argon2id$", "$argon2id$v=19$m=0,t=1,p=1$AAAA$AAAA", "pbkdf2-sha256$x$a$b", "plain"} {
			assert.False(t, (&models.User{PasswordHash: h}).CheckPassword(""), h)
		}
	})
	t.Run("short passwords are refused", func(t *testing.T) {
		store := modelstest.Open(t, t.TempDir()+"/p.db", nil)
		_, err := store.CreateUser("a@example.com", "1234567", models.RoleViewer)
		assert.ErrorContains(t, err, "password: must be at least 8 characters")
	})
}

func TestRolePermissions(t *testing.T) {
	cases := map[string]map[string]bool{
		models.RoleViewer:   {models.PermReadJobs: true, models.PermReadProjects: true, models.PermWriteJobs: false, models.PermWriteProjects: false, models.PermAll: false},
		models.RoleOperator: {models.PermReadJobs: true, models.PermReadProjects: true, models.PermWriteJobs: true, models.PermWriteProjects: true, models.PermAll: false},
		models.RoleAdmin:    {models.PermReadJobs: true, models.PermReadProjects: true, models.PermWriteJobs: true, models.PermWriteProjects: true, models.PermAll: true},
		"nobody":            {models.PermReadJobs: false},
	}
	for role, perms := range cases {
		for perm, want := range perms {
			assert.Equal(t, want, (&models.User{Role: role}).Can(perm), "%s %s", role, perm)
		}
	}
}

func TestCreateFirstAdmin(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, store *models.Store) {
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Go(func() {
				_, errs[i] = store.CreateFirstAdmin("admin"+string(rune('a'+i))+"@example.com", "long enough")
			})
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else {
				assert.True(t, models.IsSetupDone(err), "%v", err)
			}
		}
		assert.Equal(t, 1, ok, "exactly one setup creates a user")
		n, err := store.CountUsers()
		require.NoError(t, err)
		assert.EqualValues(t, 1, n)
	})
}

func TestSessions(t *testing.T) {
	modelstest.Run(t, func(t *testing.T, db modelstest.Database) {
		now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		store := modelstest.Open(t, db.URL, func() time.Time { return now })
		u, err := store.CreateUser("s@example.com", "long enough", models.RoleOperator)
		require.NoError(t, err)
		ttl := time.Hour
		sess, token, err := store.CreateSession(u.ID, ttl)
		require.NoError(t, err)
		assert.NotContains(t, sess.TokenHash, token)
		var stored int64
		require.NoError(t, store.DB().Table("sessions").Where("token_hash = ?", token).Count(&stored).Error)
		assert.Zero(t, stored, "the token itself is never stored")

		_, got, err := store.SessionUser(token, ttl)
		require.NoError(t, err)
		assert.Equal(t, u.ID, got.ID)
		_, _, err = store.SessionUser(token+"x", ttl)
		assert.True(t, models.IsNotFound(err))

		// Use within the touch interval does not write; after it, the
		// expiry slides.
		now = now.Add(30 * time.Second)
		s2, _, err := store.SessionUser(token, ttl)
		require.NoError(t, err)
		assert.Equal(t, sess.ExpiresAt, s2.ExpiresAt.UTC())
		assert.False(t, s2.Slid)
		now = now.Add(50 * time.Minute)
		s3, _, err := store.SessionUser(token, ttl)
		require.NoError(t, err)
		assert.Equal(t, now.Add(ttl), s3.ExpiresAt.UTC())
		assert.True(t, s3.Slid)
		var expires time.Time
		require.NoError(t, store.DB().Table("sessions").Select("expires_at").Where("token_hash = ?", sess.TokenHash).Scan(&expires).Error)
		assert.Equal(t, now.Add(ttl), expires.UTC(), "the slide is stored")

		// An hour without use ends it; pruning deletes it.
		now = now.Add(ttl / 2)
		_, other, err := store.CreateSession(u.ID, ttl)
		require.NoError(t, err)
		now = now.Add(ttl / 2)
		_, _, err = store.SessionUser(token, ttl)
		assert.True(t, models.IsNotFound(err), "expired: %v", err)
		n, err := store.PruneSessions()
		require.NoError(t, err)
		assert.EqualValues(t, 1, n, "the expired session is pruned, the fresh one kept")
		_, _, err = store.SessionUser(other, ttl)
		require.NoError(t, err)

		require.NoError(t, store.DeleteSession(other))
		_, _, err = store.SessionUser(other, ttl)
		assert.True(t, models.IsNotFound(err))
		require.NoError(t, store.DeleteSession(other), "signing out twice is harmless")
	})
}
