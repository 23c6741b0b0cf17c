package migrations

// jobFilters indexes the filters of GET /jobs (status, projectId with
// status, q) so that each stays fast at 100,000 jobs (BENCHMARKS.md, List
// filters).
//
// (status, id) and (project_id, status, id) serve status alone and with a
// project, in id order (the default order and the cursor), and make the
// planner narrow by them before it tests q or tags on each row. status
// changes on flips only; a ping rewrites it with the same value, which
// keeps PostgreSQL's updates HOT (no index changes).
//
// q is a substring search: PostgreSQL has trigram GIN indexes for it
// (pg_trgm), on the expression models.jobSearchExpr repeats word for word.
// The extension is created in public (not in the first schema of the
// search path, which may be dropped with everything that depends on it);
// where it cannot be created (no contrib package, no privilege), the
// index is left out and q scans what the other filters leave, as it does
// on SQLite, which has no such index.
//
// lastActivityAt (a sort key) is not indexed: every ping and check run
// sets it, and an index on it would cost each of them an index update
// (and on PostgreSQL the HOT update; BENCHMARKS.md, Pings).
var jobFilters = Migration{
	Version: 8,
	Name:    "job_filters",
	SQL: []string{
		`CREATE INDEX jobs_status ON jobs (status, id)`,
		`CREATE INDEX jobs_project_status ON jobs (project_id, status, id)`,
	},
	Postgres: []string{
		`DO $$
		DECLARE trgm name;
		BEGIN
			BEGIN
				CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
			EXCEPTION WHEN OTHERS THEN
				RAISE NOTICE 'pg_trgm: %; q searches jobs without a trigram index', SQLERRM;
			END;
			SELECT n.nspname INTO trgm FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
				WHERE e.extname = 'pg_trgm';
			IF trgm IS NOT NULL THEN
				EXECUTE format('CREATE INDEX jobs_search ON jobs USING gin (lower(name || E''\n'' || slug || E''\n'' || url) %I.gin_trgm_ops)', trgm);
			END IF;
		END $$`,
	},
}
