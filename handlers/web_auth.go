package handlers

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"math"
	"net/url"
	"strconv"
	"strings"

	"github.com/cronpulse/cronpulse/models"
	"github.com/gofiber/fiber/v2"
)

// csrfHeader carries the CSRF token of a request that is not a form (the
// API called with a session, the dashboard's scripts).
const csrfHeader = "X-CSRF-Token"

// csrfField is the hidden form field carrying it.
const csrfField = "_csrf"

// safeMethod reports whether m changes nothing (so needs no CSRF token).
func safeMethod(m string) bool {
	return m == fiber.MethodGet || m == fiber.MethodHead || m == fiber.MethodOptions
}

// tokensEqual compares a presented CSRF token with the expected one in
// constant time; an empty expected token matches nothing.
func tokensEqual(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// errCSRF is the answer to an unsafe request without the right token.
var errCSRF = fiber.NewError(fiber.StatusForbidden,
	"This form has expired or did not come from this site. Go back, reload the page and try again.")

// csrf refuses unsafe requests (403) whose _csrf field (or X-CSRF-Token
// header) is not the session's token, or, without a session, the
// pre-session cookie's (a double submit: another site can make the
// browser post, but can neither read nor set the cookie). Nothing runs
// before it that writes. Dashboard forms are small: bodies over 64 KiB
// are 413.
func (w *Web) csrf(c *fiber.Ctx) error {
	if safeMethod(c.Method()) || !isDashboardPath(c.Path()) {
		return c.Next()
	}
	if len(c.Body()) > MaxAPIBody {
		return fiber.ErrRequestEntityTooLarge
	}
	got := c.FormValue(csrfField)
	if got == "" {
		got = c.Get(csrfHeader)
	}
	sess, _, err := w.sessions.current(c)
	if err != nil {
		return err
	}
	want := c.Cookies(preSessionCookie)
	if sess != nil {
		want = sess.CSRFToken
	}
	if !tokensEqual(got, want) {
		return errCSRF
	}
	return c.Next()
}

// preSessionToken returns the CSRF token of the forms shown before
// sign-in, setting its cookie when the browser has none.
func (w *Web) preSessionToken(c *fiber.Ctx) string {
	if v := c.Cookies(preSessionCookie); len(v) >= 32 && len(v) <= 64 {
		return strings.Clone(v)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error()) // the OS RNG never fails on supported platforms
	}
	v := base64.RawURLEncoding.EncodeToString(b)
	c.Cookie(&fiber.Cookie{Name: preSessionCookie, Value: v, Path: "/", HTTPOnly: true,
		Secure: w.sessions.secure, SameSite: fiber.CookieSameSiteLaxMode})
	return v
}

// needsSetup reports whether no user exists yet.
func (w *Web) needsSetup() (bool, error) {
	if w.hasUsers.Load() {
		return false, nil
	}
	n, err := w.store.CountUsers()
	if err != nil {
		return false, err
	}
	if n > 0 {
		w.hasUsers.Store(true)
	}
	return n == 0, nil
}

// setupGate sends every dashboard page to /setup while no user exists.
func (w *Web) setupGate(c *fiber.Ctx) error {
	if c.Path() == "/setup" || !isDashboardPath(c.Path()) {
		return c.Next()
	}
	setup, err := w.needsSetup()
	if err != nil {
		return err
	}
	if setup {
		return c.Redirect("/setup", fiber.StatusSeeOther)
	}
	return c.Next()
}

// signedIn sends requests without a valid session to /login (with the
// page to return to), and lets the rest through with their user.
func (w *Web) signedIn(c *fiber.Ctx) error {
	_, u, err := w.sessions.current(c)
	if err != nil {
		return err
	}
	if u == nil {
		next := ""
		if c.Method() == fiber.MethodGet {
			next = "?next=" + url.QueryEscape(string(c.Request().URI().RequestURI()))
		}
		return c.Redirect("/login"+next, fiber.StatusSeeOther)
	}
	return c.Next()
}

// require returns a guard that answers the 403 page unless the signed-in
// user's role grants perm. It goes after signedIn.
func (w *Web) require(perm string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		u := webUser(c)
		if u == nil || !u.Can(perm) {
			role := "signed-out"
			if u != nil {
				role = u.Role
			}
			return fiber.NewError(fiber.StatusForbidden, "Your role ("+role+") may not do this. Ask an admin if you need to.")
		}
		return c.Next()
	}
}

