package models

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"gorm.io/gorm"
)

// A status page is a project's public page (/status/{slug}): the jobs an
// admin picked, with their status and daily uptime, and nothing else of
// them (no ids, ping URLs, check URLs or errors). A project has at most
// one; it is off until SetStatusPage turns it on, and DisableStatusPage
// turns it off again while keeping its slug.

// MaxStatusPageJobs bounds the jobs on one status page: each costs a 90-day
// stats read when the page is drawn.
const MaxStatusPageJobs = 50

// StatusPage is a project's status page as stored.
type StatusPage struct {
	ProjectID string    `json:"projectId" gorm:"primaryKey"`
	Slug      string    `json:"slug"`
	Title     string    `json:"title"`
	Enabled   bool      `json:"enabled"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	// JobIDs are the jobs shown, in their order.
	JobIDs []string `json:"jobIds" gorm:"-"`
}

// StatusPageJob is one job's place on a status page.
type StatusPageJob struct {
	ProjectID string `gorm:"primaryKey"`
	JobID     string `gorm:"primaryKey"`
	Position  int
}

// PublicStatusPage is what /status/{slug} shows: the title and the jobs,
// in order, with what the public may see of them.
type PublicStatusPage struct {
	Title string
	Jobs  []PublicStatusJob
}

// PublicStatusJob is a job as its status page shows it. ID is for the
// handler's stats read, not for the page.
type PublicStatusJob struct {
	ID     string
	Name   string
	Status string
}

var statusSlugPattern = regexp.MustCompile(`^[a-z0-9-]{3,40}$`)

// validateStatusPage checks a page's slug, title and job list (not yet
// whether the jobs are the project's: that is read in the transaction).
func validateStatusPage(slug, title string, jobIDs []string) error {
	if !statusSlugPattern.MatchString(slug) {
		return invalid("slug", "must be 3–40 lower-case letters, digits or hyphens (got %q)", slug)
	}
	if err := validateLine("title", title); err != nil {
		return err
	}
	switch {
	case len(jobIDs) == 0:
		return invalid("jobIds", "must name at least one job")
	case len(jobIDs) > MaxStatusPageJobs:
		return invalid("jobIds", "must name at most %d jobs (got %d)", MaxStatusPageJobs, len(jobIDs))
	}
	seen := make(map[string]bool, len(jobIDs))
	for _, id := range jobIDs {
		if seen[id] {
			return invalid("jobIds", "names job %q twice", id)
		}
		seen[id] = true
	}
	return nil
}

// ProjectStatusPage returns the project's status page, enabled or not;
// ErrNotFound when it has none (or the project does not exist).
func (s *Store) ProjectStatusPage(projectID string) (*StatusPage, error) {
	return s.projectStatusPage(s.db, projectID)
}

func (s *Store) projectStatusPage(tx *gorm.DB, projectID string) (*StatusPage, error) {
	var p StatusPage
	if err := tx.Where("project_id = ?", projectID).Take(&p).Error; err != nil {
		return nil, translate(err, "status page of project "+projectID)
	}
	// Only the project's own jobs: a job moved to another project since
	// it was picked is left out.
	err := tx.Raw(`SELECT sj.job_id FROM status_page_jobs sj JOIN jobs j ON j.id = sj.job_id AND j.project_id = sj.project_id
		WHERE sj.project_id = ? ORDER BY sj.position`, projectID).Scan(&p.JobIDs).Error
	if err != nil {
		return nil, translate(err, "jobs of the status page of project "+projectID)
	}
	if p.JobIDs == nil {
		p.JobIDs = []string{}
	}
	return &p, nil
}

// SetStatusPage gives the project a status page at slug with title
// showing jobIDs in that order, and enables it; it replaces the page the
// project had. ErrNotFound when the project does not exist; a
// ValidationError naming the field for a bad slug, a slug another project
// has, a bad title, or a job that is not the project's.
func (s *Store) SetStatusPage(projectID, slug, title string, jobIDs []string) (*StatusPage, error) {
	title = strings.TrimSpace(title)
	if err := validateStatusPage(slug, title, jobIDs); err != nil {
		return nil, err
	}
	var out *StatusPage
	err := s.db.Transaction(func(tx *gorm.DB) error {
		var found []string
		if err := tx.Model(&Project{}).Where("id = ?", projectID).Limit(1).Pluck("id", &found).Error; err != nil {
			return translate(err, "find project "+projectID)
		}
		if len(found) == 0 {
			return fmt.Errorf("project %s: %w", projectID, ErrNotFound)
		}
		var mine []string
		if err := tx.Model(&Job{}).Where("project_id = ? AND id IN ?", projectID, jobIDs).Pluck("id", &mine).Error; err != nil {
			return translate(err, "jobs of project "+projectID)
		}
		if len(mine) != len(jobIDs) {
			ok := make(map[string]bool, len(mine))
			for _, id := range mine {
				ok[id] = true
			}
			for _, id := range jobIDs {
				if !ok[id] {
					return invalid("jobIds", "job %q is not a job of this project", id)
				}
			}
		}
		var taken []string
		if err := tx.Model(&StatusPage{}).Where("slug = ? AND project_id <> ?", slug, projectID).Pluck("project_id", &taken).Error; err != nil {
			return translate(err, "find status page "+slug)
		}
		if len(taken) > 0 {
			return errSlugTaken(slug)
		}
		now := s.Now()
		res := tx.Model(&StatusPage{}).Where("project_id = ?", projectID).
			Updates(map[string]any{"slug": slug, "title": title, "enabled": true, "updated_at": now})
		if res.Error != nil {
			return slugError(res.Error, slug, "update status page of project "+projectID)
		}
		if res.RowsAffected == 0 {
			p := StatusPage{ProjectID: projectID, Slug: slug, Title: title, Enabled: true, CreatedAt: now, UpdatedAt: now}
			if err := tx.Create(&p).Error; err != nil {
				return slugError(err, slug, "create status page of project "+projectID)
			}
		}
		if err := tx.Where("project_id = ?", projectID).Delete(&StatusPageJob{}).Error; err != nil {
			return translate(err, "clear the status page of project "+projectID)
		}
		rows := make([]StatusPageJob, len(jobIDs))
		for i, id := range jobIDs {
			rows[i] = StatusPageJob{ProjectID: projectID, JobID: id, Position: i}
		}
		if err := tx.Create(&rows).Error; err != nil {
			return translate(err, "store the jobs of the status page of project "+projectID)
		}
		var err error
		out, err = s.projectStatusPage(tx, projectID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func errSlugTaken(slug string) error {
	return invalid("slug", "%q is already the slug of another project's status page", slug)
}

// slugError turns a unique-index violation (another project took the slug
// between the check and the write) into the same error as the check.
func slugError(err error, slug, what string) error {
	err = translate(err, what)
	if errors.Is(err, ErrConflict) {
		return errSlugTaken(slug)
	}
	return err
}

// DisableStatusPage turns the project's status page off (/status/{slug}
// answers 404) and returns it; it keeps its slug, title and jobs.
// ErrNotFound when the project has no page.
func (s *Store) DisableStatusPage(projectID string) (*StatusPage, error) {
	res := s.db.Model(&StatusPage{}).Where("project_id = ?", projectID).
		Updates(map[string]any{"enabled": false, "updated_at": s.Now()})
	if res.Error != nil {
		return nil, translate(res.Error, "disable status page of project "+projectID)
	}
	if res.RowsAffected == 0 {
		return nil, fmt.Errorf("status page of project %s: %w", projectID, ErrNotFound)
	}
	return s.ProjectStatusPage(projectID)
}

// StatusPage returns the enabled status page at slug with its jobs'
// names and statuses, in order; ErrNotFound when no enabled page has the
// slug.
func (s *Store) StatusPage(slug string) (*PublicStatusPage, error) {
	var pages []StatusPage
	if err := s.db.Where("slug = ? AND enabled", slug).Limit(1).Find(&pages).Error; err != nil {
		return nil, translate(err, "status page "+slug)
	}
	if len(pages) == 0 {
		return nil, fmt.Errorf("status page %q: %w", slug, ErrNotFound)
	}
	out := &PublicStatusPage{Title: pages[0].Title, Jobs: []PublicStatusJob{}}
	err := s.db.Raw(`SELECT j.id, j.name, j.status FROM status_page_jobs sj JOIN jobs j ON j.id = sj.job_id AND j.project_id = sj.project_id
		WHERE sj.project_id = ? ORDER BY sj.position`, pages[0].ProjectID).Scan(&out.Jobs).Error
	if err != nil {
		return nil, translate(err, "jobs of status page "+slug)
	}
	return out, nil
}
