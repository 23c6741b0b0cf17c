package handlers

import (
	"errors"
	"regexp"
	"strings"

	"github.com/cronpulse/cronpulse/models"
	"github.com/gofiber/fiber/v2"
)

// registerAdmin mounts the admin pages (channels, API keys, users: role
// admin, which holds "*") and the account page (everyone signed in).
func (w *Web) registerAdmin(f *fiber.App) {
	admin := []fiber.Handler{w.signedIn, w.require(models.PermAll)}
	route := func(method, path string, h fiber.Handler) {
		f.Add(method, path, append(admin, h)...)
	}
	route(fiber.MethodGet, "/channels", w.channelList)
	route(fiber.MethodGet, "/channels/new", w.channelNew)
	route(fiber.MethodPost, "/channels", w.channelCreate)
	route(fiber.MethodGet, "/channels/:id/edit", w.channelEdit)
	route(fiber.MethodPost, "/channels/:id", w.channelUpdate)
	route(fiber.MethodPost, "/channels/:id/delete", w.channelDelete)
	route(fiber.MethodPost, "/channels/:id/test", w.channelTest)

	route(fiber.MethodGet, "/api-keys", w.apiKeyList)
	route(fiber.MethodGet, "/api-keys/new", w.apiKeyNew)
	route(fiber.MethodPost, "/api-keys", w.apiKeyCreate)
	route(fiber.MethodPost, "/api-keys/:id/revoke", w.apiKeyRevoke)

	route(fiber.MethodGet, "/users", w.userList)
	route(fiber.MethodGet, "/users/new", w.userNew)
	route(fiber.MethodPost, "/users", w.userCreate)
	route(fiber.MethodPost, "/users/:id/role", w.userRole)
	route(fiber.MethodPost, "/users/:id/delete", w.userDelete)

	f.Get("/account", w.signedIn, w.account)
	f.Post("/account/password", w.signedIn, w.accountPassword)
}

// fieldErrors are a form's validation messages by form field name.
type fieldErrors map[string]string

// indexSuffix is the "[3]" of a list element's field ("config.to[3]").
var indexSuffix = regexp.MustCompile(`\[\d+\]$`)

// fieldErrorsOf turns a store's ValidationError into the message of the form
// field it names (rename maps the store's field names to the form's, after
// any "config." prefix and "[n]" suffix are cut). Other errors come back
// as they are, with nil errors.
func fieldErrorsOf(err error, rename map[string]string) (fieldErrors, error) {
	var ve *models.ValidationError
	if !errors.As(err, &ve) {
		return nil, err
	}
	field := indexSuffix.ReplaceAllString(strings.TrimPrefix(ve.Field, "config."), "")
	if to, ok := rename[field]; ok {
		field = to
	}
	return fieldErrors{field: ve.Message}, nil
}

// confirmData is the data of the confirmation page: a form posting to
// Action with confirm=yes.
type confirmData struct {
	Message string
	Action  string
	Button  string
	Cancel  string // the page to go back to
}

// confirmed reports whether a form came from the confirmation page.
func confirmed(c *fiber.Ctx) bool { return c.FormValue("confirm") == "yes" }

// confirm renders the confirmation page.
func (w *Web) confirm(c *fiber.Ctx, title, nav string, d confirmData) error {
	p := w.newPage(c, title, d)
	p.Nav = nav
	return w.render(c, fiber.StatusOK, "confirm", p)
}

// page is newPage with the nav entry set.
func (w *Web) page(c *fiber.Ctx, title, nav string, data any) Page {
	p := w.newPage(c, title, data)
	p.Nav = nav
	return p
}
