package migrations

// pingWrites makes each ping's writes cheaper (the heartbeat issue's ping
// rate targets; BENCHMARKS.md, Pings).
//
// jobs_next_run_at indexed next_run_at of every job, and nothing reads it:
// the checker's queries use jobs_check_due (migration 3). Every index on a
// column a ping batch sets is work on every ping.
//
// On PostgreSQL the foreign key from pings to jobs goes: its check is a
// query per inserted ping (a row trigger), a large share of the server's
// time per ping batch. The ping writer keeps the reference on its
// own: each batch updates (fast path) or locks (transactional path) the
// row of every job it stores pings for, in the same transaction, so no
// ping is stored for a job that is gone, and deleting a job or a project
// deletes its pings itself, after the job rows (Store.DeleteJob,
// Store.DeleteProject). SQLite keeps the key: there its check is one index
// probe, and dropping a constraint means rebuilding the table.
var pingWrites = Migration{
	Version: 5,
	Name:    "ping_writes",
	SQL: []string{
		`DROP INDEX jobs_next_run_at`,
	},
	Postgres: []string{
		`ALTER TABLE pings DROP CONSTRAINT pings_job_id_fkey`,
	},
}
