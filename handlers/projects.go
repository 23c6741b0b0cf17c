package handlers

import (
	"github.com/cronpulse/cronpulse/models"
	"github.com/gofiber/fiber/v2"
)

// projectView is a project as the API shows it: CronPulse embeds a short
// form of its jobs.
type projectView struct {
	*models.Project
	Jobs []models.JobSummary `json:"jobs"`
}

func (a *API) listProjects(c *fiber.Ctx) error {
	page, err := parsePage(c, MaxPageSize)
	if err != nil {
		return err
	}
	limit := page.Limit
	page.Limit++ // one more tells whether there is a next page
	projects, err := a.store.Projects(page)
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
		out[i] = projectView{Project: &projects[i], Jobs: orEmpty(jobs[projects[i].ID])}
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
func (a *API) viewProject(p *models.Project) (projectView, error) {
	jobs, err := a.store.JobSummaries([]string{p.ID})
	if err != nil {
		return projectView{}, err
	}
	return projectView{Project: p, Jobs: orEmpty(jobs[p.ID])}, nil
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
	return c.Status(fiber.StatusCreated).JSON(projectView{Project: p, Jobs: []models.JobSummary{}})
}

func (a *API) getProject(c *fiber.Ctx) error {
	p, err := a.store.Project(c.Params("id"))
	if err != nil {
		return err
	}
	v, err := a.viewProject(p)
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
	if err != nil {
		return err
	}
	v, err := a.viewProject(p)
	if err != nil {
		return err
	}
	return c.JSON(v)
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
