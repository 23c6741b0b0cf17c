package models_test

import (
	"testing"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hb drives one heartbeat job (see modelstest.Heartbeat).
type hb = modelstest.Heartbeat

func newHB(t *testing.T, store *models.Store, schedule, tz string, tolerance int, created time.Time) *hb {
	t.Helper()
	return modelstest.NewHeartbeat(t, store, schedule, tz, tolerance, created)
}

func utc(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, time.UTC)
}

func TestHeartbeatStateMachine(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, store *models.Store) {
		t0 := utc(2024, 5, 1, 10, 0)
		h := newHB(t, store, "0 * * * *", "UTC", 5, t0)

		// new: no alert before the first ping, however long it takes.
		j := h.Tick(t0.Add(48 * time.Hour))
		h.RequireState(j, models.StatusNew, models.LastPending)
		assert.Nil(t, j.AlertAt)

		// success → up; next expected at the first tick after the ping.
		p := h.Ping(models.PingSuccess, utc(2024, 5, 1, 10, 7), "")
		assert.Equal(t, int64(1), p.N)
		j = h.Get()
		h.RequireState(j, models.StatusUp, models.LastSuccess)
		require.NotNil(t, j.NextRunAt)
		assert.Equal(t, utc(2024, 5, 1, 11, 0), j.NextRunAt.UTC())
		assert.Equal(t, utc(2024, 5, 1, 11, 0), j.AlertAt.UTC())
		assert.Equal(t, int64(1), j.PingCount)

		// Before the tick: nothing. At the tick: late (not a flip).
		j = h.Tick(utc(2024, 5, 1, 10, 59))
		h.RequireState(j, models.StatusUp, models.LastSuccess)
		j = h.Tick(utc(2024, 5, 1, 11, 0))
		h.RequireState(j, models.StatusLate, models.LastSuccess)
		assert.Equal(t, utc(2024, 5, 1, 11, 5), j.AlertAt.UTC())
		assert.Empty(t, h.Flips())

		// Tolerance passed: down, lastStatus missed, one flip.
		j = h.Tick(utc(2024, 5, 1, 11, 5))
		h.RequireState(j, models.StatusDown, models.LastMissed)
		assert.Nil(t, j.AlertAt)
		f := h.Flips()
		require.Len(t, f, 1)
		assert.Equal(t, models.StatusLate, f[0].FromStatus)
		assert.Equal(t, models.StatusDown, f[0].ToStatus)
		assert.Contains(t, f[0].Reason, "missed heartbeat")

		// Further ticks change nothing.
		h.Tick(utc(2024, 5, 1, 13, 0))
		assert.Len(t, h.Flips(), 1)

		// A success ping brings it up: a flip down→up.
		h.Ping(models.PingSuccess, utc(2024, 5, 1, 13, 1), "")
		j = h.Get()
		h.RequireState(j, models.StatusUp, models.LastSuccess)
		f = h.Flips()
		require.Len(t, f, 2)
		assert.Equal(t, models.StatusUp, f[0].ToStatus)

		// /fail is down at once.
		h.Ping(models.PingFail, utc(2024, 5, 1, 13, 2), "")
		j = h.Get()
		h.RequireState(j, models.StatusDown, models.LastFailure)
		assert.Nil(t, j.AlertAt)
		require.Len(t, h.Flips(), 3)

		// Exit status 0 is success, non-zero is failure.
		h.Ping(models.PingSuccess, utc(2024, 5, 1, 13, 3), "", 0)
		h.RequireState(h.Get(), models.StatusUp, models.LastSuccess)
		h.Ping(models.PingFail, utc(2024, 5, 1, 13, 4), "", 3)
		j = h.Get()
		h.RequireState(j, models.StatusDown, models.LastFailure)
		f = h.Flips()
		require.Len(t, f, 5)
		assert.Equal(t, "failure exit status 3", f[0].Reason)

		// /log changes no status but counts.
		h.Ping(models.PingLog, utc(2024, 5, 1, 13, 5), "")
		j = h.Get()
		h.RequireState(j, models.StatusDown, models.LastFailure)
		assert.Equal(t, int64(6), j.PingCount)
		assert.Equal(t, utc(2024, 5, 1, 13, 5), j.LastActivityAt.UTC())
	})
}

