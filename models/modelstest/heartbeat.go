package modelstest

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/pingwriter"
	"github.com/stretchr/testify/require"
)

// Heartbeat drives one heartbeat job on one database: pings go through the
// real group-commit writer, the watchdog through DueHeartbeats and
// ApplyHeartbeats, and "now" is whatever the test says.
type Heartbeat struct {
	T     *testing.T
	Store *models.Store
	W     *pingwriter.Writer
	Job   *models.Job
}

// NewHeartbeat creates a project and a heartbeat job in it (created at
// created), and a ping writer that closes when the test ends.
func NewHeartbeat(t *testing.T, store *models.Store, schedule, tz string, tolerance int, created time.Time) *Heartbeat {
	t.Helper()
	w := pingwriter.New(store, pingwriter.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
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
	return &Heartbeat{T: t, Store: store, W: w, Job: j}
}

// Ping sends a ping of kind at time at (exit status and rid optional).
func (h *Heartbeat) Ping(kind string, at time.Time, rid string, exit ...int) models.Ping {
	h.T.Helper()
	p := models.Ping{Kind: kind, RID: rid, CreatedAt: at.UTC()}
	if len(exit) > 0 {
		p.ExitStatus = &exit[0]
	}
	got, err := h.W.Write(context.Background(), h.Job.PingToken, p)
	require.NoError(h.T, err)
	return got
}

// Tick runs the watchdog at now and returns the job afterwards.
func (h *Heartbeat) Tick(now time.Time) *models.Job {
	h.T.Helper()
	due, err := h.Store.DueHeartbeats(now, 1000)
	require.NoError(h.T, err)
	_, err = h.Store.ApplyHeartbeats(due, now)
	require.NoError(h.T, err)
	return h.Get()
}

// Get reads the job.
func (h *Heartbeat) Get() *models.Job {
	h.T.Helper()
	j, err := h.Store.Job(h.Job.ID)
	require.NoError(h.T, err)
	return j
}

// StoredPings counts the job's rows in pings.
func (h *Heartbeat) StoredPings() int64 {
	h.T.Helper()
	var n int64
	require.NoError(h.T, h.Store.DB().Model(&models.Ping{}).Where("job_id = ?", h.Job.ID).Count(&n).Error)
	return n
}

// Flips lists the job's flips, newest first.
func (h *Heartbeat) Flips() []models.Flip {
	h.T.Helper()
	f, err := h.Store.Flips(h.Job.ID, 0, 100)
	require.NoError(h.T, err)
	return f
}

// RequireState checks status and lastStatus.
func (h *Heartbeat) RequireState(j *models.Job, status, last string) {
	h.T.Helper()
	require.Equal(h.T, status, j.Status, "status")
	require.Equal(h.T, last, j.LastStatus, "lastStatus")
}
