package models

import "time"

// JobStatuses are every status a job can be in, for reports that list
// each one even when no job has it.
var JobStatuses = []string{StatusNew, StatusUp, StatusLate, StatusDown, StatusPaused}

// JobStatusCounts returns how many jobs are in each status, of every
// project or of one (projectID not ""), in one GROUP BY query that the
// indexes jobs_status and jobs_project_status answer without reading the
// jobs. Every status of JobStatuses is present, with 0 when no job has it.
func (s *Store) JobStatusCounts(projectID string) (map[string]int64, error) {
	var rows []struct {
		Status string
		N      int64
	}
	q := s.db.Table("jobs").Select("status, count(*) AS n").Group("status")
	if projectID != "" {
		q = q.Where("project_id = ?", projectID)
	}
	if err := q.Scan(&rows).Error; err != nil {
		return nil, translate(err, "count jobs by status")
	}
	out := make(map[string]int64, len(JobStatuses))
	for _, st := range JobStatuses {
		out[st] = 0
	}
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out, nil
}

// JobMetric is what the per-job metrics report of one job.
type JobMetric struct {
	ID         string
	Project    string // the project's name
	Name       string
	Slug       string
	Tags       Tags
	Status     string
	URL        string
	Heartbeat  bool
	LastPingAt *time.Time
	// LastDurationMs is the last run's duration: for a job with a url its
	// last check's response time, for a heartbeat-only job the duration of
	// its last finished run (success or fail ping) when that run's start
	// was seen. Nil when unknown.
	LastDurationMs *int64
}

// JobMetrics returns one page of jobs (ordered by id, after page.Cursor)
// with what their metrics need, in one query: each job's last duration is
// a correlated subquery that reads one row through an index
// (check_runs_job, pings_job_n), so the cost per job is constant however
// long its history.
func (s *Store) JobMetrics(page Page) ([]JobMetric, error) {
	var out []JobMetric
	err := s.db.Raw(`SELECT j.id, p.name AS project, j.name, j.slug, j.tags, j.status, j.url, j.heartbeat, j.last_ping_at,
			CASE WHEN j.url <> '' THEN
				(SELECT r.response_time_ms FROM check_runs r WHERE r.job_id = j.id ORDER BY r.id DESC LIMIT 1)
			ELSE
				(SELECT g.duration_ms FROM pings g WHERE g.job_id = j.id AND g.kind IN (?, ?) ORDER BY g.n DESC LIMIT 1)
			END AS last_duration_ms
		FROM jobs j JOIN projects p ON p.id = j.project_id
		WHERE j.id > ? ORDER BY j.id LIMIT ?`,
		PingSuccess, PingFail, page.Cursor, page.Limit).Scan(&out).Error
	if err != nil {
		return nil, translate(err, "read job metrics")
	}
	return out, nil
}
