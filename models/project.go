package models

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Project groups jobs and notification channels.
type Project struct {
	ID      string `json:"id" gorm:"primaryKey"`
	Name    string `json:"name"`
	URL     string `json:"url" gorm:"column:url"`
	PingKey string `json:"pingKey"`
	// BadgeKey is the public part of the project's badge URLs
	// (/badge/{badgeKey}/…): anyone may see a badge, nobody can ping with it.
	BadgeKey  string    `json:"badgeKey"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// JobSummary is the short form of a job embedded in a project listing.
type JobSummary struct {
	ID         string `json:"id"`
	ProjectID  string `json:"-"`
	Name       string `json:"name"`
	LastStatus string `json:"lastStatus"`
	Status     string `json:"status"`
}

// ProjectRequest is the body of POST and PUT /projects. Nil fields were not
// sent.
type ProjectRequest struct {
	Name *string `json:"name"`
	URL  *string `json:"url"`
}

// Patch applies the sent fields to p and validates the result.
func (r *ProjectRequest) Patch(p *Project) error {
	if r.Name != nil {
		p.Name = strings.TrimSpace(*r.Name)
	}
	if r.URL != nil {
		p.URL = strings.TrimSpace(*r.URL)
	}
	return ValidateProject(p)
}

// ValidateProject checks a project's fields.
func ValidateProject(p *Project) error {
	if err := validateName(p.Name); err != nil {
		return err
	}
	if p.URL != "" {
		if err := validateHTTPURL("url", p.URL); err != nil {
			return err
		}
	}
	return nil
}

func validateName(name string) error { return validateLine("name", name) }

// validateLine checks a required one-line text of 1–100 characters (a
// name, a title), naming field in its errors.
func validateLine(field, v string) error {
	n := utf8.RuneCountInString(v)
	switch {
	case n == 0:
		return invalid(field, "is required")
	case n > 100:
		return invalid(field, "must be at most 100 characters (got %d)", n)
	case strings.ContainsAny(v, "\r\n\x00"):
		return invalid(field, "must be a single line")
	}
	return nil
}

// NewProject builds a validated project from a create request.
func (s *Store) NewProject(r *ProjectRequest) (*Project, error) {
	if r.Name == nil {
		return nil, invalid("name", "is required")
	}
	now := s.Now()
	p := &Project{ID: NewID(now), PingKey: randomString(22, idAlphabet), BadgeKey: newBadgeKey(), CreatedAt: now, UpdatedAt: now}
	if err := r.Patch(p); err != nil {
		return nil, err
	}
	return p, nil
}

// CreateProject inserts p.
func (s *Store) CreateProject(p *Project) error {
	return translate(s.db.Create(p).Error, "create project")
}

// Project returns the project with the given id.
func (s *Store) Project(id string) (*Project, error) {
	var p Project
	err := s.db.Where("id = ?", id).Take(&p).Error
	if err != nil {
		return nil, translate(err, "project "+id)
	}
	return &p, nil
}

// ProjectByPingKey returns the project owning a ping key.
func (s *Store) ProjectByPingKey(key string) (*Project, error) {
	var p Project
	if err := s.db.Where("ping_key = ?", key).Take(&p).Error; err != nil {
		return nil, translate(err, "project by ping key")
	}
	return &p, nil
}

// ProjectNames returns the names of the given projects (an id may repeat),
// keyed by id, in one query.
func (s *Store) ProjectNames(ids []string) (map[string]string, error) {
	ids = distinctKeys(ids, func(id string) string { return id })
	out := make(map[string]string, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct{ ID, Name string }
	if err := s.db.Model(&Project{}).Select("id, name").Where("id IN ?", ids).Scan(&rows).Error; err != nil {
		return nil, translate(err, "project names")
	}
	for _, r := range rows {
		out[r.ID] = r.Name
	}
	return out, nil
}

// JobSummaries returns the jobs of the given projects in short form, keyed
// by project id, in one query.
func (s *Store) JobSummaries(projectIDs []string) (map[string][]JobSummary, error) {
	out := make(map[string][]JobSummary, len(projectIDs))
	if len(projectIDs) == 0 {
		return out, nil
	}
	var rows []JobSummary
	err := s.db.Model(&Job{}).Select("id, project_id, name, last_status, status").
		Where("project_id IN ?", projectIDs).Order("id").Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "job summaries")
	}
	for _, r := range rows {
		out[r.ProjectID] = append(out[r.ProjectID], r)
	}
	return out, nil
}

// UpdateProject loads the project, applies r and saves it, all in one
// transaction.
func (s *Store) UpdateProject(id string, r *ProjectRequest) (*Project, error) {
	var p Project
	err := s.db.Transaction(func(tx *gorm.DB) error {
		q := tx.Where("id = ?", id)
		if s.dialect == Postgres {
			// Hold the row from read to write. GORM's Save inserts when its
			// UPDATE matches nothing, so without the lock a project deleted
			// in between came back (empty: its jobs were gone).
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		if err := q.Take(&p).Error; err != nil {
			return translate(err, "project "+id)
		}
		if err := r.Patch(&p); err != nil {
			return err
		}
		p.UpdatedAt = s.Now()
		res := tx.Model(&Project{}).Where("id = ?", p.ID).
			Updates(map[string]any{"name": p.Name, "url": p.URL, "updated_at": p.UpdatedAt})
		if res.Error != nil {
			return translate(res.Error, "save project "+id)
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("project %s: %w", id, ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// DeleteProject removes a project with its jobs (their runs and flips go
// by the database's cascades, their pings are deleted here: see
// deleteHistory) and its channels.
func (s *Store) DeleteProject(id string) error {
	return s.db.Transaction(func(tx *gorm.DB) error {
		// Lock the project first: a job created in it meanwhile (which
		// holds the project row FOR KEY SHARE) is then either deleted below
		// or refused.
		q := tx.Model(&Project{}).Select("id").Where("id = ?", id)
		if s.dialect == Postgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		var found []string
		if err := q.Pluck("id", &found).Error; err != nil {
			return translate(err, "find project "+id)
		}
		if len(found) == 0 {
			return fmt.Errorf("project %s: %w", id, ErrNotFound)
		}
		// Delete the jobs themselves (not through the cascade) to learn
		// which were deleted: a job moved to another project meanwhile is
		// not, and keeps its pings.
		var jobIDs []string
		if err := tx.Raw("DELETE FROM jobs WHERE project_id = ? RETURNING id", id).Scan(&jobIDs).Error; err != nil {
			return translate(err, "delete jobs of project "+id)
		}
		if err := deleteHistory(tx, jobIDs); err != nil {
			return err
		}
		if err := tx.Exec("DELETE FROM project_stats_hourly WHERE project_id = ?", id).Error; err != nil {
			return translate(err, "delete stats of project "+id)
		}
		return translate(tx.Where("id = ?", id).Delete(&Project{}).Error, "delete project "+id)
	})
}
