package checker

import (
	"testing"
	"time"

	"github.com/cronpulse/cronpulse/models"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStatusFollowsTheTicks: Status reports the dispatcher's last tick on
// the engine's clock, the next one gocron has planned, and how many checks
// the last tick started.
func TestStatusFollowsTheTicks(t *testing.T) {
	eachFake(t, func(t *testing.T, f *fakeEnv) {
		st, err := f.engine.Status()
		require.NoError(t, err)
		assert.True(t, st.Running)
		assert.Equal(t, dispatchEvery, st.TickInterval)
		assert.Nil(t, st.LastTickAt, "no tick before the clock moves")
		require.NotNil(t, st.NextTickAt)
		assert.Equal(t, at(dispatchEvery), st.NextTickAt.UTC())

		for range 3 {
			f.newCheck(nil) // @every 10s: first tick at t0+10s
		}
		f.newCheck(func(r *models.JobRequest) { r.Paused = ptr(true) })

		// One jump of the fake clock fires gocron's dispatcher once, just
		// after the three unpaused checks fell due. (A jump that lands on
		// the dispatcher's 200ms grid would fire it twice at that instant:
		// gocron reschedules a late job at the first grid point not before
		// now.)
		tick := at(10*time.Second + dispatchEvery/2)
		f.clock.Advance(tick.Sub(f.clock.Now()))
		require.Eventually(t, func() bool {
			st, err = f.engine.Status()
			return err == nil && st.LastTickAt != nil
		}, 10*time.Second, time.Millisecond)
		f.waitStored()
		assert.Equal(t, tick, st.LastTickAt.UTC())
		require.NotNil(t, st.NextTickAt)
		assert.Equal(t, at(10*time.Second+dispatchEvery), st.NextTickAt.UTC(), "the next point of the grid")
		assert.Equal(t, 3, st.JobsCheckedLastTick)
		assert.Equal(t, int64(3), st.ChecksScheduled)
		assert.Zero(t, st.HeartbeatsWatched)

		idle, err := newEngine(t, f.store, f.clock, nil).Status()
		require.NoError(t, err)
		assert.False(t, idle.Running, "an engine never started")
		assert.Nil(t, idle.LastTickAt)
		assert.Nil(t, idle.NextTickAt)
	})
}
