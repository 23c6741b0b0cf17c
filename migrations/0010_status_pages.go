package migrations

// statusPages adds the public status pages (/status/{slug}): one per
// project at most, opted into by an admin, showing the jobs picked for it
// in their order.
//
// A page is kept when it is disabled (enabled false), so that enabling it
// again keeps its slug; its slug stays taken meanwhile. Deleting a project
// deletes its page, and deleting a job or the page deletes the job's place
// on it, by cascades (status_page_jobs_job serves the job's).
//
// (Version 9 is left to the dashboard's sessions, written on another
// branch at the same time; Apply orders migrations by version.)
var statusPages = Migration{
	Version: 10,
	Name:    "status_pages",
	SQL: []string{
		`CREATE TABLE status_pages (
			project_id text PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
			slug text NOT NULL,
			title text NOT NULL,
			enabled boolean NOT NULL DEFAULT false,
			created_at {{ts}} NOT NULL,
			updated_at {{ts}} NOT NULL
		)`,
		`CREATE UNIQUE INDEX status_pages_slug ON status_pages (slug)`,
		`CREATE TABLE status_page_jobs (
			project_id text NOT NULL REFERENCES status_pages(project_id) ON DELETE CASCADE,
			job_id text NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
			position integer NOT NULL,
			PRIMARY KEY (project_id, job_id)
		)`,
		`CREATE INDEX status_page_jobs_job ON status_page_jobs (job_id)`,
	},
}
