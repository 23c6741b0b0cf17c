package models_test

import (
	"errors"
	"testing"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOutboxCounts(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		pending, failed, err := s.OutboxCounts()
		require.NoError(t, err)
		assert.Zero(t, pending, "an empty outbox")
		assert.Zero(t, failed)

		j, _ := outboxFixture(t, s, webhookChannel("a", true), webhookChannel("b", true),
			webhookChannel("c", true), webhookChannel("d", true))
		at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		_, err = s.ChangeStatus(j.ID, models.StatusUp, "", at)
		require.NoError(t, err)
		f, err := s.ChangeStatus(j.ID, models.StatusDown, "missed heartbeat", at)
		require.NoError(t, err)
		require.NotNil(t, f)
		ns, err := s.Notifications(f.ID)
		require.NoError(t, err)
		require.Len(t, ns, 4)
		// One given up, one sent, two still pending.
		for id, state := range map[int64]string{ns[0].ID: models.NotifyFailed, ns[1].ID: models.NotifySent} {
			require.NoError(t, s.DB().Model(&models.Notification{}).Where("id = ?", id).Update("state", state).Error)
		}

		pending, failed, err = s.OutboxCounts()
		require.NoError(t, err)
		assert.Equal(t, int64(2), pending)
		assert.Equal(t, int64(1), failed)
	})
}

// TestOutboxCountsAfterAFailure: a failed delivery moves a notification
// from pending to failed, and the flip is heard by FlipTo.
func TestOutboxCountsAfterAFailure(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		j, _ := outboxFixture(t, s, webhookChannel("a", true), webhookChannel("b", true))
		var flippedTo []string
		s.SetFlipListener(&models.FlipListener{FlipTo: func(to string) { flippedTo = append(flippedTo, to) }})
		at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

		pending, failed, err := s.OutboxCounts()
		require.NoError(t, err)
		assert.Equal(t, [2]int64{0, 0}, [2]int64{pending, failed})

		f, err := s.ChangeStatus(j.ID, models.StatusDown, "missed heartbeat", at)
		require.NoError(t, err)
		require.NotNil(t, f)
		ns, err := s.Notifications(f.ID)
		require.NoError(t, err)
		require.Len(t, ns, 2)
		require.NoError(t, s.FailNotification(&ns[0], errors.New("410 gone"), at))

		pending, failed, err = s.OutboxCounts()
		require.NoError(t, err)
		assert.Equal(t, [2]int64{1, 1}, [2]int64{pending, failed}, "one pending, one failed")
		assert.Equal(t, []string{models.StatusDown}, flippedTo)
	})
}
