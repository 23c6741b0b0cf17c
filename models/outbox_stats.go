package models

import "fmt"

// OutboxCounts returns how many notifications wait to be sent (pending,
// including those being retried) and how many were given up (failed). It is
// one query over the index notifications_due (state, next_attempt_at): the
// sent rows, the bulk of the table, are never read.
func (s *Store) OutboxCounts() (pending, failed int64, err error) {
	row := s.db.Raw(`SELECT
		COALESCE(SUM(CASE WHEN state = ? THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN state = ? THEN 1 ELSE 0 END), 0)
		FROM notifications WHERE state IN (?, ?)`,
		NotifyPending, NotifyFailed, NotifyPending, NotifyFailed).Row()
	if err := row.Scan(&pending, &failed); err != nil {
		return 0, 0, fmt.Errorf("count outbox: %w", err)
	}
	return pending, failed, nil
}
