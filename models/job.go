package models

import (
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Job statuses (the monitor's state).
const (
	StatusNew    = "new"
	StatusUp     = "up"
	StatusLate   = "late"
	StatusDown   = "down"
	StatusPaused = "paused"
)

// Outcomes of a job's latest run or ping (CronPulse's lastStatus).
const (
	LastPending = "pending"
	LastSuccess = "success"
	LastFailure = "failure"
	LastTimeout = "timeout"
	LastMissed  = "missed"
	LastRunning = "running"
)

// Job is a monitor: an HTTP check, a heartbeat, or both.
type Job struct {
	ID                  string     `json:"id" gorm:"primaryKey"`
	ProjectID           string     `json:"projectId"`
	Name                string     `json:"name"`
	Slug                string     `json:"slug"`
	URL                 string     `json:"url" gorm:"column:url"`
	Method              string     `json:"method"`
	Schedule            string     `json:"schedule"`
	Timezone            string     `json:"timezone"`
	Heartbeat           bool       `json:"heartbeat"`
	HeartbeatTolerance  int        `json:"heartbeatTolerance"`
	Timeout             int        `json:"timeout"`
	ExpectedStatusCode  int        `json:"expectedStatusCode"`
	Headers             Headers    `json:"headers"`
	Body                *string    `json:"body"`
	Tags                Tags       `json:"tags"`
	Paused              bool       `json:"paused"`
	Status              string     `json:"status"`
	LastStatus          string     `json:"lastStatus"`
	FailureThreshold    int        `json:"failureThreshold"`
	ConsecutiveFailures int        `json:"consecutiveFailures"`
	PingToken           string     `json:"pingToken"`
	PingCount           int64      `json:"pingCount"`
	LastActivityAt      *time.Time `json:"lastActivityAt"`
	LastPingAt          *time.Time `json:"lastPingAt"`
	LastStartAt         *time.Time `json:"-"`
	NextRunAt           *time.Time `json:"nextRunAt"`
	AlertAt             *time.Time `json:"-"`
	CreatedAt           time.Time  `json:"createdAt"`
	UpdatedAt           time.Time  `json:"updatedAt"`
}

// IsCheck reports whether CronPulse calls the job's URL on its schedule.
func (j *Job) IsCheck() bool { return j.URL != "" }

// deriveNextRun sets nextRunAt of a heartbeat-only job that has been pinged
// to its next expected ping: the first tick of its schedule after the last
// success ping, the tick its late and down deadlines count from. The ping
// writer does not store it: next_run_at is indexed (it is the checker's
// claim column for jobs with a url), and a column in an index rewritten on
// every ping makes each ping's job update maintain every index of the row
// on PostgreSQL (no HOT update; BENCHMARKS.md, Pings). Every read of whole
// jobs calls it, so that they all show the same nextRunAt. Before the first ping, while paused and after a
// resume (status new) the stored value stands: the first tick after the
// job was created, resumed or rescheduled. A job with a url keeps the
// checker's stored tick.
func (s *Store) deriveNextRun(j *Job) {
	if !j.Heartbeat || j.IsCheck() || j.Paused || j.LastPingAt == nil {
		return
	}
	if j.Status != StatusUp && j.Status != StatusLate && j.Status != StatusDown {
		return
	}
	if sched := s.schedules.Get(j.Schedule, j.Timezone); sched != nil {
		if next := sched.Next(*j.LastPingAt); !next.IsZero() {
			j.NextRunAt = &next
		}
	}
}

// ParsedSchedule parses the job's schedule in its time zone.
func (j *Job) ParsedSchedule() (*Schedule, error) {
	return ParseSchedule(j.Schedule, j.Timezone)
}

// NewJob builds a validated job from a create request, filling in defaults.
func (s *Store) NewJob(r *JobRequest) (*Job, error) {
	if err := r.requireForCreate(); err != nil {
		return nil, err
	}
	now := s.Now()
	j := &Job{
		ID:                 NewID(now),
		Method:             "GET",
		Timezone:           "UTC",
		HeartbeatTolerance: 5,
		Timeout:            30,
		ExpectedStatusCode: 200,
		FailureThreshold:   1,
		Headers:            Headers{},
		Tags:               Tags{},
		Status:             StatusNew,
		LastStatus:         LastPending,
		PingToken:          uuid.NewString(),
		CreatedAt:          now,
		UpdatedAt:          now,
	}
	if err := r.Patch(j); err != nil {
		return nil, err
	}
	if r.Slug == nil {
		j.Slug = Slugify(j.Name)
	}
	if j.Paused {
		j.Status = StatusPaused
	}
	if err := s.scheduleNext(j, now); err != nil {
		return nil, err
	}
	return j, nil
}

// scheduleNext sets the job's nextRunAt from its schedule. The checker and
// the watchdog move it on from there.
func (s *Store) scheduleNext(j *Job, now time.Time) error {
	sched, err := j.ParsedSchedule()
	if err != nil {
		return err
	}
	next := sched.Next(now)
	j.NextRunAt = &next
	return nil
}

// CreateJob inserts j after checking that its project exists.
func (s *Store) CreateJob(j *Job) error {
	return s.db.Transaction(func(tx *gorm.DB) error {
		if err := requireProject(tx, j.ProjectID); err != nil {
			return err
		}
		if err := tx.Create(j).Error; err != nil {
			return translate(err, "create job")
		}
		if j.Paused {
			return startPause(tx, j.ID, j.CreatedAt)
		}
		return nil
	})
}

// requireProject fails with a validation error naming projectId when the
// project does not exist. On PostgreSQL it holds the project row (FOR KEY
// SHARE) until the transaction ends: a project deleted meanwhile would
// otherwise pass this check and fail the insert's foreign key, a 500 instead
// of this 400. (SQLite transactions here take the write lock, so nothing
// can delete in between.)
func requireProject(tx *gorm.DB, id string) error {
	q := tx.Model(&Project{}).Select("id").Where("id = ?", id)
	if tx.Dialector.Name() == string(Postgres) {
		q = q.Clauses(clause.Locking{Strength: "KEY SHARE"})
	}
	var ids []string
	if err := q.Limit(1).Pluck("id", &ids).Error; err != nil {
		return translate(err, "find project")
	}
	if len(ids) == 0 {
		return invalid("projectId", "project %q does not exist", id)
	}
	return nil
}

// Job returns the job with the given id.
func (s *Store) Job(id string) (*Job, error) {
	var j Job
	if err := s.db.Where("id = ?", id).Take(&j).Error; err != nil {
		return nil, translate(err, "job "+id)
	}
	s.deriveNextRun(&j)
	return &j, nil
}

// JobByToken returns the job with the given ping token.
func (s *Store) JobByToken(token string) (*Job, error) {
	var j Job
	if err := s.db.Where("ping_token = ?", token).Take(&j).Error; err != nil {
		return nil, translate(err, "job by token")
	}
	s.deriveNextRun(&j)
	return &j, nil
}

// UpdateJob loads the job, applies r, validates and saves it in one
// transaction. A changed schedule or time zone recomputes nextRunAt (for a
// heartbeat job that has been pinged, from its last ping, as every read
// derives it); pausing and resuming set the status.
func (s *Store) UpdateJob(id string, r *JobRequest) (*Job, error) {
	var j Job
	err := s.db.Transaction(func(tx *gorm.DB) error {
		q := tx.Where("id = ?", id)
		if s.dialect == Postgres {
			// Lock the row: the ping writer and the watchdog update counters
			// and status of the same row, which the Save below rewrites.
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		if err := q.Take(&j).Error; err != nil {
			return translate(err, "job "+id)
		}
		before := j
		if err := r.Patch(&j); err != nil {
			return err
		}
		if j.ProjectID != before.ProjectID {
			if err := requireProject(tx, j.ProjectID); err != nil {
				return err
			}
		}
		now := s.Now()
		if j.Schedule != before.Schedule || j.Timezone != before.Timezone || (before.Paused && !j.Paused) {
			if err := s.scheduleNext(&j, now); err != nil {
				return err
			}
		}
		switch {
		case j.Paused && !before.Paused:
			j.Status = StatusPaused
			if err := startPause(tx, j.ID, now); err != nil {
				return err
			}
		case !j.Paused && before.Paused:
			j.Status = StatusNew
			j.ConsecutiveFailures = 0
			if err := endPause(tx, j.ID, now); err != nil {
				return err
			}
		}
		if before.Paused && !j.Paused {
			j.LastStartAt = nil // a run left open before the pause is not watched after it
		}
		j.AlertAt = HeartbeatAlertAt(&j) // schedule, tolerance or pause may have moved the deadline
		s.deriveNextRun(&j)              // as every later read will show it
		j.UpdatedAt = now
		return translate(tx.Save(&j).Error, "save job")
	})
	if err != nil {
		return nil, err
	}
	return &j, nil
}

// DeleteJob removes a job and its history: the database cascades to its
// check runs, flips, pauses and notifications; its pings and stats are
// deleted here (see
// deleteHistory).
func (s *Store) DeleteJob(id string) error {
	return s.db.Transaction(func(tx *gorm.DB) error {
		res := tx.Where("id = ?", id).Delete(&Job{})
		if res.Error != nil {
			return translate(res.Error, "delete job "+id)
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("job %s: %w", id, ErrNotFound)
		}
		return deleteHistory(tx, []string{id})
	})
}

// deleteHistory deletes the pings and the stats of jobs that tx has just
// deleted. Pings have no foreign key on PostgreSQL (migration 5), and
// stats none anywhere (migration 6), so nothing cascades to them. Deleting
// the job rows first makes this complete: a ping batch holds the rows of
// its jobs until it commits, so one that finished before the job rows were
// deleted is visible to this later statement, and one that comes after
// finds its job gone and stores nothing.
func deleteHistory(tx *gorm.DB, jobIDs []string) error {
	for len(jobIDs) > 0 {
		chunk := jobIDs[:min(len(jobIDs), 500)]
		jobIDs = jobIDs[len(chunk):]
		for _, table := range []string{"pings", "stats_hourly", "stats_daily"} {
			if err := tx.Exec("DELETE FROM "+table+" WHERE job_id IN ?", chunk).Error; err != nil {
				return fmt.Errorf("delete %s: %w", table, err)
			}
		}
	}
	return nil
}
