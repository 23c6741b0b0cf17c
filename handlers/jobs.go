package handlers

import (
	"strings"

	"github.com/cronpulse/cronpulse/models"
	"github.com/gofiber/fiber/v2"
)

// jobView is a job as the API shows it. PingToken and PingURL are a
// capability (whoever has them can ping), so they are only shown to keys
// that may write jobs.
type jobView struct {
	models.Job
	PingToken string `json:"pingToken,omitempty"`
	PingURL   string `json:"pingUrl,omitempty"`
}

// view renders j for the request's key.
func (a *API) view(c *fiber.Ctx, j *models.Job) jobView {
	v := jobView{Job: *j}
	if can(c, models.PermWriteJobs) {
		v.PingToken = j.PingToken
		v.PingURL = a.baseURL + "/ping/" + j.PingToken
	}
	return v
}

func (a *API) listJobs(c *fiber.Ctx) error {
	f, err := parseJobFilter(c)
	if err != nil {
		return err
	}
	limit := f.Limit
	f.Limit++ // one more tells whether there is a next page
	jobs, err := a.store.Jobs(f)
	if err != nil {
		return err
	}
	if len(jobs) > limit {
		jobs = jobs[:limit]
		setNextLink(c, a.baseURL, models.JobCursor(f.Sort, &jobs[limit-1]), limit)
	}
	out := make([]jobView, len(jobs))
	for i := range jobs {
		out[i] = a.view(c, &jobs[i])
	}
	return c.JSON(out)
}

// parseJobFilter reads the filters of GET /jobs: status (a comma list),
// tag (repeatable: all must match), q, paused, projectId, sort, and the
// page. The strings are copied out of Fiber's reused buffers.
func parseJobFilter(c *fiber.Ctx) (models.JobFilter, error) {
	f := models.JobFilter{
		ProjectID: strings.Clone(c.Query("projectId")),
		Query:     strings.Clone(c.Query("q")),
		Sort:      strings.Clone(c.Query("sort")),
	}
	var err error
	if f.Sort == "" {
		f.Page, err = parsePage(c, MaxPageSize)
	} else {
		f.Page, err = parseRawPage(c, MaxPageSize) // ValidateJobFilter reads the sort's cursor
	}
	if err != nil {
		return f, err
	}
	if v := c.Query("status"); v != "" {
		if f.Statuses, err = models.ParseStatuses(v); err != nil {
			return f, err
		}
	}
	for _, t := range c.Context().QueryArgs().PeekMulti("tag") {
		f.Tags = append(f.Tags, string(t))
	}
	switch v := c.Query("paused"); v {
	case "":
	case "true", "false":
		p := v == "true"
		f.Paused = &p
	default:
		return f, fiber.NewError(fiber.StatusBadRequest, "paused: must be true or false")
	}
	return f, models.ValidateJobFilter(&f)
}

func (a *API) createJob(c *fiber.Ctx) error {
	var req models.JobRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	j, err := a.store.NewJob(&req)
	if err != nil {
		return err
	}
	if err := a.store.CreateJob(j); err != nil {
		return err
	}
	a.changed(j)
	return c.Status(fiber.StatusCreated).JSON(a.view(c, j))
}

func (a *API) getJob(c *fiber.Ctx) error {
	j, err := a.store.Job(c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(a.view(c, j))
}

func (a *API) updateJob(c *fiber.Ctx) error {
	var req models.JobRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	j, err := a.store.UpdateJob(c.Params("id"), &req)
	if err != nil {
		return err
	}
	a.changed(j)
	return c.JSON(a.view(c, j))
}

func (a *API) deleteJob(c *fiber.Ctx) error {
	id := c.Params("id")
	if err := a.store.DeleteJob(id); err != nil {
		return err
	}
	if a.hooks.Deleted != nil {
		a.hooks.Deleted(id)
	}
	return c.SendStatus(fiber.StatusNoContent)
}
