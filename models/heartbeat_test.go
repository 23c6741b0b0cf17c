package models_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hb drives one heartbeat job on one database: pings go through the real
// group-commit writer, the watchdog through DueHeartbeats and
// ApplyHeartbeats, and "now" is whatever the test says.
type hb struct {
	t     *testing.T
	store *models.Store
	w     *models.PingWriter
	job   *models.Job
}

func newHB(t *testing.T, store *models.Store, schedule, tz string, tolerance int, created time.Time) *hb {
	t.Helper()
	w := store.NewPingWriter(models.PingWriterOptions{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	t.Cleanup(w.Close)
	name := "proj"
	p, err := store.NewProject(&models.ProjectRequest{Name: &name})
	require.NoError(t, err)
	require.NoError(t, store.CreateProject(p))
	jn, yes := "backup", true
	j, err := store.NewJob(&models.JobRequest{Name: &jn, ProjectID: &p.ID, Schedule: &schedule,
		Timezone: &tz, Heartbeat: &yes, HeartbeatTolerance: &tolerance})
	require.NoError(t, err)
	j.CreatedAt, j.UpdatedAt = created, created
	require.NoError(t, store.CreateJob(j))
	return &hb{t: t, store: store, w: w, job: j}
}

// ping sends a ping of kind at time at (exit status and rid optional).
func (h *hb) ping(kind string, at time.Time, rid string, exit ...int) models.Ping {
	h.t.Helper()
	p := models.Ping{Kind: kind, RID: rid, CreatedAt: at.UTC()}
	if len(exit) > 0 {
		p.ExitStatus = &exit[0]
	}
	got, err := h.w.Write(context.Background(), h.job.PingToken, p)
	require.NoError(h.t, err)
	return got
}

// tick runs the watchdog at now and returns the job afterwards.
func (h *hb) tick(now time.Time) *models.Job {
	h.t.Helper()
	due, err := h.store.DueHeartbeats(now, 1000)
	require.NoError(h.t, err)
	_, err = h.store.ApplyHeartbeats(due, now)
	require.NoError(h.t, err)
	return h.get()
}

func (h *hb) get() *models.Job {
	h.t.Helper()
	j, err := h.store.Job(h.job.ID)
	require.NoError(h.t, err)
	return j
}

// storedPings counts the job's rows in pings.
func (h *hb) storedPings() int64 {
	h.t.Helper()
	var n int64
	require.NoError(h.t, h.store.DB().Model(&models.Ping{}).Where("job_id = ?", h.job.ID).Count(&n).Error)
	return n
}

func (h *hb) flips() []models.Flip {
	h.t.Helper()
	f, err := h.store.Flips(h.job.ID, 0, 100)
	require.NoError(h.t, err)
	return f
}

// requireState checks status and lastStatus.
func (h *hb) requireState(j *models.Job, status, last string) {
	h.t.Helper()
	require.Equal(h.t, status, j.Status, "status")
	require.Equal(h.t, last, j.LastStatus, "lastStatus")
}

func utc(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, time.UTC)
}

func TestHeartbeatStateMachine(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, store *models.Store) {
		t0 := utc(2024, 5, 1, 10, 0)
		h := newHB(t, store, "0 * * * *", "UTC", 5, t0)

		// new: no alert before the first ping, however long it takes.
		j := h.tick(t0.Add(48 * time.Hour))
		h.requireState(j, models.StatusNew, models.LastPending)
		assert.Nil(t, j.AlertAt)

		// success → up; next expected at the first tick after the ping.
		p := h.ping(models.PingSuccess, utc(2024, 5, 1, 10, 7), "")
		assert.Equal(t, int64(1), p.N)
		j = h.get()
		h.requireState(j, models.StatusUp, models.LastSuccess)
		require.NotNil(t, j.NextRunAt)
		assert.Equal(t, utc(2024, 5, 1, 11, 0), j.NextRunAt.UTC())
		assert.Equal(t, utc(2024, 5, 1, 11, 0), j.AlertAt.UTC())
		assert.Equal(t, int64(1), j.PingCount)

		// Before the tick: nothing. At the tick: late (not a flip).
		j = h.tick(utc(2024, 5, 1, 10, 59))
		h.requireState(j, models.StatusUp, models.LastSuccess)
		j = h.tick(utc(2024, 5, 1, 11, 0))
		h.requireState(j, models.StatusLate, models.LastSuccess)
		assert.Equal(t, utc(2024, 5, 1, 11, 5), j.AlertAt.UTC())
		assert.Empty(t, h.flips())

		// Tolerance passed: down, lastStatus missed, one flip.
		j = h.tick(utc(2024, 5, 1, 11, 5))
		h.requireState(j, models.StatusDown, models.LastMissed)
		assert.Nil(t, j.AlertAt)
		f := h.flips()
		require.Len(t, f, 1)
		assert.Equal(t, models.StatusLate, f[0].FromStatus)
		assert.Equal(t, models.StatusDown, f[0].ToStatus)
		assert.Contains(t, f[0].Reason, "missed heartbeat")

		// Further ticks change nothing.
		h.tick(utc(2024, 5, 1, 13, 0))
		assert.Len(t, h.flips(), 1)

		// A success ping brings it up: a flip down→up.
		h.ping(models.PingSuccess, utc(2024, 5, 1, 13, 1), "")
		j = h.get()
		h.requireState(j, models.StatusUp, models.LastSuccess)
		f = h.flips()
		require.Len(t, f, 2)
		assert.Equal(t, models.StatusUp, f[0].ToStatus)

		// /fail is down at once.
		h.ping(models.PingFail, utc(2024, 5, 1, 13, 2), "")
		j = h.get()
		h.requireState(j, models.StatusDown, models.LastFailure)
		assert.Nil(t, j.AlertAt)
		require.Len(t, h.flips(), 3)

		// Exit status 0 is success, non-zero is failure.
		h.ping(models.PingSuccess, utc(2024, 5, 1, 13, 3), "", 0)
		h.requireState(h.get(), models.StatusUp, models.LastSuccess)
		h.ping(models.PingFail, utc(2024, 5, 1, 13, 4), "", 3)
		j = h.get()
		h.requireState(j, models.StatusDown, models.LastFailure)
		f = h.flips()
		require.Len(t, f, 5)
		assert.Equal(t, "failure exit status 3", f[0].Reason)

		// /log changes no status but counts.
		h.ping(models.PingLog, utc(2024, 5, 1, 13, 5), "")
		j = h.get()
		h.requireState(j, models.StatusDown, models.LastFailure)
		assert.Equal(t, int64(6), j.PingCount)
		assert.Equal(t, utc(2024, 5, 1, 13, 5), j.LastActivityAt.UTC())
	})
}

