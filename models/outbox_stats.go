package models

// OutboxCounts returns how many notifications are pending (waiting to be
// sent or retried) and how many failed for good, by state, in one query
// through the notifications_due index. Both states are always present.
func (s *Store) OutboxCounts() (map[string]int64, error) {
	var rows []struct {
		State string
		N     int64
	}
	err := s.db.Raw(`SELECT state, COUNT(*) AS n FROM notifications WHERE state IN (?, ?) GROUP BY state`,
		NotifyPending, NotifyFailed).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "count notifications")
	}
	out := map[string]int64{NotifyPending: 0, NotifyFailed: 0}
	for _, r := range rows {
		out[r.State] = r.N
	}
	return out, nil
}
