package handlers

// The dashboard: server-rendered pages from views/, usable without
// JavaScript. How to add a page:
//
//   - Template. views/NAME.html defines {{define "content"}}…{{end}} (and
//     may define "head" for extra <head> lines). views/layout.html wraps it:
//     <header> with the nav and the sign-out form, the flash messages, <main>
//     holding "content", a <footer>. Every page file is parsed into its own
//     copy of the layout at start (parsePages), so each may define "content"
//     and a template error stops the program at once, not a request later.
//   - Page data. Every template gets a Page (newPage): .Title, .User
//     (*models.User, nil before sign-in), .Role, .CSRF (put it in every form
//     as <input type="hidden" name="_csrf" value="{{.CSRF}}">), .Flash, .Nav
//     (the current nav entry) and .Data (the page's own data). {{if .Can
//     "write:jobs"}} shows a control only to roles that may use it.
//   - Render. w.render(c, status, "NAME", page) executes the page;
//     w.renderBlock(c, status, "NAME", "BLOCK", page) one block of it (the
//     overview's partial refresh). w.flash(c, "ok"|"error", msg) before a
//     redirect shows msg on the next page. Errors returned by a handler
//     become the HTML error page (403, 404, 429, …) in w.pages.
//   - Routes and guards. Register a route in Register on the dashboard
//     group: w.signedIn sends visitors to /login, then w.require(perm)
//     answers a 403 page unless the user's role holds perm (the API's
//     permissions: models.PermReadJobs, PermWriteJobs, PermAll for admin
//     pages). Unsafe methods pass w.csrf first: the form's _csrf (or an
//     X-CSRF-Token header) must match the session's token. Handlers read
//     the user with webUser(c).
//   - Template functions (templateFuncs, documented in web_funcs.go):
//     thousands, statusIcon, rel, datetime, asset, pct, share, ms.
//   - Static files: views/static/*, served at /static/NAME?v=VERSION (a hash
//     of the file; {{asset "app.css"}} writes the URL), cached for a year.
//
// Every dashboard response carries the security headers of securityHeaders
// (a CSP allowing only this site's scripts, styles and images, and no
// framing).

import (
	"bytes"
	"html/template"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/views"
	"github.com/gofiber/fiber/v2"
)

// Web serves the dashboard. Build it with NewWeb and mount it with
// Register, after every other route (its error pages catch what no other
// route answered).
type Web struct {
	store    *models.Store
	sessions *Sessions
	log      *slog.Logger
	now      func() time.Time
	hooks    JobHooks
	baseURL  string        // BASE_URL, for ping URLs
	channels ChannelTester // sends the channels page's test messages; nil: none
	pages    map[string]*template.Template
	assets   assets
	// logins limits sign-in attempts per client address and per account.
	logins *rateLimiter
	// hasUsers is set once a user is known to exist: from then on no page
	// asks the database whether setup is needed.
	hasUsers atomic.Bool
}

// WebOptions configures NewWeb.
type WebOptions struct {
	Store    *models.Store
	Sessions *Sessions
	Log      *slog.Logger
	Now      func() time.Time // nil: time.Now
	Hooks    JobHooks         // told of bulk pauses, resumes, edits and deletions, as through the API
	BaseURL  string           // BASE_URL without a trailing slash: the job page shows ping URLs under it
	Channels ChannelTester    // sends test messages (the API's); nil: "send test" answers 503
}

// LoginAttemptsPerMinute is how many sign-ins a client address, and an
// account, may try per minute before the login answers 429.
const LoginAttemptsPerMinute = 5

// NewWeb parses the templates and builds the dashboard. A template that
// does not parse is a build defect: NewWeb panics.
func NewWeb(o WebOptions) *Web {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	w := &Web{
		store:    o.Store,
		sessions: o.Sessions,
		log:      o.Log,
		now:      now,
		hooks:    o.Hooks,
		baseURL:  strings.TrimRight(o.BaseURL, "/"),
		channels: o.Channels,
		assets:   loadAssets(),
		logins:   newRateLimiter(LoginAttemptsPerMinute, now),
	}
	w.pages = parsePages(w.templateFuncs())
	return w
}

// parsePages parses every views/*.html page but the layout into a copy of
// the layout.
func parsePages(funcs template.FuncMap) map[string]*template.Template {
	layout := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(views.Files, "layout.html"))
	names, err := views.Pages()
	if err != nil {
		panic("views: " + err.Error())
	}
	pages := map[string]*template.Template{}
	for _, name := range names {
		t := template.Must(template.Must(layout.Clone()).ParseFS(views.Files, name+".html"))
		pages[name] = t
	}
	return pages
}

// Register mounts the dashboard on f.
func (w *Web) Register(f *fiber.App) {
	f.Use(w.pageMiddleware)
	f.Get("/static/:name", w.static)
	f.Use(w.setupGate, w.csrf)
	f.Get("/setup", w.setupForm)
	f.Post("/setup", w.setup)
	f.Get("/login", w.loginForm)
	f.Post("/login", w.login)
	f.Post("/logout", w.logout)
	f.Get("/", w.signedIn, w.require(models.PermReadJobs), w.overview)
	f.Post("/", w.signedIn, w.require(models.PermWriteJobs), w.bulk)
	w.registerJobs(f)
	w.registerProjects(f)
	w.registerStatusPageForm(f)
	w.registerAdmin(f)
}

// isDashboardPath reports whether p is the dashboard's: everything but
// the API, pings, badges, metrics, probes and public status pages, which
// keep their own answers and error formats.
func isDashboardPath(p string) bool {
	for _, prefix := range []string{"/api/", "/ping", "/badge/", "/metrics", "/healthz", "/readyz", "/status/"} {
		if p == strings.TrimSuffix(prefix, "/") || strings.HasPrefix(p, prefix) {
			return false
		}
	}
	return true
}

