package checker

import (
	"testing"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRetentionKeepsNewestRuns(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, store *models.Store) {
		p := newProject(t, store)
		busy := newCheck(t, store, p.ID, "http://busy.example/", nil)
		other := newCheck(t, store, p.ID, "http://other.example/", nil)
		quiet := newCheck(t, store, p.ID, "http://quiet.example/", nil)
		t0 := store.Now()
		var runs []*models.CheckRun
		add := func(jobID string, n int) {
			for i := 0; i < n; i++ {
				at := t0.Add(time.Duration(len(runs)) * time.Second)
				runs = append(runs, &models.CheckRun{JobID: jobID, Result: models.RunSuccess,
					Trigger: models.TriggerSchedule, ScheduledAt: &at, CreatedAt: at})
			}
		}
		add(busy.ID, 12)
		add(other.ID, 7)
		add(quiet.ID, 3)
		add(busy.ID, 3)
		_, err := store.RecordRuns(runs)
		require.NoError(t, err)
		before := checkRuns(t, store, busy.ID)
		require.Len(t, before, 15)

		e := newEngine(t, store, nil, func(o *Options) { o.CheckHistory = 5 })
		e.pruneRuns()

		after := checkRuns(t, store, busy.ID)
		require.Len(t, after, 5)
		assert.Equal(t, before[10:], after, "the newest five are kept")
		assert.Len(t, checkRuns(t, store, other.ID), 5)
		assert.Len(t, checkRuns(t, store, quiet.ID), 3, "a job under the limit keeps everything")

		// Paging through the jobs: one job per page still reaches them all.
		add(other.ID, 4)
		_, err = store.RecordRuns(runs[len(runs)-4:])
		require.NoError(t, err)
		cursor, pages := "", 0
		for {
			next, _, err := store.PruneCheckRuns(2, cursor, 1)
			require.NoError(t, err)
			pages++
			if next == "" {
				break
			}
			cursor = next
		}
		assert.GreaterOrEqual(t, pages, 3)
		for _, id := range []string{busy.ID, other.ID, quiet.ID} {
			assert.Len(t, checkRuns(t, store, id), 2)
		}
	})
}