func TestHeartbeatHangingRun(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, store *models.Store) {
		t0 := utc(2024, 5, 1, 10, 0)
		h := newHB(t, store, "0 3 * * *", "UTC", 10, t0)
		h.ping(models.PingSuccess, utc(2024, 5, 1, 3, 0), "")

		// A start with no finish within the tolerance is down (timeout).
		h.ping(models.PingStart, utc(2024, 5, 2, 3, 0), "")
		j := h.get()
		h.requireState(j, models.StatusUp, models.LastRunning)
		assert.Equal(t, utc(2024, 5, 2, 3, 0), j.AlertAt.UTC(), "the schedule tick comes first")
		j = h.tick(utc(2024, 5, 2, 3, 9))
		h.requireState(j, models.StatusLate, models.LastRunning)
		assert.Equal(t, utc(2024, 5, 2, 3, 10), j.AlertAt.UTC())
		j = h.tick(utc(2024, 5, 2, 3, 10))
		h.requireState(j, models.StatusDown, models.LastTimeout)
		f := h.flips()
		require.Len(t, f, 1)
		assert.Contains(t, f[0].Reason, "did not finish within 10 minutes")

		// The late finish brings it up, with its duration.
		p := h.ping(models.PingSuccess, utc(2024, 5, 2, 3, 30), "")
		require.NotNil(t, p.DurationMs)
		assert.Equal(t, int64(30*60*1000), *p.DurationMs)
		j = h.get()
		h.requireState(j, models.StatusUp, models.LastSuccess)
		assert.Nil(t, j.LastStartAt)

		// A start that finishes in time never alerts.
		h.ping(models.PingStart, utc(2024, 5, 3, 3, 0), "")
		h.tick(utc(2024, 5, 3, 3, 5))
		h.ping(models.PingSuccess, utc(2024, 5, 3, 3, 6), "")
		j = h.tick(utc(2024, 5, 3, 3, 20))
		h.requireState(j, models.StatusUp, models.LastSuccess)
		assert.Len(t, h.flips(), 2)
	})
}

