package checker

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/go-co-op/gocron/v2"
)

// statsEvery is how often the stats rollups are compacted and pruned: a
// finished day is compacted within this long of its grace period ending.
const statsEvery = 10 * time.Minute

// DefaultStatsRetention is how long stats are kept when Options do not
// say (STATS_RETENTION).
const DefaultStatsRetention = 90 * 24 * time.Hour

// startStats registers the stats maintenance with the scheduler.
func (e *Engine) startStats() error {
	if _, err := e.sched.NewJob(gocron.DurationJob(statsEvery),
		gocron.NewTask(func() {
			if _, err := e.MaintainStats(); err != nil {
				e.log.Warn("stats maintenance", slog.Any("error", err))
			}
		}),
		gocron.WithName("stats compaction and retention"),
		gocron.WithSingletonMode(gocron.LimitModeReschedule),
	); err != nil {
		return fmt.Errorf("schedule stats maintenance: %w", err)
	}
	return nil
}

// MaintainStats compacts the finished days of the hourly rollups into
// daily ones, then deletes the rollups older than their retention. It
// returns how many days it compacted.
func (e *Engine) MaintainStats() (int, error) {
	now := e.now()
	n, err := e.store.CompactStats(now)
	if err != nil {
		return n, fmt.Errorf("compact stats: %w", err)
	}
	retention := e.opt.StatsRetention
	if retention <= 0 {
		retention = DefaultStatsRetention
	}
	return n, e.store.PruneStats(now, retention)
}
