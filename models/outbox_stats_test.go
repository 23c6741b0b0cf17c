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

func TestOutboxCountsAndFlipTo(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		j, _ := outboxFixture(t, s, webhookChannel("a", true), webhookChannel("b", true))
		var flippedTo []string
		s.SetFlipListener(&models.FlipListener{FlipTo: func(to string) { flippedTo = append(flippedTo, to) }})
		at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

		counts, err := s.OutboxCounts()
		require.NoError(t, err)
		assert.Equal(t, map[string]int64{"pending": 0, "failed": 0}, counts)

		f, err := s.ChangeStatus(j.ID, models.StatusDown, "missed heartbeat", at)
		require.NoError(t, err)
		require.NotNil(t, f)
		ns, err := s.Notifications(f.ID)
		require.NoError(t, err)
		require.Len(t, ns, 2)
		require.NoError(t, s.FailNotification(&ns[0], errors.New("410 gone"), at))

		counts, err = s.OutboxCounts()
		require.NoError(t, err)
		assert.Equal(t, map[string]int64{"pending": 1, "failed": 1}, counts)
		assert.Equal(t, []string{models.StatusDown}, flippedTo)
	})
}