func TestRunIDPairsStartAndFinish(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, store *models.Store) {
		t0 := utc(2024, 5, 1, 10, 0)
		h := newHB(t, store, "@every 1h", "UTC", 30, t0)
		a, b := "0b2f8d61-9c57-4c3e-8f0e-6a1c2b3d4e5f", "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a"
		h.ping(models.PingStart, t0, a)
		h.ping(models.PingStart, t0.Add(10*time.Second), b)
		// b finishes first: its duration is measured from its own start.
		pb := h.ping(models.PingSuccess, t0.Add(70*time.Second), b, 0)
		require.NotNil(t, pb.DurationMs)
		assert.Equal(t, int64(60_000), *pb.DurationMs)
		assert.Equal(t, b, pb.RID)
		require.NotNil(t, pb.ExitStatus)
		pa := h.ping(models.PingFail, t0.Add(100*time.Second), a, 2)
		require.NotNil(t, pa.DurationMs)
		assert.Equal(t, int64(100_000), *pa.DurationMs)
		// A finish whose rid never started has no duration.
		pc := h.ping(models.PingSuccess, t0.Add(200*time.Second), "11111111-2222-4333-8444-555555555555")
		assert.Nil(t, pc.DurationMs)

		// The stored rows say the same.
		items, err := store.Runs(models.RunFilter{JobID: h.job.ID, Limit: 10})
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
		h.ping(models.PingSuccess, utc(2024, 5, 1, 10, 1), "")
		// The server was off for a day: hundreds of ticks passed.
		j := h.tick(utc(2024, 5, 2, 10, 0))
		h.requireState(j, models.StatusDown, models.LastMissed)
		require.Len(t, h.flips(), 1)
		h.tick(utc(2024, 5, 2, 10, 0))
		h.tick(utc(2024, 5, 2, 11, 0))
		require.Len(t, h.flips(), 1)
	})
}

func TestRacingTicksFlipOnce(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, store *models.Store) {
		t0 := utc(2024, 5, 1, 10, 0)
		h := newHB(t, store, "0 * * * *", "UTC", 5, t0)
		h.ping(models.PingSuccess, utc(2024, 5, 1, 10, 30), "")
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
		require.Len(t, h.flips(), 1)

		// A ping between read and write wins too.
		h.ping(models.PingSuccess, utc(2024, 5, 1, 12, 1), "")
		later := utc(2024, 5, 1, 14, 0)
		due, err := store.DueHeartbeats(later, 10)
		require.NoError(t, err)
		h.ping(models.PingSuccess, utc(2024, 5, 1, 14, 0), "")
		r, err := store.ApplyHeartbeats(due, later)
		require.NoError(t, err)
		assert.Equal(t, 1, r.Skipped)
		h.requireState(h.get(), models.StatusUp, models.LastSuccess)
	})
}

