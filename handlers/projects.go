package handlers

import (
	"strings"

	"github.com/cronpulse/cronpulse/models"
	"github.com/gofiber/fiber/v2"
)

// projectView is a project as the API shows it: CronPulse embeds a short
// form of its jobs. PingKey shadows the project's own field: the ping key
// with a job's slug is a ping URL, so it is shown only to keys that may see
// ping URLs (write:jobs), like a job's pingUrl.
type projectView struct {
	*models.Project
	PingKey *string             `json:"pingKey,omitempty"`
	Jobs    []models.JobSummary `json:"jobs"`
}

// projectView renders p with its job summaries for the request's key.
func (a *API) projectView(c *fiber.Ctx, p *models.Project, jobs []models.JobSummary) projectView {
	v := projectView{Project: p, Jobs: orEmpty(jobs)}
	if can(c, models.PermWriteJobs) {
		v.PingKey = &p.PingKey
	}
	return v
}

func (a *API) listProjects(c *fiber.Ctx) error {
	page, err := parsePage(c, MaxPageSize)
	if err != nil {
		return err
	}
	q := strings.Clone(c.Query("q"))
	if err := models.ValidateQuery(q); err != nil {
		return err
	}
	limit := page.Limit
	page.Limit++ // one more tells whether there is a next page
	projects, err := a.store.Projects(models.ProjectFilter{Query: q, Page: page})
	if err != nil {
		return err
	}
	if len(projects) > limit {
		projects = projects[:limit]
		setNextLink(c, a.baseURL, projects[limit-1].ID, limit)
	}
	ids := make([]string, len(projects))
	for i := range projects {
		ids[i] = projects[i].ID
	}
	jobs, err := a.store.JobSummaries(ids)
	if err != nil {
		return err
	}
	out := make([]projectView, len(projects))
	for i := range projects {
		out[i] = a.projectView(c, &projects[i], jobs[projects[i].ID])
	}
	return c.JSON(out)
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// viewProject loads the embedded job summaries for one project.
func (a *API) viewProject(c *fiber.Ctx, p *models.Project) (projectView, error) {
	jobs, err := a.store.JobSummaries([]string{p.ID})
	if err != nil {
		return projectView{}, err
	}
	return a.projectView(c, p, jobs[p.ID]), nil
}

func (a *API) createProject(c *fiber.Ctx) error {
	var req models.ProjectRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	p, err := a.store.NewProject(&req)
	if err != nil {
		return err
	}
	if err := a.store.CreateProject(p); err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(a.projectView(c, p, nil))
}

func (a *API) getProject(c *fiber.Ctx) error {
	p, err := a.store.Project(c.Params("id"))
	return a.sendProject(c, p, err)
}

// sendProject answers with p as viewProject renders it, or with err (the
// error of the store call that returned p).
func (a *API) sendProject(c *fiber.Ctx, p *models.Project, err error) error {
	if err != nil {
		return err
	}
	v, err := a.viewProject(c, p)
	if err != nil {
		return err
	}
	return c.JSON(v)
}

func (a *API) updateProject(c *fiber.Ctx) error {
	var req models.ProjectRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	p, err := a.store.UpdateProject(c.Params("id"), &req)
	return a.sendProject(c, p, err)
}

func (a *API) deleteProject(c *fiber.Ctx) error {
	id := c.Params("id")
	jobs, err := a.store.JobSummaries([]string{id})
	if err != nil {
		return err
	}
	if err := a.store.DeleteProject(id); err != nil {
		return err
	}
	if a.hooks.Deleted != nil {
		for _, j := range jobs[id] {
			a.hooks.Deleted(j.ID)
		}
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// rotateBadgeKey gives the project a new badge key: its old badge URLs
// answer 404 once the badge cache has let them go (a few seconds).
func (a *API) rotateBadgeKey(c *fiber.Ctx) error {
	p, err := a.store.RotateBadgeKey(c.Params("id"))
	return a.sendProject(c, p, err)
}
