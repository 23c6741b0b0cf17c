package migrations

// checkDue indexes the HTTP checks that are waiting for their next tick. The
// checker's dispatcher asks "which unpaused jobs with a url are due by now?"
// several times a second; a partial index keeps that a short range scan that
// never touches heartbeat-only or paused jobs. The query must repeat the
// index's predicate word for word for SQLite to use it
// (models.dueChecksPredicate).
var checkDue = Migration{
	Version: 3,
	Name:    "check_due",
	SQL: []string{
		`CREATE INDEX jobs_check_due ON jobs (next_run_at) WHERE url <> '' AND paused = false`,
	},
}