// pageMiddleware sets the security headers of every dashboard response
// and turns the errors of dashboard handlers (and of paths no route
// answers) into HTML error pages.
func (w *Web) pageMiddleware(c *fiber.Ctx) error {
	if !isDashboardPath(c.Path()) {
		return c.Next()
	}
	securityHeaders(c)
	err := c.Next()
	if err == nil {
		return nil
	}
	return w.errorPage(c, err)
}

// contentSecurityPolicy allows this site's own scripts, styles, images
// (and data: images, for inline SVG), nothing inline, no framing, and
// forms posting only here.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

func securityHeaders(c *fiber.Ctx) {
	c.Set("Content-Security-Policy", contentSecurityPolicy)
	c.Set(fiber.HeaderXFrameOptions, "DENY")
	c.Set(fiber.HeaderReferrerPolicy, "same-origin")
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
}

// errorData is the error page's data.
type errorData struct {
	Code    int
	Message string
}

// errorPage renders err as an HTML page with its status. Like
// ErrorHandler it shows client mistakes' messages and hides internal
// ones, logging those with the request id.
func (w *Web) errorPage(c *fiber.Ctx, err error) error {
	code, msg := classify(err)
	if code == fiber.StatusNotFound && strings.HasPrefix(msg, "Cannot ") { // Fiber's "Cannot GET /x"
		msg = "There is no page at this address."
	}
	if code >= 500 {
		w.log.Error("request failed",
			slog.String("request_id", requestID(c)),
			slog.String("method", c.Method()),
			slog.String("path", c.Path()),
			slog.Int("status", code),
			slog.Any("error", err))
	}
	title := map[int]string{403: "Not allowed", 404: "Not found", 429: "Too many attempts"}[code]
	if title == "" {
		title = "Error " + strconv.Itoa(code)
	}
	p := w.newPage(c, title, errorData{Code: code, Message: msg})
	if rerr := w.render(c, code, "error", p); rerr != nil {
		w.log.Error("render error page", slog.Any("error", rerr))
		c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
		return c.Status(code).SendString(msg)
	}
	return nil
}

// Flash is a one-time message shown on the next page.
type Flash struct {
	Kind    string // "ok" or "error"
	Message string
}

// flashCookie carries a flash message across a redirect.
const flashCookie = "cronpulse_flash"

// flash shows msg on the next page this browser renders.
func (w *Web) flash(c *fiber.Ctx, kind, msg string) {
	c.Cookie(&fiber.Cookie{
		Name: flashCookie, Value: url.QueryEscape(kind + ":" + msg), Path: "/",
		HTTPOnly: true, Secure: w.sessions.secure, SameSite: fiber.CookieSameSiteLaxMode,
	})
}

// takeFlash reads and clears the flash message of the request.
func (w *Web) takeFlash(c *fiber.Ctx) []Flash {
	v := c.Cookies(flashCookie)
	if v == "" {
		return nil
	}
	c.Cookie(&fiber.Cookie{Name: flashCookie, Value: "", Path: "/", Expires: time.Unix(0, 0), HTTPOnly: true,
		Secure: w.sessions.secure, SameSite: fiber.CookieSameSiteLaxMode})
	raw, err := url.QueryUnescape(v)
	if err != nil {
		return nil
	}
	kind, msg, ok := strings.Cut(raw, ":")
	if !ok || (kind != "ok" && kind != "error") || len(msg) > 500 {
		return nil
	}
	return []Flash{{Kind: kind, Message: msg}}
}

// Page is what every dashboard template is executed with.
type Page struct {
	Title string
	User  *models.User // nil before sign-in
	CSRF  string       // the token every form sends back as _csrf
	Flash []Flash
	Nav   string // the current nav entry ("overview", …)
	Data  any    // the page's own data
}

// Can reports whether the signed-in user's role grants perm (false before
// sign-in): templates show a control only when it is true.
func (p Page) Can(perm string) bool { return p.User != nil && p.User.Can(perm) }

// Role is the signed-in user's role, or "".
func (p Page) Role() string {
	if p.User == nil {
		return ""
	}
	return p.User.Role
}

// newPage returns the page data of the request: its user, its CSRF token
// (the session's, or before sign-in the pre-session cookie's) and its
// flash message, with title and data.
func (w *Web) newPage(c *fiber.Ctx, title string, data any) Page {
	p := Page{Title: title, Data: data, Flash: w.takeFlash(c)}
	if sess, ok := c.Locals(sessionLocal).(*models.Session); ok && sess != nil {
		p.User, _ = c.Locals(userLocal).(*models.User)
		p.CSRF = sess.CSRFToken
	} else {
		p.CSRF = w.preSessionToken(c)
	}
	return p
}

// render executes page name with p and sends it with status.
func (w *Web) render(c *fiber.Ctx, status int, name string, p Page) error {
	return w.renderBlock(c, status, name, "layout.html", p)
}

// renderBlock executes one template of page name (its layout.html for the
// whole page, or a block it defines) and sends it with status. The page is
// written to a buffer first, so a template error is a clean 500.
func (w *Web) renderBlock(c *fiber.Ctx, status int, name, block string, p Page) error {
	t, ok := w.pages[name]
	if !ok {
		return fiber.NewError(fiber.StatusInternalServerError, "no page template "+name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, block, p); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(status).Send(buf.Bytes())
}

// webUser returns the signed-in user of a request that passed signedIn.
func webUser(c *fiber.Ctx) *models.User {
	u, _ := c.Locals(userLocal).(*models.User)
	return u
}
