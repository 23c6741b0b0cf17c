package models

import "fmt"

// MonitorCounts returns how many HTTP checks are scheduled (unpaused, with
// a url and a next tick) and how many heartbeat jobs the watchdog watches
// (those with an alert deadline, see HeartbeatAlertAt: a new job waiting
// for its first ping, or a paused one, has none). A job with both a url and a heartbeat counts
// in each. It is one round trip, two counts over the partial index
// jobs_check_due and the index jobs_alert_at, never a scan of the jobs.
func (s *Store) MonitorCounts() (checks, heartbeats int64, err error) {
	row := s.db.Raw(`SELECT
		(SELECT COUNT(*) FROM jobs WHERE ` + dueChecksPredicate + ` AND next_run_at IS NOT NULL),
		(SELECT COUNT(*) FROM jobs WHERE alert_at IS NOT NULL)`).Row()
	if err := row.Scan(&checks, &heartbeats); err != nil {
		return 0, 0, fmt.Errorf("count monitors: %w", err)
	}
	return checks, heartbeats, nil
}
