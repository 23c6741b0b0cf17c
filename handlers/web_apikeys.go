package handlers

import (
	"strings"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/gofiber/fiber/v2"
)

// apiKeyRow is one key of the API keys page (never its secret, which is
// not stored).
type apiKeyRow struct {
	models.APIKey
	Created *time.Time
	Perms   string // the permissions, comma-separated
}

// apiKeyForm is the data of the new key form.
type apiKeyForm struct {
	Name        string
	Checked     map[string]bool
	Permissions []string
	Errors      fieldErrors
}

// apiKeyCreated is the data of the one page that shows a key's secret.
type apiKeyCreated struct {
	Key    apiKeyRow
	Secret string
}

func (w *Web) apiKeyList(c *fiber.Ctx) error {
	keys, err := w.store.APIKeys()
	if err != nil {
		return err
	}
	rows := make([]apiKeyRow, len(keys))
	for i := range keys {
		rows[i] = keyRow(&keys[i])
	}
	return w.render(c, fiber.StatusOK, "apikeys", w.page(c, "API keys", "api-keys", rows))
}

func keyRow(k *models.APIKey) apiKeyRow {
	return apiKeyRow{APIKey: *k, Created: &k.CreatedAt, Perms: strings.Join(k.PermissionList(), ", ")}
}

func (w *Web) apiKeyNew(c *fiber.Ctx) error {
	f := apiKeyForm{Checked: map[string]bool{models.PermReadJobs: true}, Permissions: models.Permissions}
	return w.render(c, fiber.StatusOK, "apikey_form", w.page(c, "New API key", "api-keys", f))
}

// apiKeyCreate serves POST /api-keys. The answer is the page showing the
// secret, the only time it is shown (no redirect: the page is not cached
// and no later GET can show it).
func (w *Web) apiKeyCreate(c *fiber.Ctx) error {
	perms := cloneAll(c.Request().PostArgs().PeekMulti("permission"))
	f := apiKeyForm{Name: strings.TrimSpace(c.FormValue("name")), Checked: map[string]bool{}, Permissions: models.Permissions}
	for _, p := range perms {
		f.Checked[p] = true
	}
	k, secret, err := w.store.CreateAPIKey(f.Name, perms)
	if f.Errors, err = fieldErrorsOf(err, nil); err != nil {
		return err
	}
	if f.Errors != nil {
		return w.render(c, fiber.StatusBadRequest, "apikey_form", w.page(c, "New API key", "api-keys", f))
	}
	p := w.page(c, "API key created", "api-keys", apiKeyCreated{Key: keyRow(k), Secret: secret})
	return w.render(c, fiber.StatusCreated, "apikey_created", p)
}

// apiKeyRevoke serves POST /api-keys/{id}/revoke: a confirmation page,
// then (confirm=yes) the revocation.
func (w *Web) apiKeyRevoke(c *fiber.Ctx) error {
	id := c.Params("id")
	if !confirmed(c) {
		keys, err := w.store.APIKeys()
		if err != nil {
			return err
		}
		for _, k := range keys {
			if k.ID == id {
				return w.confirm(c, "Revoke "+k.Name+"?", "api-keys", confirmData{
					Message: "Programs using the key " + k.Prefix + "… (" + k.Name + ") get 401 from then on. This cannot be undone.",
					Action:  "/api-keys/" + k.ID + "/revoke", Button: "Revoke " + k.Name, Cancel: "/api-keys",
				})
			}
		}
		return fiber.NewError(fiber.StatusNotFound, "There is no such API key.")
	}
	k, err := w.store.RevokeAPIKey(id)
	if err != nil {
		return err
	}
	w.flash(c, "ok", "Revoked "+k.Name+" ("+k.Prefix+"…).")
	return c.Redirect("/api-keys", fiber.StatusSeeOther)
}
