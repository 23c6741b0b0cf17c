package migrations

// stats adds the rollups behind the stats API (GET /jobs/{id}/stats,
// GET /stats): every stored ping and check run also adds to its job's
// hourly bucket and its project's, in the same transaction, so stats
// never scan raw runs and outlive the capped history.
//
// The hourly tables are keyed by (hour, id): the rows a batch adds to are
// the current hour's, side by side, so a batch over many jobs touches few
// pages. stats_hourly_job serves one job's reads; a bucket's counters
// change without touching it. stats_daily holds finished days in the job's
// time zone (compacted from the hourly rows, which are kept for a shorter
// time), and stats_compaction remembers, per time zone, the last day
// compacted. pauses records when a job was paused, so that uptime leaves
// paused time out; the jobs paused now get an open pause from their last
// update.
var stats = Migration{
	Version: 6,
	Name:    "stats",
	SQL: []string{
		`CREATE TABLE stats_hourly (
			hour {{ts}} NOT NULL,
			job_id text NOT NULL,
			` + counterColumns + `,
			PRIMARY KEY (hour, job_id)
		) {{without_rowid}}`,
		`CREATE INDEX stats_hourly_job ON stats_hourly (job_id, hour)`,
		`CREATE TABLE project_stats_hourly (
			hour {{ts}} NOT NULL,
			project_id text NOT NULL,
			` + counterColumns + `,
			PRIMARY KEY (hour, project_id)
		) {{without_rowid}}`,
		`CREATE INDEX project_stats_hourly_project ON project_stats_hourly (project_id, hour)`,
		`CREATE TABLE stats_daily (
			job_id text NOT NULL,
			day text NOT NULL,
			timezone text NOT NULL,
			` + counterColumns + `,
			PRIMARY KEY (job_id, day)
		) {{without_rowid}}`,
		`CREATE TABLE stats_compaction (
			timezone text PRIMARY KEY,
			day text NOT NULL
		)`,
		`CREATE TABLE pauses (
			id {{id}},
			job_id text NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
			paused_at {{ts}} NOT NULL,
			resumed_at {{ts}}
		)`,
		`CREATE INDEX pauses_job ON pauses (job_id, paused_at)`,
		`INSERT INTO pauses (job_id, paused_at) SELECT id, updated_at FROM jobs WHERE paused`,
	},
}

// counterColumns are a bucket's counters: runs by outcome, durations
// (count, sum and max, in milliseconds) and a histogram of 16 buckets
// (models.DurationBuckets).
const counterColumns = `success bigint NOT NULL DEFAULT 0, failure bigint NOT NULL DEFAULT 0,
			timeout bigint NOT NULL DEFAULT 0, error bigint NOT NULL DEFAULT 0,
			dur_count bigint NOT NULL DEFAULT 0, dur_sum bigint NOT NULL DEFAULT 0, dur_max bigint NOT NULL DEFAULT 0,
			h0 bigint NOT NULL DEFAULT 0, h1 bigint NOT NULL DEFAULT 0, h2 bigint NOT NULL DEFAULT 0, h3 bigint NOT NULL DEFAULT 0,
			h4 bigint NOT NULL DEFAULT 0, h5 bigint NOT NULL DEFAULT 0, h6 bigint NOT NULL DEFAULT 0, h7 bigint NOT NULL DEFAULT 0,
			h8 bigint NOT NULL DEFAULT 0, h9 bigint NOT NULL DEFAULT 0, h10 bigint NOT NULL DEFAULT 0, h11 bigint NOT NULL DEFAULT 0,
			h12 bigint NOT NULL DEFAULT 0, h13 bigint NOT NULL DEFAULT 0, h14 bigint NOT NULL DEFAULT 0, h15 bigint NOT NULL DEFAULT 0`
