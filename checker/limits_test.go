package checker

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Checks queued behind a slow host hold no global slot: another host's
// check gets through at once. The test runs in a synctest bubble, so
// "the second check is waiting" is a fact (synctest.Wait returns once every
// goroutine is durably blocked) rather than a guess after a sleep, and the
// timeouts below run on the bubble's fake clock.
func TestSlowHostDoesNotStarveOthers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLimiter(2, 1)
		ctx := t.Context()
		releaseSlow, err := l.acquire(ctx, "slow:80")
		require.NoError(t, err)

		queued := make(chan func(), 1) // buffered: a wrongly granted slot lands here, the goroutine never hangs
		go func() {
			r, err := l.acquire(ctx, "slow:80") // waits for the slow host's only slot
			assert.NoError(t, err)
			queued <- r
		}()
		synctest.Wait() // the second acquire has got its slot, or is blocked waiting for one
		select {
		case <-queued:
			t.Fatal("a second check of the slow host got a slot while the first holds it")
		default:
		}

		fast, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		releaseFast, err := l.acquire(fast, "fast:80")
		require.NoError(t, err, "the other host is not starved")
		releaseFast()

		releaseSlow()
		select {
		case r := <-queued:
			r()
		case <-time.After(5 * time.Second):
			t.Fatal("the queued check never got the slot back")
		}
		l.mu.Lock()
		assert.Empty(t, l.hosts, "idle hosts are forgotten")
		l.mu.Unlock()

		// Waiting for a busy host ends with the context.
		hold, err := l.acquire(ctx, "slow:80")
		require.NoError(t, err)
		cancelled, stop := context.WithCancel(ctx)
		stop()
		_, err = l.acquire(cancelled, "slow:80")
		assert.ErrorIs(t, err, context.Canceled)
		hold()
	})
}

// Stop lets a check in flight finish and stores its run.
func TestStopFinishesChecksInFlight(t *testing.T) {
	for _, db := range modelstest.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			db.SkipIfMissing(t)
			slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				time.Sleep(300 * time.Millisecond)
			}))
			t.Cleanup(slow.Close)
			clock := clockwork.NewFakeClockAt(t0)
			store := modelstest.Open(t, db.URL, clock.Now)
			j := newCheck(t, store, newProject(t, store).ID, slow.URL, nil)
			e := newEngine(t, store, clock, nil) // the only engine: it alone can claim the tick
			require.NoError(t, e.Start(t.Context()))
			clock.Advance(10 * time.Second)
			e.dispatch()
			require.Equal(t, int64(1), e.check.unstored.Load(), "the check is in flight")
			require.NoError(t, e.Stop())
			runs := checkRuns(t, store, j.ID)
			require.Len(t, runs, 1)
			assert.Equal(t, models.RunSuccess, runs[0].Result)
			assert.GreaterOrEqual(t, runs[0].ResponseTimeMs, int64(300))
		})
	}
}