func TestHeartbeatHangingRun(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, store *models.Store) {
		t0 := utc(2024, 5, 1, 10, 0)
		h := newHB(t, store, "0 3 * * *", "UTC", 10, t0)
		h.Ping(models.PingSuccess, utc(2024, 5, 1, 3, 0), "")

		// A start with no finish within the tolerance is down (timeout).
		h.Ping(models.PingStart, utc(2024, 5, 2, 3, 0), "")
		j := h.Get()
		h.RequireState(j, models.StatusUp, models.LastRunning)
		assert.Equal(t, utc(2024, 5, 2, 3, 0), j.AlertAt.UTC(), "the schedule tick comes first")
		j = h.Tick(utc(2024, 5, 2, 3, 9))
		h.RequireState(j, models.StatusLate, models.LastRunning)
		assert.Equal(t, utc(2024, 5, 2, 3, 10), j.AlertAt.UTC())
		j = h.Tick(utc(2024, 5, 2, 3, 10))
		h.RequireState(j, models.StatusDown, models.LastTimeout)
		f := h.Flips()
		require.Len(t, f, 1)
		assert.Contains(t, f[0].Reason, "did not finish within 10 minutes")

		// The late finish brings it up, with its duration.
		p := h.Ping(models.PingSuccess, utc(2024, 5, 2, 3, 30), "")
		require.NotNil(t, p.DurationMs)
		assert.Equal(t, int64(30*60*1000), *p.DurationMs)
		j = h.Get()
		h.RequireState(j, models.StatusUp, models.LastSuccess)
		assert.Nil(t, j.LastStartAt)

		// A start that finishes in time never alerts.
		h.Ping(models.PingStart, utc(2024, 5, 3, 3, 0), "")
		h.Tick(utc(2024, 5, 3, 3, 5))
		h.Ping(models.PingSuccess, utc(2024, 5, 3, 3, 6), "")
		j = h.Tick(utc(2024, 5, 3, 3, 20))
		h.RequireState(j, models.StatusUp, models.LastSuccess)
		assert.Len(t, h.Flips(), 2)
	})
}

func TestRunIDPairsStartAndFinish(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, store *models.Store) {
		t0 := utc(2024, 5, 1, 10, 0)
		h := newHB(t, store, "@every 1h", "UTC", 30, t0)
		a, b := "0b2f8d61-9c57-4c3e-8f0e-6a1c2b3d4e5f", "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a"
		h.Ping(models.PingStart, t0, a)
		h.Ping(models.PingStart, t0.Add(10*time.Second), b)
		// b finishes first: its duration is measured from its own start.
		pb := h.Ping(models.PingSuccess, t0.Add(70*time.Second), b, 0)
		require.NotNil(t, pb.DurationMs)
		assert.Equal(t, int64(60_000), *pb.DurationMs)
		assert.Equal(t, b, pb.RID)
		require.NotNil(t, pb.ExitStatus)
		pa := h.Ping(models.PingFail, t0.Add(100*time.Second), a, 2)
		require.NotNil(t, pa.DurationMs)
		assert.Equal(t, int64(100_000), *pa.DurationMs)
		// A finish whose rid never started has no duration.
		pc := h.Ping(models.PingSuccess, t0.Add(200*time.Second), "11111111-2222-4333-8444-555555555555")
		assert.Nil(t, pc.DurationMs)

		// The stored rows say the same.
		items, err := store.Runs(models.RunFilter{JobID: h.Job.ID, Limit: 10})
		require.NoError(t, err)
		require.Len(t, items, 5)
		assert.Equal(t, int64(4), items[1].Ping.N)
		assert.Equal(t, models.PingFail, items[1].Ping.Kind)
		assert.Equal(t, 2, *items[1].Ping.ExitStatus)
		assert.Equal(t, int64(100_000), *items[1].Ping.DurationMs)
		assert.Equal(t, a, items[1].Ping.RID)
	})
}

func TestRestartAfterManyMissedDeadlinesFlipsOnce(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, store *models.Store) {
		t0 := utc(2024, 5, 1, 10, 0)
		h := newHB(t, store, "*/5 * * * *", "UTC", 1, t0)
		h.Ping(models.PingSuccess, utc(2024, 5, 1, 10, 1), "")
		// The server was off for a day: hundreds of ticks passed.
		j := h.Tick(utc(2024, 5, 2, 10, 0))
		h.RequireState(j, models.StatusDown, models.LastMissed)
		require.Len(t, h.Flips(), 1)
		h.Tick(utc(2024, 5, 2, 10, 0))
		h.Tick(utc(2024, 5, 2, 11, 0))
		require.Len(t, h.Flips(), 1)
	})
}

