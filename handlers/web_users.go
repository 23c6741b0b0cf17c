package handlers

import (
	"errors"
	"strings"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/gofiber/fiber/v2"
)

// userRow is one user of the users page.
type userRow struct {
	models.User
	Created *time.Time
	Me      bool
}

// usersData is the users page's data.
type usersData struct {
	Users []userRow
	Roles []string
}

// userForm is the data of the invite form: what was typed (never the
// password) and the errors by field.
type userForm struct {
	Email  string
	Role   string
	Roles  []string
	MinLen int
	Errors fieldErrors
}

func (w *Web) userList(c *fiber.Ctx) error {
	users, err := w.store.Users()
	if err != nil {
		return err
	}
	me := webUser(c)
	d := usersData{Roles: models.Roles}
	for i := range users {
		u := users[i]
		d.Users = append(d.Users, userRow{User: u, Created: &u.CreatedAt, Me: u.ID == me.ID})
	}
	return w.render(c, fiber.StatusOK, "users", w.page(c, "Users", "users", d))
}

func (w *Web) userNew(c *fiber.Ctx) error {
	f := userForm{Role: models.RoleViewer, Roles: models.Roles, MinLen: models.MinPasswordLen}
	return w.render(c, fiber.StatusOK, "user_form", w.page(c, "Invite a user", "users", f))
}

// userCreate serves POST /users: the user is created with the initial
// password the admin chose and passes on.
func (w *Web) userCreate(c *fiber.Ctx) error {
	f := userForm{Email: strings.TrimSpace(c.FormValue("email")), Role: strings.Clone(c.FormValue("role")),
		Roles: models.Roles, MinLen: models.MinPasswordLen}
	u, err := w.store.CreateUser(f.Email, c.FormValue("password"), f.Role)
	if errors.Is(err, models.ErrConflict) {
		err = nil
		f.Errors = fieldErrors{"email": "a user with this address exists already"}
	} else if f.Errors, err = fieldErrorsOf(err, nil); err != nil {
		return err
	}
	if f.Errors != nil {
		return w.render(c, fiber.StatusBadRequest, "user_form", w.page(c, "Invite a user", "users", f))
	}
	w.flash(c, "ok", "User "+u.Email+" created as "+u.Role+". Pass them their initial password.")
	return c.Redirect("/users", fiber.StatusSeeOther)
}

// userRole serves POST /users/{id}/role.
func (w *Web) userRole(c *fiber.Ctx) error {
	u, err := w.store.SetUserRole(c.Params("id"), strings.Clone(c.FormValue("role")))
	switch {
	case models.IsLastAdmin(err):
		w.flash(c, "error", "Not changed: "+err.Error()+".")
	case err != nil:
		return err
	default:
		w.flash(c, "ok", u.Email+" is now "+u.Role+".")
		if u.ID == webUser(c).ID && !u.Can(models.PermAll) {
			return c.Redirect("/", fiber.StatusSeeOther) // the users page is no longer theirs
		}
	}
	return c.Redirect("/users", fiber.StatusSeeOther)
}

// userDelete serves POST /users/{id}/delete: a confirmation page, then
// (confirm=yes) the deletion, which signs the user out everywhere.
func (w *Web) userDelete(c *fiber.Ctx) error {
	u, err := w.store.User(c.Params("id"))
	if err != nil {
		return err
	}
	if !confirmed(c) {
		return w.confirm(c, "Remove "+u.Email+"?", "users", confirmData{
			Message: u.Email + " (" + u.Role + ") will no longer be able to sign in, and is signed out everywhere.",
			Action:  "/users/" + u.ID + "/delete", Button: "Remove " + u.Email, Cancel: "/users",
		})
	}
	switch err := w.store.DeleteUser(u.ID); {
	case models.IsLastAdmin(err):
		w.flash(c, "error", "Not removed: "+err.Error()+".")
	case err != nil:
		return err
	default:
		w.flash(c, "ok", "Removed "+u.Email+".")
	}
	return c.Redirect("/users", fiber.StatusSeeOther)
}

// accountData is the account page's data.
type accountData struct {
	MinLen int
	Errors fieldErrors
}

func (w *Web) account(c *fiber.Ctx) error {
	return w.render(c, fiber.StatusOK, "account", w.page(c, "Your account", "account", accountData{MinLen: models.MinPasswordLen}))
}

// accountPassword serves POST /account/password: with the current
// password, the new one is set, every session of the user ends, and this
// browser gets a new one.
func (w *Web) accountPassword(c *fiber.Ctx) error {
	u := webUser(c)
	err := w.store.ChangePassword(u.ID, c.FormValue("current_password"), c.FormValue("new_password"))
	d := accountData{MinLen: models.MinPasswordLen}
	if d.Errors, err = fieldErrorsOf(err, nil); err != nil {
		return err
	}
	if d.Errors != nil {
		return w.render(c, fiber.StatusBadRequest, "account", w.page(c, "Your account", "account", d))
	}
	if _, err := w.sessions.start(c, u); err != nil {
		return err
	}
	w.flash(c, "ok", "Password changed. Your other sessions were signed out.")
	return c.Redirect("/account", fiber.StatusSeeOther)
}
