package migrations

// heartbeats adds what the heartbeat work reads on a finish ping with a run
// id: the start of that run. The index is partial, over start pings only,
// so the other pings (most of them) do not pay for it on insert.
var heartbeats = Migration{
	Version: 2,
	Name:    "heartbeats",
	SQL: []string{
		`CREATE INDEX pings_job_rid ON pings (job_id, rid, n) WHERE kind = 'start'`,
	},
}
