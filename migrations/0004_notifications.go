package migrations

// notifications adds what the alert outbox needs beyond the initial tables:
// reminder numbers (0 is the flip's own alert, n the n-th reminder) with a
// unique index that makes "one notification per flip, channel and reminder"
// a database rule rather than a hope, and when a channel last failed or
// succeeded, so its lastError can be read in context.
var notifications = Migration{
	Version: 4,
	Name:    "notifications",
	SQL: []string{
		`ALTER TABLE notifications ADD COLUMN reminder integer NOT NULL DEFAULT 0`,
		`CREATE UNIQUE INDEX notifications_flip_channel ON notifications (flip_id, channel_id, reminder)`,
		`CREATE INDEX notifications_channel ON notifications (channel_id)`,
		`ALTER TABLE channels ADD COLUMN last_error_at {{ts}}`,
		`ALTER TABLE channels ADD COLUMN last_sent_at {{ts}}`,
	},
}
