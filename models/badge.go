package models

import (
	"fmt"
)

// badgeKeyLen is the length of a badge key: 22 base-62 characters, about
// 131 bits, so that badge URLs cannot be guessed. Migration 7 gives the
// projects that existed before it keys of the same form.
const badgeKeyLen = 22

func newBadgeKey() string { return randomString(badgeKeyLen, keyAlphabet) }

// RotateBadgeKey gives the project a new badge key and returns the project:
// badge URLs with the old key stop working.
func (s *Store) RotateBadgeKey(id string) (*Project, error) {
	res := s.db.Model(&Project{}).Where("id = ?", id).
		Updates(map[string]any{"badge_key": newBadgeKey(), "updated_at": s.Now()})
	if res.Error != nil {
		return nil, translate(res.Error, "rotate badge key of project "+id)
	}
	if res.RowsAffected == 0 {
		return nil, fmt.Errorf("project %s: %w", id, ErrNotFound)
	}
	return s.Project(id)
}

// What a status badge counts.
const (
	BadgeProject = "project" // every job of the project
	BadgeTag     = "tag"     // the project's jobs with a tag
	BadgeJob     = "job"     // the project's job with a slug
)

// BadgeState is what a status badge shows: a label (the job's name, the
// tag, or the project's name) and the worst status of the jobs it counts.
type BadgeState struct {
	Label  string
	Status string
}

// statusRank orders statuses from the least to the most alarming; the
// highest rank among a badge's jobs is the badge's status.
var statusRank = map[string]int{StatusPaused: 0, StatusNew: 1, StatusUp: 2, StatusLate: 3, StatusDown: 4}

// WorstStatus returns the most alarming of statuses: down, then late, up,
// new, paused. A project without jobs is new.
func WorstStatus(statuses ...string) string {
	worst := StatusNew
	for i, st := range statuses {
		if i == 0 || statusRank[st] > statusRank[worst] {
			worst = st
		}
	}
	return worst
}

// Badge returns the state of the badge of kind (BadgeProject, BadgeTag or
// BadgeJob) in the project with the badge key; name is the tag or the
// slug. It is one query, grouped by status, however many jobs it counts.
// ErrNotFound when the key is unknown, or no job has the tag or the slug.
// (Slugs need not be unique in a project: several jobs with the slug make
// a badge labelled with the slug, showing the worst of them.)
func (s *Store) Badge(key, kind, name string) (BadgeState, error) {
	on, args := "", []any{}
	switch kind {
	case BadgeProject:
	case BadgeTag:
		cond, targs := s.tagsCondition([]string{name})
		on, args = " AND "+cond, targs
	case BadgeJob:
		on, args = " AND jobs.slug = ?", []any{name}
	default:
		return BadgeState{}, fmt.Errorf("badge kind %q: %w", kind, ErrNotFound)
	}
	var rows []struct {
		Project string
		Status  *string
		N       int
		Job     *string
	}
	q := `SELECT projects.name AS project, jobs.status AS status, count(jobs.id) AS n, min(jobs.name) AS job
		FROM projects LEFT JOIN jobs ON jobs.project_id = projects.id` + on + `
		WHERE projects.badge_key = ? GROUP BY projects.name, jobs.status`
	if err := s.db.Raw(q, append(args, key)...).Scan(&rows).Error; err != nil {
		return BadgeState{}, translate(err, "badge")
	}
	if len(rows) == 0 {
		return BadgeState{}, fmt.Errorf("badge: %w", ErrNotFound)
	}
	var statuses []string
	jobs := 0
	for _, r := range rows {
		if r.Status != nil {
			statuses = append(statuses, *r.Status)
			jobs += r.N
		}
	}
	st := BadgeState{Label: rows[0].Project, Status: WorstStatus(statuses...)}
	switch {
	case kind == BadgeProject:
	case jobs == 0:
		return BadgeState{}, fmt.Errorf("badge %s %q: %w", kind, name, ErrNotFound)
	case kind == BadgeJob && jobs == 1:
		st.Label = *rows[0].Job
	default:
		st.Label = name
	}
	return st, nil
}
