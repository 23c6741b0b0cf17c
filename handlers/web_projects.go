package handlers

import (
	"errors"
	"net/url"
	"strings"

	"github.com/cronpulse/cronpulse/models"
	"github.com/gofiber/fiber/v2"
)

// Projects: GET /projects (q, cursor), GET /projects/new + POST /projects,
// GET /projects/{id}/edit + POST /projects/{id} (rename), GET
// /projects/{id}/delete (how many jobs go with it) + POST
// /projects/{id}/delete. Writes go through the store as the API's do.

// projectsPerPage is how many projects one page lists.
const projectsPerPage = 50

func (w *Web) registerProjects(f fiber.Router) {
	// The API's permissions for projects.
	read := []fiber.Handler{w.signedIn, w.require(models.PermReadProjects)}
	write := []fiber.Handler{w.signedIn, w.require(models.PermWriteProjects)}
	f.Get("/projects", append(read, w.projects)...)
	f.Get("/projects/new", append(write, w.newProjectForm)...)
	f.Post("/projects", append(write, w.createProjectForm)...)
	f.Get("/projects/:id/edit", append(write, w.editProjectForm)...)
	f.Post("/projects/:id", append(write, w.updateProjectForm)...)
	f.Get("/projects/:id/delete", append(write, w.projectDeleteConfirm)...)
	f.Post("/projects/:id/delete", append(write, w.projectDelete)...)
}

// projectRow is one project of the list.
type projectRow struct {
	models.Project
	Jobs []models.JobSummary
}

// projectsData is the list's page data.
type projectsData struct {
	Q     string
	Rows  []projectRow
	Next  string
	First string
}

func (w *Web) projects(c *fiber.Ctx) error {
	q := strings.TrimSpace(strings.Clone(c.Query("q")))
	if err := models.ValidateQuery(q); err != nil {
		return err
	}
	cursor := strings.Clone(c.Query("cursor"))
	list, err := w.store.Projects(models.ProjectFilter{Query: q, Page: models.Page{Cursor: cursor, Limit: projectsPerPage + 1}})
	if err != nil {
		return err
	}
	d := projectsData{Q: q}
	v := url.Values{}
	if q != "" {
		v.Set("q", q)
	}
	if len(list) > projectsPerPage {
		list = list[:projectsPerPage]
		next := url.Values{"cursor": {list[len(list)-1].ID}}
		if q != "" {
			next.Set("q", q)
		}
		d.Next = "/projects?" + next.Encode()
	}
	if cursor != "" {
		d.First = "/projects"
		if q != "" {
			d.First += "?" + v.Encode()
		}
	}
	ids := make([]string, len(list))
	for i := range list {
		ids[i] = list[i].ID
	}
	jobs, err := w.store.JobSummaries(ids)
	if err != nil {
		return err
	}
	for _, p := range list {
		d.Rows = append(d.Rows, projectRow{Project: p, Jobs: jobs[p.ID]})
	}
	page := w.newPage(c, "Projects", d)
	page.Nav = "projects"
	return w.render(c, fiber.StatusOK, "projects", page)
}

// projectFormData is the project form's page data.
type projectFormData struct {
	Action   string
	Project  *models.Project // nil for a new one
	Name     string
	URL      string
	ErrField string
	ErrMsg   string
}

// Err is the error message of field, or "".
func (d projectFormData) Err(field string) string {
	if d.ErrField == field {
		return d.ErrMsg
	}
	return ""
}

func (w *Web) newProjectForm(c *fiber.Ctx) error {
	return w.render(c, fiber.StatusOK, "project_form", w.newPage(c, "New project", projectFormData{Action: "/projects"}))
}

// projectRequest reads the posted form as the API's request.
func projectRequest(c *fiber.Ctx) (*models.ProjectRequest, projectFormData) {
	name, u := strings.Clone(c.FormValue("name")), strings.Clone(c.FormValue("url"))
	return &models.ProjectRequest{Name: &name, URL: &u}, projectFormData{Name: name, URL: u}
}

// projectFormError renders the form again with err when it is the user's.
func (w *Web) projectFormError(c *fiber.Ctx, title string, d projectFormData, err error) error {
	var ve *models.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	d.ErrField, d.ErrMsg = ve.Field, ve.Message
	return w.render(c, fiber.StatusBadRequest, "project_form", w.newPage(c, title, d))
}

func (w *Web) createProjectForm(c *fiber.Ctx) error {
	req, d := projectRequest(c)
	d.Action = "/projects"
	p, err := w.store.NewProject(req)
	if err == nil {
		err = w.store.CreateProject(p)
	}
	if err != nil {
		return w.projectFormError(c, "New project", d, err)
	}
	w.flash(c, "ok", "Created the project "+p.Name+". Add its first job.")
	return c.Redirect("/jobs/new?project="+url.QueryEscape(p.ID), fiber.StatusSeeOther)
}

func (w *Web) editProjectForm(c *fiber.Ctx) error {
	p, err := w.store.Project(c.Params("id"))
	if err != nil {
		return err
	}
	d := projectFormData{Action: "/projects/" + p.ID, Project: p, Name: p.Name, URL: p.URL}
	return w.render(c, fiber.StatusOK, "project_form", w.newPage(c, "Edit "+p.Name, d))
}

func (w *Web) updateProjectForm(c *fiber.Ctx) error {
	p, err := w.store.Project(c.Params("id"))
	if err != nil {
		return err
	}
	req, d := projectRequest(c)
	d.Action, d.Project = "/projects/"+p.ID, p
	updated, err := w.store.UpdateProject(p.ID, req)
	if err != nil {
		return w.projectFormError(c, "Edit "+p.Name, d, err)
	}
	w.flash(c, "ok", "Saved the project "+updated.Name+".")
	return c.Redirect("/projects", fiber.StatusSeeOther)
}

// projectDeleteData is the confirmation's page data.
type projectDeleteData struct {
	Project *models.Project
	Jobs    []models.JobSummary
}

// projectWithJobs loads the project of the URL with its jobs.
func (w *Web) projectWithJobs(c *fiber.Ctx) (projectDeleteData, error) {
	p, err := w.store.Project(c.Params("id"))
	if err != nil {
		return projectDeleteData{}, err
	}
	jobs, err := w.store.JobSummaries([]string{p.ID})
	if err != nil {
		return projectDeleteData{}, err
	}
	return projectDeleteData{Project: p, Jobs: jobs[p.ID]}, nil
}

func (w *Web) projectDeleteConfirm(c *fiber.Ctx) error {
	d, err := w.projectWithJobs(c)
	if err != nil {
		return err
	}
	return w.render(c, fiber.StatusOK, "project_delete", w.newPage(c, "Delete the project "+d.Project.Name+"?", d))
}

// projectDelete deletes the project with its jobs, telling the engine of
// each job as DELETE /projects/{id} does.
func (w *Web) projectDelete(c *fiber.Ctx) error {
	d, err := w.projectWithJobs(c)
	if err != nil {
		return err
	}
	if err := w.store.DeleteProject(d.Project.ID); err != nil {
		return err
	}
	if w.hooks.Deleted != nil {
		for _, j := range d.Jobs {
			w.hooks.Deleted(j.ID)
		}
	}
	w.flash(c, "ok", "Deleted the project "+d.Project.Name+" and "+jobCount(len(d.Jobs))+".")
	return c.Redirect("/projects", fiber.StatusSeeOther)
}
