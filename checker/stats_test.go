package checker

import (
	"testing"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMaintainStats: the engine compacts finished days into daily rows and
// prunes what is past STATS_RETENTION, on its clock.
func TestMaintainStats(t *testing.T) {
	modelstest.Run(t, func(t *testing.T, db modelstest.Database) {
		clock := clockwork.NewFakeClockAt(time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC))
		store := modelstest.Open(t, db.URL, clock.Now)
		p := newProject(t, store)
		j := newCheck(t, store, p.ID, "http://example.test/", nil)
		for d := 0; d < 3; d++ {
			at := clock.Now().AddDate(0, 0, d)
			require.NoError(t, store.RecordRun(&models.CheckRun{JobID: j.ID, Result: models.RunSuccess, ResponseTimeMs: 10, CreatedAt: at}))
		}
		clock.Advance(3 * 24 * time.Hour) // 4 June, noon: 1–3 June are finished
		e := newEngine(t, store, clock, func(o *Options) { o.StatsRetention = 2 * 24 * time.Hour })
		n, err := e.MaintainStats()
		require.NoError(t, err)
		assert.Equal(t, 3, n, "1, 2 and 3 June compacted")
		var days []string
		require.NoError(t, store.DB().Raw("SELECT day FROM stats_daily WHERE job_id = ? ORDER BY day", j.ID).Scan(&days).Error)
		assert.Equal(t, []string{"2024-06-02", "2024-06-03"}, days, "1 June is past the 2-day retention")
		var projectHours int64
		require.NoError(t, store.DB().Raw("SELECT count(*) FROM project_stats_hourly").Scan(&projectHours).Error)
		assert.Equal(t, int64(2), projectHours, "the project's bucket of 1 June is pruned too")
	})
}