func TestPausedJobIsNotWatched(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, store *models.Store) {
		t0 := utc(2024, 5, 1, 10, 0)
		h := newHB(t, store, "0 * * * *", "UTC", 5, t0)
		h.ping(models.PingSuccess, utc(2024, 5, 1, 10, 30), "")
		yes, no := true, false
		_, err := store.UpdateJob(h.job.ID, &models.JobRequest{Paused: &yes})
		require.NoError(t, err)
		j := h.tick(utc(2024, 5, 3, 0, 0))
		assert.Equal(t, models.StatusPaused, j.Status)
		assert.Nil(t, j.AlertAt)
		// Pings to a paused job are recorded but change no status. (The
		// writer last saw the job up: its copy of the row must not be
		// trusted after the pause, which another connection wrote.)
		h.ping(models.PingSuccess, utc(2024, 5, 3, 0, 1), "")
		h.requireState(h.get(), models.StatusPaused, models.LastSuccess)
		h.ping(models.PingFail, utc(2024, 5, 3, 0, 2), "")
		j = h.get()
		assert.Equal(t, models.StatusPaused, j.Status)
		assert.Equal(t, int64(3), j.PingCount)
		assert.Empty(t, h.flips())
		// Resumed: new, waiting for a ping; then watched again.
		_, err = store.UpdateJob(h.job.ID, &models.JobRequest{Paused: &no})
		require.NoError(t, err)
		j = h.tick(utc(2024, 5, 4, 0, 0))
		assert.Equal(t, models.StatusNew, j.Status)
		h.ping(models.PingSuccess, utc(2024, 5, 4, 0, 10), "")
		j = h.tick(utc(2024, 5, 4, 1, 5))
		h.requireState(j, models.StatusDown, models.LastMissed)
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
				h.ping(models.PingSuccess, c.ping, "")
				j := h.get()
				assert.Equal(t, c.expected, j.NextRunAt.UTC(), "nextRunAt")
				j = h.tick(c.expected.Add(-time.Second))
				assert.Equal(t, models.StatusUp, j.Status)
				j = h.tick(c.expected)
				assert.Equal(t, models.StatusLate, j.Status)
				j = h.tick(c.expected.Add(15*time.Minute - time.Second))
				assert.Equal(t, models.StatusLate, j.Status)
				j = h.tick(c.expected.Add(15 * time.Minute))
				h.requireState(j, models.StatusDown, models.LastMissed)
				assert.Len(t, h.flips(), 1)
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
		_, err := store.UpdateJob(h.job.ID, &models.JobRequest{URL: &url})
		require.NoError(t, err)
		before := h.get().NextRunAt
		require.NotNil(t, before)

		h.ping(models.PingSuccess, before.Add(2*time.Minute), "")
		after := h.get()
		assert.Equal(t, models.StatusUp, after.Status, "the ping still counts")
		require.NotNil(t, after.NextRunAt)
		assert.True(t, before.Equal(*after.NextRunAt), "nextRunAt moved from %s to %s", before, after.NextRunAt)

		// A pure heartbeat job's nextRunAt follows its pings.
		h2 := newHB(t, store, "*/5 * * * *", "UTC", 5, created)
		at := created.Add(17 * time.Minute)
		h2.ping(models.PingSuccess, at, "")
		assert.Equal(t, time.Date(2026, 3, 2, 10, 20, 0, 0, time.UTC), h2.get().NextRunAt.UTC())
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
		h.ping(models.PingSuccess, t0, "")
		j := h.get()
		h.requireState(j, models.StatusUp, models.LastSuccess)
		require.NotNil(t, j.AlertAt)
		assert.Equal(t, utc(2024, 5, 1, 11, 0), j.AlertAt.UTC(), "new→up writes the deadline")

		h.ping(models.PingSuccess, utc(2024, 5, 1, 10, 30), "")
		j = h.get()
		assert.Equal(t, utc(2024, 5, 1, 11, 0), j.AlertAt.UTC(), "a later deadline is not written")
		assert.Equal(t, utc(2024, 5, 1, 11, 30), j.NextRunAt.UTC(), "nextRunAt follows the last ping")

		j = h.tick(utc(2024, 5, 1, 11, 0))
		h.requireState(j, models.StatusUp, models.LastSuccess)
		assert.Equal(t, utc(2024, 5, 1, 11, 30), j.AlertAt.UTC(), "the watchdog stores the real deadline")
		assert.Equal(t, int64(2), j.PingCount)
		assert.Empty(t, h.flips())

		j = h.tick(utc(2024, 5, 1, 11, 30))
		h.requireState(j, models.StatusLate, models.LastSuccess)
		j = h.tick(utc(2024, 5, 1, 11, 35))
		h.requireState(j, models.StatusDown, models.LastMissed)
		require.Len(t, h.flips(), 1)
		assert.Zero(t, h.w.Stats().FastErrors)
	})
}