func TestRacingTicksFlipOnce(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, store *models.Store) {
		t0 := utc(2024, 5, 1, 10, 0)
		h := newHB(t, store, "0 * * * *", "UTC", 5, t0)
		h.Ping(models.PingSuccess, utc(2024, 5, 1, 10, 30), "")
		now := utc(2024, 5, 1, 12, 0)
		// Two ticks read the same due job before either writes.
		due1, err := store.DueHeartbeats(now, 10)
		require.NoError(t, err)
		due2, err := store.DueHeartbeats(now, 10)
		require.NoError(t, err)
		require.Len(t, due1, 1)
		r1, err := store.ApplyHeartbeats(due1, now)
		require.NoError(t, err)
		r2, err := store.ApplyHeartbeats(due2, now)
		require.NoError(t, err)
		assert.Equal(t, 1, r1.Flips)
		assert.Equal(t, 0, r2.Flips)
		assert.Equal(t, 1, r2.Skipped)
		require.Len(t, h.Flips(), 1)

		// A ping between read and write wins too.
		h.Ping(models.PingSuccess, utc(2024, 5, 1, 12, 1), "")
		later := utc(2024, 5, 1, 14, 0)
		due, err := store.DueHeartbeats(later, 10)
		require.NoError(t, err)
		h.Ping(models.PingSuccess, utc(2024, 5, 1, 14, 0), "")
		r, err := store.ApplyHeartbeats(due, later)
		require.NoError(t, err)
		assert.Equal(t, 1, r.Skipped)
		h.RequireState(h.Get(), models.StatusUp, models.LastSuccess)
	})
}

func TestPausedJobIsNotWatched(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, store *models.Store) {
		t0 := utc(2024, 5, 1, 10, 0)
		h := newHB(t, store, "0 * * * *", "UTC", 5, t0)
		h.Ping(models.PingSuccess, utc(2024, 5, 1, 10, 30), "")
		yes, no := true, false
		_, err := store.UpdateJob(h.Job.ID, &models.JobRequest{Paused: &yes})
		require.NoError(t, err)
		j := h.Tick(utc(2024, 5, 3, 0, 0))
		assert.Equal(t, models.StatusPaused, j.Status)
		assert.Nil(t, j.AlertAt)
		// Pings to a paused job are recorded but change no status. (The
		// writer last saw the job up: its copy of the row must not be
		// trusted after the pause, which another connection wrote.)
		h.Ping(models.PingSuccess, utc(2024, 5, 3, 0, 1), "")
		h.RequireState(h.Get(), models.StatusPaused, models.LastSuccess)
		h.Ping(models.PingFail, utc(2024, 5, 3, 0, 2), "")
		j = h.Get()
		assert.Equal(t, models.StatusPaused, j.Status)
		assert.Equal(t, int64(3), j.PingCount)
		assert.Empty(t, h.Flips())
		// Resumed: new, waiting for a ping; then watched again.
		_, err = store.UpdateJob(h.Job.ID, &models.JobRequest{Paused: &no})
		require.NoError(t, err)
		j = h.Tick(utc(2024, 5, 4, 0, 0))
		assert.Equal(t, models.StatusNew, j.Status)
		h.Ping(models.PingSuccess, utc(2024, 5, 4, 0, 10), "")
		j = h.Tick(utc(2024, 5, 4, 1, 5))
		h.RequireState(j, models.StatusDown, models.LastMissed)
	})
}

