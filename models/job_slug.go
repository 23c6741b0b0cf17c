package models

import (
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// JobBySlug returns the job of the project with the given ping key that has
// the given slug. ErrNotFound when there is none, ErrAmbiguous when there
// are several.
func (s *Store) JobBySlug(pingKey, slug string) (*Job, error) {
	var jobs []Job
	err := s.db.Joins("JOIN projects ON projects.id = jobs.project_id").
		Where("projects.ping_key = ? AND jobs.slug = ?", pingKey, slug).Limit(2).Find(&jobs).Error
	if err != nil {
		return nil, translate(err, "job by slug")
	}
	switch len(jobs) {
	case 0:
		return nil, fmt.Errorf("job by slug %q: %w", slug, ErrNotFound)
	case 1:
		return &jobs[0], nil
	default:
		return nil, fmt.Errorf("job by slug %q: %w", slug, ErrAmbiguous)
	}
}

// Defaults of a job created by a ping to a missing slug (?create=1), as
// Healthchecks.io's auto-provisioning does: a heartbeat expected once a day
// (measured from the last ping), alerting an hour after it is missed.
const (
	AutoJobSchedule  = "@every 24h"
	AutoJobTolerance = 60
)

// EnsureJobBySlug returns the job with the slug in the project of pingKey,
// creating it with the Auto* defaults when it does not exist. created
// reports whether it did. Concurrent calls create one job: the project row
// is locked while looking and creating.
func (s *Store) EnsureJobBySlug(pingKey, slug string) (job *Job, created bool, err error) {
	if !slugPattern.MatchString(slug) {
		return nil, false, invalid("slug", "must be 1-100 characters of a-z, 0-9, - and _, starting with a letter or digit")
	}
	err = s.db.Transaction(func(tx *gorm.DB) error {
		var p Project
		q := tx.Where("ping_key = ?", pingKey)
		if s.dialect == Postgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		if err := q.Take(&p).Error; err != nil {
			return translate(err, "project by ping key")
		}
		var jobs []Job
		if err := tx.Where("project_id = ? AND slug = ?", p.ID, slug).Limit(2).Find(&jobs).Error; err != nil {
			return translate(err, "job by slug")
		}
		if len(jobs) > 1 {
			return fmt.Errorf("job by slug %q: %w", slug, ErrAmbiguous)
		}
		if len(jobs) == 1 {
			job = &jobs[0]
			return nil
		}
		hb, name, sched, tol := true, slug, AutoJobSchedule, AutoJobTolerance
		j, err := s.NewJob(&JobRequest{Name: &name, ProjectID: &p.ID, Slug: &name, Schedule: &sched, Heartbeat: &hb, HeartbeatTolerance: &tol})
		if err != nil {
			return err
		}
		if err := tx.Create(j).Error; err != nil {
			return translate(err, "create job "+slug)
		}
		job, created = j, true
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return job, created, nil
}
