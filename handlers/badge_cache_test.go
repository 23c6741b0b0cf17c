package handlers

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/stretchr/testify/assert"
)

func TestBadgeCacheIsBounded(t *testing.T) {
	now := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	c := newBadgeCache(func() time.Time { return now }, time.Minute, 3)
	for i := 0; i < 10; i++ {
		_, _ = c.get(strconv.Itoa(i), func() (models.BadgeState, error) { return models.BadgeState{}, nil })
		assert.LessOrEqual(t, len(c.entries), 3)
	}
}

func TestBadgeCacheLoadsOnceAtATime(t *testing.T) {
	now := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	c := newBadgeCache(func() time.Time { return now }, time.Minute, 10)
	var loads atomic.Int32
	release := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := c.get("k", func() (models.BadgeState, error) {
				loads.Add(1)
				<-release
				return models.BadgeState{Label: "L", Status: models.StatusUp}, nil
			})
			assert.NoError(t, err)
			assert.Equal(t, "L", st.Label)
		}()
	}
	time.Sleep(50 * time.Millisecond) // let the requests pile up on the first load
	close(release)
	wg.Wait()
	assert.Equal(t, int32(1), loads.Load())
}
