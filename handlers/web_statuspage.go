package handlers

import (
	"slices"
	"strings"

	"github.com/cronpulse/cronpulse/models"
	"github.com/gofiber/fiber/v2"
)

// The public status page's settings in the dashboard (admins): a project's
// page on or off, its slug and title, and which of its jobs it shows, as
// PUT and DELETE /api/v1/projects/{id}/status-page set them.

func (w *Web) registerStatusPageForm(f fiber.Router) {
	admin := []fiber.Handler{w.signedIn, w.require(models.PermAll)}
	f.Get("/projects/:id/status-page", append(admin, w.statusPageForm)...)
	f.Post("/projects/:id/status-page", append(admin, w.saveStatusPage)...)
}

// statusPageFormData is the form's page data.
type statusPageFormData struct {
	Project *models.Project
	Enabled bool
	Slug    string
	Title   string
	URL     string // the public page, when enabled
	Jobs    []models.JobSummary
	Picked  []string // job ids
	Errors  fieldErrors
}

// Shown reports whether the job of id is on the page.
func (d statusPageFormData) Shown(id string) bool { return slices.Contains(d.Picked, id) }

// statusPageData loads the project of the URL, its jobs and its page.
func (w *Web) statusPageData(c *fiber.Ctx) (statusPageFormData, error) {
	p, err := w.store.Project(c.Params("id"))
	if err != nil {
		return statusPageFormData{}, err
	}
	jobs, err := w.store.JobSummaries([]string{p.ID})
	if err != nil {
		return statusPageFormData{}, err
	}
	d := statusPageFormData{Project: p, Jobs: jobs[p.ID], Title: p.Name}
	sp, err := w.store.ProjectStatusPage(p.ID)
	switch {
	case models.IsNotFound(err):
	case err != nil:
		return d, err
	default:
		d.Enabled, d.Slug, d.Title, d.Picked = sp.Enabled, sp.Slug, sp.Title, sp.JobIDs
		if sp.Enabled {
			d.URL = w.baseURL + "/status/" + sp.Slug
		}
	}
	return d, nil
}

func (w *Web) statusPageForm(c *fiber.Ctx) error {
	d, err := w.statusPageData(c)
	if err != nil {
		return err
	}
	return w.render(c, fiber.StatusOK, "statuspage_form", w.newPage(c, "Status page of "+d.Project.Name, d))
}

func (w *Web) saveStatusPage(c *fiber.Ctx) error {
	d, err := w.statusPageData(c)
	if err != nil {
		return err
	}
	d.Enabled = c.FormValue("enabled") == "true"
	d.Slug, d.Title = strings.Clone(strings.TrimSpace(c.FormValue("slug"))), strings.Clone(c.FormValue("title"))
	d.Picked = nil
	for _, v := range c.Context().PostArgs().PeekMulti("jobIds") {
		d.Picked = append(d.Picked, string(v))
	}
	if d.Enabled {
		_, err = w.store.SetStatusPage(d.Project.ID, d.Slug, d.Title, d.Picked)
	} else if _, err = w.store.DisableStatusPage(d.Project.ID); models.IsNotFound(err) {
		err = nil // never turned on: nothing to turn off
	}
	if err != nil {
		if d.Errors, err = fieldErrorsOf(err, nil); err != nil {
			return err
		}
		d.URL = ""
		return w.render(c, fiber.StatusBadRequest, "statuspage_form", w.newPage(c, "Status page of "+d.Project.Name, d))
	}
	if d.Enabled {
		w.flash(c, "ok", "The status page is on at "+w.baseURL+"/status/"+d.Slug+".")
	} else {
		w.flash(c, "ok", "The status page is off.")
	}
	return c.Redirect("/projects/"+d.Project.ID+"/status-page", fiber.StatusSeeOther)
}
