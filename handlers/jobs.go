package handlers

import (
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
	if k := apiKey(c); k != nil && k.Can(models.PermWriteJobs) {
		v.PingToken = j.PingToken
		v.PingURL = a.baseURL + "/ping/" + j.PingToken
	}
	return v
}

func (a *API) listJobs(c *fiber.Ctx) error {
	page, err := parsePage(c, MaxPageSize)
	if err != nil {
		return err
	}
	f := models.JobFilter{ProjectID: c.Query("projectId"), Page: page}
	f.Limit++ // one more tells whether there is a next page
	jobs, err := a.store.Jobs(f)
	if err != nil {
		return err
	}
	if len(jobs) > page.Limit {
		jobs = jobs[:page.Limit]
		setNextLink(c, a.baseURL, jobs[page.Limit-1].ID, page.Limit)
	}
	out := make([]jobView, len(jobs))
	for i := range jobs {
		out[i] = a.view(c, &jobs[i])
	}
	return c.JSON(out)
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