// authForm is the data of the setup and login forms.
type authForm struct {
	Email string
	Next  string
	Error string
}

func (w *Web) setupForm(c *fiber.Ctx) error {
	setup, err := w.needsSetup()
	if err != nil {
		return err
	}
	if !setup {
		return fiber.ErrNotFound
	}
	return w.render(c, fiber.StatusOK, "setup", w.newPage(c, "Set up CronPulse", authForm{}))
}

// setup serves POST /setup: create the first admin and sign them in.
func (w *Web) setup(c *fiber.Ctx) error {
	setup, err := w.needsSetup()
	if err != nil {
		return err
	}
	if !setup {
		return fiber.ErrNotFound
	}
	form := authForm{Email: strings.TrimSpace(c.FormValue("email"))}
	u, err := w.store.CreateFirstAdmin(form.Email, c.FormValue("password"))
	var ve *models.ValidationError
	switch {
	case models.IsSetupDone(err):
		w.hasUsers.Store(true)
		return fiber.ErrNotFound
	case errors.As(err, &ve):
		form.Error = ve.Error()
		return w.render(c, fiber.StatusBadRequest, "setup", w.newPage(c, "Set up CronPulse", form))
	case err != nil:
		return err
	}
	w.hasUsers.Store(true)
	if _, err := w.sessions.start(c, u); err != nil {
		return err
	}
	w.flash(c, "ok", "Welcome! You are the first admin of this CronPulse.")
	return c.Redirect("/", fiber.StatusSeeOther)
}

func (w *Web) loginForm(c *fiber.Ctx) error {
	if _, u, err := w.sessions.current(c); err != nil || u != nil {
		if err != nil {
			return err
		}
		return c.Redirect(safeNext(c.Query("next")), fiber.StatusSeeOther)
	}
	form := authForm{Next: safeNext(c.Query("next"))}
	return w.render(c, fiber.StatusOK, "login", w.newPage(c, "Sign in", form))
}

// errWrongLogin is the one answer to a wrong e-mail address and a wrong
// password alike, so that the login does not tell which addresses have
// accounts.
const errWrongLogin = "Wrong e-mail address or password."

// login serves POST /login. Attempts count against the client address and
// the account before the password is checked (LoginAttemptsPerMinute
// each); an unknown address costs a password check too, so that timing
// does not tell it apart either.
func (w *Web) login(c *fiber.Ctx) error {
	form := authForm{Email: strings.TrimSpace(c.FormValue("email")), Next: safeNext(c.FormValue("next"))}
	password := c.FormValue("password")
	for _, key := range []string{"addr:" + c.IP(), "account:" + strings.ToLower(form.Email)} {
		if ok, wait := w.logins.allow(key); !ok {
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(math.Ceil(wait.Seconds()))))
			return fiber.NewError(fiber.StatusTooManyRequests,
				"Too many sign-in attempts. Wait a minute, then try again.")
		}
	}
	u, err := w.store.UserByEmail(form.Email)
	switch {
	case models.IsNotFound(err):
		models.WastePasswordCheck(password)
		u = nil
	case err != nil:
		return err
	case !u.CheckPassword(password):
		u = nil
	}
	if u == nil {
		form.Error = errWrongLogin
		return w.render(c, fiber.StatusUnauthorized, "login", w.newPage(c, "Sign in", form))
	}
	if _, err := w.sessions.start(c, u); err != nil {
		return err
	}
	return c.Redirect(form.Next, fiber.StatusSeeOther)
}

// logout serves POST /logout: the session's row is deleted, so the token
// is worthless even if a copy of the cookie survives.
func (w *Web) logout(c *fiber.Ctx) error {
	if err := w.sessions.end(c); err != nil {
		return err
	}
	w.flash(c, "ok", "You have signed out.")
	return c.Redirect("/login", fiber.StatusSeeOther)
}

// safeNext returns next if it is a path of this site ("/…", not "//…",
// which browsers read as another host), else "/".
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") || len(next) > 2000 {
		return "/"
	}
	return strings.Clone(next)
}
