package checker

import (
	"context"
	"errors"

	"github.com/cronpulse/cronpulse/models"
)

// startChecks schedules every HTTP check. (Filled in by the HTTP-check
// work.)
func (e *Engine) startChecks(ctx context.Context) error { return nil }

// JobChanged reschedules a job after an API change.
func (e *Engine) JobChanged(j *models.Job) {}

// JobDeleted unschedules a deleted job.
func (e *Engine) JobDeleted(id string) {}

// Trigger runs a job's check now and stores the run.
func (e *Engine) Trigger(ctx context.Context, j *models.Job) (*models.CheckRun, error) {
	return nil, errors.New("not implemented")
}
