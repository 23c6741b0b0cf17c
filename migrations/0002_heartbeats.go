package migrations

// heartbeats adds what the heartbeat work reads on every finish ping: the
// start of a run by its run id.
var heartbeats = Migration{
	Version: 2,
	Name:    "heartbeats",
	SQL: []string{
		`CREATE INDEX pings_job_rid ON pings (job_id, rid)`,
	},
}
