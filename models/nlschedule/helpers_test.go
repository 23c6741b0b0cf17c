package nlschedule_test

import (
	"github.com/cronpulse/cronpulse/models"
)

// jobAccepts checks a schedule and time zone the way POST /jobs does: the
// schedule parser, then the job request's Patch, which validates the whole
// job.
func jobAccepts(expr, tz string) error {
	if _, err := models.ParseSchedule(expr, tz); err != nil {
		return err
	}
	name, project, url, method := "parsed", "c000000000project00000000", "https://example.com/health", "GET"
	req := models.JobRequest{Name: &name, ProjectID: &project, URL: &url, Method: &method, Schedule: &expr, Timezone: &tz}
	j := &models.Job{Method: "GET", Timezone: "UTC", HeartbeatTolerance: 5, Timeout: 30,
		ExpectedStatusCode: 200, FailureThreshold: 1, Headers: models.Headers{}, Tags: models.Tags{}}
	return req.Patch(j)
}