// TestHeartbeatAcrossDST checks that the expected tick after a ping is the
// next wall-clock tick in the job's zone on days when clocks change.
func TestHeartbeatAcrossDST(t *testing.T) {
	cases := []struct {
		name, schedule, tz string
		ping, expected     time.Time
	}{
		// New York springs forward on 2024-03-10 at 02:00: 02:30 does not
		// exist that day and the job still runs once, at 03:30 EDT.
		{"new york spring 02:30", "30 2 * * *", "America/New_York", utc(2024, 3, 9, 7, 30), utc(2024, 3, 10, 7, 30)},
		// A 09:00 job on the spring-forward day comes 23 hours later.
		{"new york spring 09:00", "0 9 * * *", "America/New_York", utc(2024, 3, 9, 14, 0), utc(2024, 3, 10, 13, 0)},
		// New York falls back on 2024-11-03: a 09:00 job comes 25 hours later.
		{"new york fall 09:00", "0 9 * * *", "America/New_York", utc(2024, 11, 2, 13, 0), utc(2024, 11, 3, 14, 0)},
		// Berlin falls back on 2024-10-27: 02:30 happens twice; the first is
		// the expected tick (00:30 UTC)...
		{"berlin fall first 02:30", "30 2 * * *", "Europe/Berlin", utc(2024, 10, 26, 0, 30), utc(2024, 10, 27, 0, 30)},
		// ...and a ping at it expects the next day, not the repeated hour.
		{"berlin fall no repeat", "30 2 * * *", "Europe/Berlin", utc(2024, 10, 27, 0, 31), utc(2024, 10, 28, 1, 30)},
		// A 09:00 job comes 25 hours later.
		{"berlin fall 09:00", "0 9 * * *", "Europe/Berlin", utc(2024, 10, 26, 7, 0), utc(2024, 10, 27, 8, 0)},
		// Berlin springs forward on 2024-03-31: 09:00 CEST is 07:00 UTC.
		{"berlin spring 09:00", "0 9 * * *", "Europe/Berlin", utc(2024, 3, 30, 8, 0), utc(2024, 3, 31, 7, 0)},
		{"berlin spring 02:30", "30 2 * * *", "Europe/Berlin", utc(2024, 3, 30, 1, 30), utc(2024, 3, 31, 1, 30)},
	}
	modelstest.Each(t, func(t *testing.T, store *models.Store) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				h := newHB(t, store, c.schedule, c.tz, 15, c.ping.Add(-time.Hour))
				h.Ping(models.PingSuccess, c.ping, "")
				j := h.Get()
				assert.Equal(t, c.expected, j.NextRunAt.UTC(), "nextRunAt")
				j = h.Tick(c.expected.Add(-time.Second))
				assert.Equal(t, models.StatusUp, j.Status)
				j = h.Tick(c.expected)
				assert.Equal(t, models.StatusLate, j.Status)
				j = h.Tick(c.expected.Add(15*time.Minute - time.Second))
				assert.Equal(t, models.StatusLate, j.Status)
				j = h.Tick(c.expected.Add(15 * time.Minute))
				h.RequireState(j, models.StatusDown, models.LastMissed)
				assert.Len(t, h.Flips(), 1)
			})
		}
	})
}

// A job with a url and a heartbeat: its nextRunAt is the checker's next HTTP
// tick, so a success ping must leave it alone (moving it would shift or drop
// a check).
func TestSuccessPingKeepsCheckTick(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, store *models.Store) {
		created := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
		h := newHB(t, store, "*/5 * * * *", "UTC", 5, created)
		url := "http://127.0.0.1:9/health"
		_, err := store.UpdateJob(h.Job.ID, &models.JobRequest{URL: &url})
		require.NoError(t, err)
		before := h.Get().NextRunAt
		require.NotNil(t, before)

		h.Ping(models.PingSuccess, before.Add(2*time.Minute), "")
		after := h.Get()
		assert.Equal(t, models.StatusUp, after.Status, "the ping still counts")
		require.NotNil(t, after.NextRunAt)
		assert.True(t, before.Equal(*after.NextRunAt), "nextRunAt moved from %s to %s", before, after.NextRunAt)

		// A pure heartbeat job's nextRunAt follows its pings.
		h2 := newHB(t, store, "*/5 * * * *", "UTC", 5, created)
		at := created.Add(17 * time.Minute)
		h2.Ping(models.PingSuccess, at, "")
		assert.Equal(t, time.Date(2026, 3, 2, 10, 20, 0, 0, time.UTC), h2.Get().NextRunAt.UTC())
	})
}

// TestAlertAtIsALowerBound: a success ping that only moves a job's
// deadlines later leaves alertAt where it was, so the ping writer touches
// no index; the watchdog, finding the job due at the old alertAt, moves
// alertAt to the real deadline without changing anything else, and the job
// goes late and down at the real deadlines.
func TestAlertAtIsALowerBound(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, store *models.Store) {
		t0 := utc(2024, 5, 1, 10, 0)
		h := newHB(t, store, "@every 1h", "UTC", 5, t0)
		h.Ping(models.PingSuccess, t0, "")
		j := h.Get()
		h.RequireState(j, models.StatusUp, models.LastSuccess)
		require.NotNil(t, j.AlertAt)
		assert.Equal(t, utc(2024, 5, 1, 11, 0), j.AlertAt.UTC(), "new→up writes the deadline")

		h.Ping(models.PingSuccess, utc(2024, 5, 1, 10, 30), "")
		j = h.Get()
		assert.Equal(t, utc(2024, 5, 1, 11, 0), j.AlertAt.UTC(), "a later deadline is not written")
		assert.Equal(t, utc(2024, 5, 1, 11, 30), j.NextRunAt.UTC(), "nextRunAt follows the last ping")

		j = h.Tick(utc(2024, 5, 1, 11, 0))
		h.RequireState(j, models.StatusUp, models.LastSuccess)
		assert.Equal(t, utc(2024, 5, 1, 11, 30), j.AlertAt.UTC(), "the watchdog stores the real deadline")
		assert.Equal(t, int64(2), j.PingCount)
		assert.Empty(t, h.Flips())

		j = h.Tick(utc(2024, 5, 1, 11, 30))
		h.RequireState(j, models.StatusLate, models.LastSuccess)
		j = h.Tick(utc(2024, 5, 1, 11, 35))
		h.RequireState(j, models.StatusDown, models.LastMissed)
		require.Len(t, h.Flips(), 1)
		assert.Zero(t, h.W.Stats().FastErrors)
	})
}