// TestStartArmsAnEarlierDeadline: a /start moves the next deadline earlier
// (the run must finish within the tolerance), so that one is written at
// once, and a run that hangs goes down on time.
func TestStartArmsAnEarlierDeadline(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, store *models.Store) {
		t0 := utc(2024, 5, 1, 10, 0)
		h := newHB(t, store, "@every 1h", "UTC", 5, t0)
		h.ping(models.PingSuccess, t0, "")
		h.ping(models.PingStart, utc(2024, 5, 1, 10, 10), "")
		j := h.get()
		h.requireState(j, models.StatusUp, models.LastRunning)
		require.NotNil(t, j.AlertAt)
		assert.Equal(t, utc(2024, 5, 1, 10, 15), j.AlertAt.UTC())
		j = h.tick(utc(2024, 5, 1, 10, 15))
		h.requireState(j, models.StatusDown, models.LastTimeout)
		assert.Len(t, h.flips(), 1)
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
		h.ping(models.PingSuccess, t0, "")
		h.ping(models.PingSuccess, utc(2024, 5, 1, 10, 30), "")

		due, err := store.DueHeartbeats(utc(2024, 5, 1, 11, 0), 10)
		require.NoError(t, err)
		require.Len(t, due, 1)
		h.ping(models.PingSuccess, utc(2024, 5, 1, 10, 59), "")
		res, err := store.ApplyHeartbeats(due, utc(2024, 5, 1, 11, 0))
		require.NoError(t, err)
		assert.Equal(t, models.HeartbeatResult{Updated: 1}, res)
		j := h.get()
		h.requireState(j, models.StatusUp, models.LastSuccess)
		assert.Equal(t, utc(2024, 5, 1, 11, 30), j.AlertAt.UTC(), "from the ping it read: before the real deadline, 11:59")

		// At 11:30 the job is due again (the ping at 10:59 moved its
		// deadline to 11:59), and a run starts while the watchdog works,
		// with a hang deadline (11:35) before the 11:59 it would store.
		due, err = store.DueHeartbeats(utc(2024, 5, 1, 11, 30), 10)
		require.NoError(t, err)
		require.Len(t, due, 1)
		h.ping(models.PingStart, utc(2024, 5, 1, 11, 30), "")
		res, err = store.ApplyHeartbeats(due, utc(2024, 5, 1, 11, 30))
		require.NoError(t, err)
		assert.Equal(t, models.HeartbeatResult{Skipped: 1}, res)
		j = h.tick(utc(2024, 5, 1, 11, 31))
		h.requireState(j, models.StatusUp, models.LastRunning)
		assert.Equal(t, utc(2024, 5, 1, 11, 35), j.AlertAt.UTC())
		j = h.tick(utc(2024, 5, 1, 11, 35))
		h.requireState(j, models.StatusDown, models.LastTimeout)
		assert.Len(t, h.flips(), 1)
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
