package handlers_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cronpulse/cronpulse/handlers"
	"github.com/cronpulse/cronpulse/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// browser is a client of one env's dashboard that keeps its cookies, as a
// browser does.
type browser struct {
	e       *env
	cookies map[string]string
}

func (e *env) browser() *browser { return &browser{e: e, cookies: map[string]string{}} }

// do sends one request with the browser's cookies; a non-nil form is sent
// form-encoded. headers are name, value pairs.
func (b *browser) do(method, path string, form url.Values, headers ...string) response {
	b.e.t.Helper()
	if form == nil {
		return b.doRaw(method, path, "", headers...)
	}
	return b.doRaw(method, path, form.Encode(), append([]string{"Content-Type", "application/x-www-form-urlencoded"}, headers...)...)
}

// doRaw sends body ("" for none) with the browser's cookies.
func (b *browser) doRaw(method, path, body string, headers ...string) response {
	b.e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	for name, value := range b.cookies {
		req.AddCookie(&http.Cookie{Name: name, Value: value})
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := b.e.app.Test(req, -1)
	require.NoError(b.e.t, err)
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	require.NoError(b.e.t, err)
	b.keep(res.Cookies())
	return response{Code: res.StatusCode, Header: res.Header, Body: out}
}

// keep stores set cookies and forgets cleared ones.
func (b *browser) keep(cookies []*http.Cookie) {
	for _, c := range cookies {
		if c.Value == "" || (!c.Expires.IsZero() && c.Expires.Before(time.Unix(1, 0))) || c.MaxAge < 0 {
			delete(b.cookies, c.Name)
			continue
		}
		b.cookies[c.Name] = c.Value
	}
}

func (b *browser) get(path string, headers ...string) response {
	b.e.t.Helper()
	return b.do("GET", path, nil, headers...)
}

func (b *browser) post(path string, form url.Values, headers ...string) response {
	b.e.t.Helper()
	return b.do("POST", path, form, headers...)
}

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// csrf returns the CSRF token of the forms of a page.
func csrfOf(t testing.TB, r response) string {
	t.Helper()
	m := csrfField.FindSubmatch(r.Body)
	require.NotNil(t, m, "the page has a form with _csrf: %s", r.Body)
	return string(m[1])
}

// form builds url.Values from name, value pairs.
func form(pairs ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(pairs); i += 2 {
		v.Add(pairs[i], pairs[i+1])
	}
	return v
}

// user creates a dashboard user with the password "password123".
func (e *env) user(email, role string) *models.User {
	e.t.Helper()
	u, err := e.store.CreateUser(email, "password123", role)
	require.NoError(e.t, err)
	return u
}

// signedIn returns a browser signed in as u (its session made in the
// store, as a login would), and the session's CSRF token.
func (e *env) signedIn(u *models.User) (*browser, string) {
	e.t.Helper()
	sess, token, err := e.store.CreateSession(u.ID, e.cfg.SessionTTL)
	require.NoError(e.t, err)
	b := e.browser()
	b.cookies[handlers.SessionCookie] = token
	return b, sess.CSRFToken
}

// as returns a browser signed in as a new user of role.
func (e *env) as(role string) (*browser, string) {
	e.t.Helper()
	return e.signedIn(e.user(role+"@example.com", role))
}

// location is the redirect target of r.
func location(r response) string { return r.Header.Get("Location") }

func TestWebSetupOnce(t *testing.T) {
	eachEnv(t, nil, func(t *testing.T, e *env) {
		b := e.browser()
		for _, path := range []string{"/", "/login", "/?status=down"} {
			r := b.get(path)
			assert.Equal(t, http.StatusSeeOther, r.Code, path)
			assert.Equal(t, "/setup", location(r), "%s goes to setup while there is no user", path)
		}
		r := b.get("/setup")
		require.Equal(t, http.StatusOK, r.Code)
		for _, field := range []string{`name="email"`, `name="password"`, `name="_csrf"`, `<label for="email"`, `<label for="password"`} {
			assert.Contains(t, string(r.Body), field)
		}
		token := csrfOf(t, r)

		r = b.post("/setup", form("email", "root@example.com", "password", "long enough"))
		assert.Equal(t, http.StatusForbidden, r.Code, "no _csrf")
		r = b.post("/setup", form("email", "root@example.com", "password", "long enough", "_csrf", token+"x"))
		assert.Equal(t, http.StatusForbidden, r.Code, "a wrong _csrf")
		other := e.browser()
		other.cookies["cronpulse_csrf"] = strings.Repeat("a", 43)
		r = other.post("/setup", form("email", "root@example.com", "password", "long enough", "_csrf", token))
		assert.Equal(t, http.StatusForbidden, r.Code, "another browser's token")
		assert.Zero(t, e.count("users"), "refused setups create nobody")

		r = b.post("/setup", form("email", "root@example.com", "password", "short", "_csrf", token))
		assert.Equal(t, http.StatusBadRequest, r.Code)
		assert.Contains(t, string(r.Body), "password: must be at least 8 characters")
		assert.Zero(t, e.count("users"))

		r = b.post("/setup", form("email", "root@example.com", "password", "long enough", "_csrf", token))
		require.Equal(t, http.StatusSeeOther, r.Code, "%s", r.Body)
		assert.Equal(t, "/", location(r))
		u, err := e.store.UserByEmail("root@example.com")
		require.NoError(t, err)
		assert.Equal(t, models.RoleAdmin, u.Role)
		assert.EqualValues(t, 1, e.count("sessions"), "setup signs the admin in")
		r = b.get("/")
		assert.Equal(t, http.StatusOK, r.Code)
		assert.Contains(t, string(r.Body), "Welcome! You are the first admin")

		for _, br := range []*browser{b, e.browser()} {
			r = br.get("/setup")
			assert.Equal(t, http.StatusNotFound, r.Code)
			assert.Contains(t, r.Header.Get("Content-Type"), "text/html")
			r = br.post("/setup", form("email", "second@example.com", "password", "long enough", "_csrf", token))
			assert.NotEqual(t, http.StatusSeeOther, r.Code)
		}
		assert.EqualValues(t, 1, e.count("users"), "setup creates one user, once")
		r = e.browser().get("/")
		assert.Equal(t, http.StatusSeeOther, r.Code)
		assert.Equal(t, "/login?next=%2F", location(r))
	})
}

func TestWebSecurityHeadersAndErrorPages(t *testing.T) {
	e := newEnv(t, sqliteOnly(t), nil)
	b, _ := e.as(models.RoleViewer)
	for _, path := range []string{"/", "/login", "/no/such/page", "/static/app.css"} {
		r := b.get(path)
		h := r.Header
		csp := h.Get("Content-Security-Policy")
		for _, d := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "frame-ancestors 'none'", "form-action 'self'"} {
			assert.Contains(t, csp, d, path)
		}
		assert.NotContains(t, csp, "unsafe-inline", path)
		assert.Equal(t, "DENY", h.Get("X-Frame-Options"), path)
		assert.Equal(t, "same-origin", h.Get("Referrer-Policy"), path)
		assert.Equal(t, "nosniff", h.Get("X-Content-Type-Options"), path)
	}
	r := b.get("/no/such/page")
	assert.Equal(t, http.StatusNotFound, r.Code)
	assert.Contains(t, r.Header.Get("Content-Type"), "text/html")
	assert.Contains(t, string(r.Body), "There is no page at this address.")
	assert.Contains(t, string(r.Body), "<main")

	// The API keeps its JSON errors, with or without a session.
	r = b.get("/api/v1/no-such-route")
	assert.Equal(t, http.StatusNotFound, r.Code)
	assert.Contains(t, r.Error(t), "no such API route")
	assert.Empty(t, r.Header.Get("Content-Security-Policy"))
	r = e.do("GET", "/api/v1/jobs", "", "")
	assert.Equal(t, http.StatusUnauthorized, r.Code)
	r.Error(t)

	// Static files: a versioned URL is cached for a year.
	page := string(b.get("/").Body)
	css := regexp.MustCompile(`href="(/static/app\.css\?v=[0-9a-f]+)"`).FindStringSubmatch(page)
	require.NotNil(t, css, page)
	r = b.get(css[1])
	assert.Equal(t, http.StatusOK, r.Code)
	assert.Contains(t, r.Header.Get("Content-Type"), "text/css")
	assert.Contains(t, r.Header.Get("Cache-Control"), "max-age=31536000")
	js := regexp.MustCompile(`<script src="(/static/app\.js\?v=[0-9a-f]+)" defer></script>`).FindStringSubmatch(page)
	require.NotNil(t, js, "the overview loads app.js from a file, no inline script")
	assert.NotRegexp(t, `<script>|<script [^s]|style="`, page, "nothing inline")
	r = b.get(js[1])
	assert.Contains(t, r.Header.Get("Content-Type"), "javascript")
	assert.Contains(t, string(r.Body), "Part of CronPulse")
	assert.Equal(t, http.StatusNotFound, b.get("/static/nope.css").Code)
}