// TestStartArmsAnEarlierDeadline: a /start moves the next deadline earlier
// (the run must finish within the tolerance), so that one is written at
// once, and a run that hangs goes down on time.
func TestStartArmsAnEarlierDeadline(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, store *models.Store) {
		t0 := utc(2024, 5, 1, 10, 0)
		h := newHB(t, store, "@every 1h", "UTC", 5, t0)
		h.Ping(models.PingSuccess, t0, "")
		h.Ping(models.PingStart, utc(2024, 5, 1, 10, 10), "")
		j := h.Get()
		h.RequireState(j, models.StatusUp, models.LastRunning)
		require.NotNil(t, j.AlertAt)
		assert.Equal(t, utc(2024, 5, 1, 10, 15), j.AlertAt.UTC())
		j = h.Tick(utc(2024, 5, 1, 10, 15))
		h.RequireState(j, models.StatusDown, models.LastTimeout)
		assert.Len(t, h.Flips(), 1)
	})
}

// TestWatchdogRefreshRacingPings: the watchdog finds a job due at a stale
// alertAt and, while it works, more pings come. Success pings only move the
// deadlines later, so the deadline it computed is still a safe one and is
// stored (a job pinged many times a second would otherwise be skipped at
// every tick); a /start arms an earlier deadline, so then it must not
// store its own, and the hang is caught on time.
func TestWatchdogRefreshRacingPings(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, store *models.Store) {
		t0 := utc(2024, 5, 1, 10, 0)
		h := newHB(t, store, "@every 1h", "UTC", 5, t0)
		h.Ping(models.PingSuccess, t0, "")
		h.Ping(models.PingSuccess, utc(2024, 5, 1, 10, 30), "")

		due, err := store.DueHeartbeats(utc(2024, 5, 1, 11, 0), 10)
		require.NoError(t, err)
		require.Len(t, due, 1)
		h.Ping(models.PingSuccess, utc(2024, 5, 1, 10, 59), "")
		res, err := store.ApplyHeartbeats(due, utc(2024, 5, 1, 11, 0))
		require.NoError(t, err)
		assert.Equal(t, models.HeartbeatResult{Updated: 1}, res)
		j := h.Get()
		h.RequireState(j, models.StatusUp, models.LastSuccess)
		assert.Equal(t, utc(2024, 5, 1, 11, 30), j.AlertAt.UTC(), "from the ping it read: before the real deadline, 11:59")

		// At 11:30 the job is due again (the ping at 10:59 moved its
		// deadline to 11:59), and a run starts while the watchdog works,
		// with a hang deadline (11:35) before the 11:59 it would store.
		due, err = store.DueHeartbeats(utc(2024, 5, 1, 11, 30), 10)
		require.NoError(t, err)
		require.Len(t, due, 1)
		h.Ping(models.PingStart, utc(2024, 5, 1, 11, 30), "")
		res, err = store.ApplyHeartbeats(due, utc(2024, 5, 1, 11, 30))
		require.NoError(t, err)
		assert.Equal(t, models.HeartbeatResult{Skipped: 1}, res)
		j = h.Tick(utc(2024, 5, 1, 11, 31))
		h.RequireState(j, models.StatusUp, models.LastRunning)
		assert.Equal(t, utc(2024, 5, 1, 11, 35), j.AlertAt.UTC())
		j = h.Tick(utc(2024, 5, 1, 11, 35))
		h.RequireState(j, models.StatusDown, models.LastTimeout)
		assert.Len(t, h.Flips(), 1)
	})
}

// TestHeartbeatWriters: SQLite takes one writer at a time, so the watchdog
// gets one transaction there and several on PostgreSQL.
func TestHeartbeatWriters(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, store *models.Store) {
		if store.Dialect() == models.Postgres {
			assert.Greater(t, store.HeartbeatWriters(), 1)
		} else {
			assert.Equal(t, 1, store.HeartbeatWriters())
		}
	})
}
