package handlers

import (
	"github.com/cronpulse/cronpulse/models"
	"github.com/gofiber/fiber/v2"
)

// statusPageView is a project's status page as the API shows it, with
// its public address.
type statusPageView struct {
	*models.StatusPage
	URL string `json:"url"`
}

// statusPageRequest is PUT /projects/{id}/status-page: every field is
// required (the store names the one missing).
type statusPageRequest struct {
	Slug   string   `json:"slug"`
	Title  string   `json:"title"`
	JobIDs []string `json:"jobIds"`
}

func (a *API) sendStatusPage(c *fiber.Ctx, p *models.StatusPage) error {
	return c.JSON(dataOf[statusPageView]{statusPageView{p, a.baseURL + "/status/" + p.Slug}})
}

// getStatusPage serves GET /projects/:id/status-page, enabled or not.
func (a *API) getStatusPage(c *fiber.Ctx) error {
	p, err := a.store.ProjectStatusPage(c.Params("id"))
	if err != nil {
		return err
	}
	return a.sendStatusPage(c, p)
}

// putStatusPage serves PUT /projects/:id/status-page: sets and enables it.
func (a *API) putStatusPage(c *fiber.Ctx) error {
	var r statusPageRequest
	if err := decodeJSON(c, &r); err != nil {
		return err
	}
	p, err := a.store.SetStatusPage(c.Params("id"), r.Slug, r.Title, r.JobIDs)
	if err != nil {
		return err
	}
	return a.sendStatusPage(c, p)
}

// deleteStatusPage serves DELETE /projects/:id/status-page: disables it,
// keeping its slug, and answers with it.
func (a *API) deleteStatusPage(c *fiber.Ctx) error {
	p, err := a.store.DisableStatusPage(c.Params("id"))
	if err != nil {
		return err
	}
	return a.sendStatusPage(c, p)
}
