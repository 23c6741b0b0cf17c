package checker

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"
)

// quietLog discards the engine's logs; tests assert on stored state.
func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newEngine builds an engine on store; clock nil means the real clock.
// tune, if not nil, adjusts the options first.
func newEngine(t *testing.T, store *models.Store, clock clockwork.Clock, tune func(*Options)) *Engine {
	t.Helper()
	o := Options{
		Store: store, Log: quietLog(), Clock: clock,
		Concurrency: 16, PerHost: 8, AllowPrivate: true, CheckHistory: 1000, PingHistory: 1000,
		UserAgent: "CronPulse/test",
	}
	if tune != nil {
		tune(&o)
	}
	e, err := New(o)
	require.NoError(t, err)
	return e
}

// startEngine starts e and stops it when the test ends.
func startEngine(t *testing.T, e *Engine) {
	t.Helper()
	require.NoError(t, e.Start(t.Context()))
	t.Cleanup(func() { require.NoError(t, e.Stop()) })
}

// newProject stores a project for the test's jobs.
func newProject(t *testing.T, store *models.Store) *models.Project {
	t.Helper()
	name := "checks"
	p, err := store.NewProject(&models.ProjectRequest{Name: &name})
	require.NoError(t, err)
	require.NoError(t, store.CreateProject(p))
	return p
}

// newCheck stores a GET check of url on schedule "@every 10s"; tune may
// change the request first.
func newCheck(t *testing.T, store *models.Store, project, url string, tune func(r *models.JobRequest)) *models.Job {
	t.Helper()
	name, method, schedule := "check "+url, "GET", "@every 10s"
	r := &models.JobRequest{Name: &name, ProjectID: &project, URL: &url, Method: &method, Schedule: &schedule}
	if tune != nil {
		tune(r)
	}
	j, err := store.NewJob(r)
	require.NoError(t, err)
	require.NoError(t, store.CreateJob(j))
	return j
}

// checkRuns returns a job's check runs, oldest first.
func checkRuns(t *testing.T, store *models.Store, jobID string) []models.CheckRun {
	t.Helper()
	items, err := store.Runs(models.RunFilter{JobID: jobID, Type: "check", Limit: 1000})
	require.NoError(t, err)
	out := make([]models.CheckRun, 0, len(items))
	for i := len(items) - 1; i >= 0; i-- {
		out = append(out, *items[i].Check)
	}
	return out
}

// scheduledTicks returns the ticks of a job's scheduled runs, oldest first.
func scheduledTicks(t *testing.T, store *models.Store, jobID string) []time.Time {
	t.Helper()
	var out []time.Time
	for _, r := range checkRuns(t, store, jobID) {
		if r.Trigger == models.TriggerSchedule {
			require.NotNil(t, r.ScheduledAt)
			out = append(out, r.ScheduledAt.UTC())
		}
	}
	return out
}

// job reloads a job.
func job(t *testing.T, store *models.Store, id string) *models.Job {
	t.Helper()
	j, err := store.Job(id)
	require.NoError(t, err)
	return j
}

// flips returns a job's flips, oldest first.
func flips(t *testing.T, store *models.Store, jobID string) []models.Flip {
	t.Helper()
	fs, err := store.Flips(jobID, 0, 1000)
	require.NoError(t, err)
	out := make([]models.Flip, 0, len(fs))
	for i := len(fs) - 1; i >= 0; i-- {
		out = append(out, fs[i])
	}
	return out
}

func ptr[T any](v T) *T { return &v }
