package checker

import (
	"time"

	"github.com/cronpulse/cronpulse/models"
)

// Store is what the engine needs of the store: exactly the methods it
// calls, so that what the checker reads and writes is stated in one place.
type Store interface {
	// HTTP checks (checks.go).
	DueChecks(now time.Time, limit int) ([]models.Job, error)
	UnscheduledChecks(now time.Time, after string, limit int) ([]models.Job, error)
	ClaimChecks(claims []models.CheckClaim) ([]models.CheckClaim, error)
	RecordRun(run *models.CheckRun) error

	// The result writer and retention (writer.go).
	RecordRuns(runs []*models.CheckRun) (int, error)
	PruneCheckRuns(keep int, after string, limit int) (string, int64, error)

	// The heartbeat watchdog (watchdog.go).
	DueHeartbeats(now time.Time, limit int) ([]models.Job, error)
	ApplyHeartbeats(jobs []models.Job, now time.Time) (models.HeartbeatResult, error)
	HeartbeatWriters() int

	// Stats maintenance (stats.go).
	CompactStats(now time.Time) (int, error)
	PruneStats(now time.Time, retention time.Duration) error

	// The engine's own status (enginestatus.go).
	MonitorCounts() (checks, heartbeats int64, err error)
}

var _ Store = (*models.Store)(nil)
