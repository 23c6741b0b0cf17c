package models_test

import (
	"testing"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUserAdministration(t *testing.T) {
	modelstest.Run(t, func(t *testing.T, db modelstest.Database) {
		now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		store := modelstest.Open(t, db.URL, func() time.Time { return now })
		root, err := store.CreateUser("root@example.com", "long enough", models.RoleAdmin)
		require.NoError(t, err)
		now = now.Add(time.Second)
		op, err := store.CreateUser("op@example.com", "long enough", models.RoleOperator)
		require.NoError(t, err)

		users, err := store.Users()
		require.NoError(t, err)
		require.Len(t, users, 2)
		assert.Equal(t, root.ID, users[0].ID, "oldest first")

		_, err = store.SetUserRole(root.ID, models.RoleViewer)
		assert.True(t, models.IsLastAdmin(err), "the only admin cannot be demoted: %v", err)
		assert.True(t, models.IsLastAdmin(store.DeleteUser(root.ID)), "nor deleted")
		_, err = store.SetUserRole(op.ID, "boss")
		assert.ErrorContains(t, err, "role: must be one of")
		_, err = store.SetUserRole("nope", models.RoleViewer)
		assert.True(t, models.IsNotFound(err))

		now = now.Add(time.Minute)
		got, err := store.SetUserRole(op.ID, models.RoleAdmin)
		require.NoError(t, err)
		assert.Equal(t, models.RoleAdmin, got.Role)
		assert.Equal(t, now, got.UpdatedAt.UTC())
		_, err = store.SetUserRole(root.ID, models.RoleViewer)
		require.NoError(t, err, "with a second admin the first may step down")
		_, err = store.SetUserRole(op.ID, models.RoleOperator)
		assert.True(t, models.IsLastAdmin(err), "now op is the last admin")

		_, _, err = store.CreateSession(root.ID, time.Hour)
		require.NoError(t, err)
		require.NoError(t, store.DeleteUser(root.ID), "a viewer may go")
		_, err = store.User(root.ID)
		assert.True(t, models.IsNotFound(err))
		var sessions int64
		require.NoError(t, store.DB().Table("sessions").Where("user_id = ?", root.ID).Count(&sessions).Error)
		assert.Zero(t, sessions, "deleting a user deletes their sessions")
		assert.True(t, models.IsNotFound(store.DeleteUser(root.ID)))
	})
}

func TestChangePassword(t *testing.T) {
	modelstest.Run(t, func(t *testing.T, db modelstest.Database) {
		store := modelstest.Open(t, db.URL, nil)
		u, err := store.CreateUser("a@example.com", "old password", models.RoleViewer)
		require.NoError(t, err)
		other, err := store.CreateUser("b@example.com", "old password", models.RoleViewer)
		require.NoError(t, err)
		for range 2 {
			_, _, err = store.CreateSession(u.ID, time.Hour)
			require.NoError(t, err)
		}
		_, _, err = store.CreateSession(other.ID, time.Hour)
		require.NoError(t, err)

		assert.ErrorContains(t, store.ChangePassword(u.ID, "wrong", "new password"), "current_password: is not your current password")
		assert.ErrorContains(t, store.ChangePassword(u.ID, "old password", "short"), "new_password: must be at least 8 characters")
		count := func(id string) int64 {
			var n int64
			require.NoError(t, store.DB().Table("sessions").Where("user_id = ?", id).Count(&n).Error)
			return n
		}
		assert.EqualValues(t, 2, count(u.ID), "refused changes sign nobody out")

		require.NoError(t, store.ChangePassword(u.ID, "old password", "new password"))
		got, err := store.User(u.ID)
		require.NoError(t, err)
		assert.True(t, got.CheckPassword("new password"))
		assert.False(t, got.CheckPassword("old password"))
		assert.Zero(t, count(u.ID), "every session of the user is signed out")
		assert.EqualValues(t, 1, count(other.ID), "other users' sessions stay")
	})
}
