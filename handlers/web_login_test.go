package handlers_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cronpulse/cronpulse/app"
	"github.com/cronpulse/cronpulse/handlers"
	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// clockEnvs runs fn on every database with an env whose clock the test
// moves.
func clockEnvs(t *testing.T, tune func(*app.Config), fn func(t *testing.T, e *env, now *time.Time)) {
	t.Helper()
	modelstest.Run(t, func(t *testing.T, db modelstest.Database) {
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		fn(t, newEnvAt(t, db, tune, func() time.Time { return now }), &now)
	})
}

// login posts the login form from b's login page.
func (b *browser) login(email, password string) response {
	b.e.t.Helper()
	page := b.get("/login")
	require.Equal(b.e.t, http.StatusOK, page.Code, "%s", page.Body)
	return b.post("/login", form("email", email, "password", password, "_csrf", csrfOf(b.e.t, page)))
}

func TestWebLoginSessions(t *testing.T) {
	clockEnvs(t, func(c *app.Config) { c.SessionTTL = time.Hour }, func(t *testing.T, e *env, now *time.Time) {
		u := e.user("ada@example.com", models.RoleOperator)
		b := e.browser()

		e.run(t, "wrong e-mail and wrong password get the same answer", func(t *testing.T) {
			wrongEmail := b.login("nobody@example.com", "password123")
			wrongPassword := b.login("ada@example.com", "password124")
			for _, r := range []response{wrongEmail, wrongPassword} {
				assert.Equal(t, http.StatusUnauthorized, r.Code)
				assert.Contains(t, string(r.Body), "Wrong e-mail address or password.")
			}
			strip := func(r response) string { return csrfField.ReplaceAllString(string(r.Body), "") }
			assert.Equal(t, strings.ReplaceAll(strip(wrongEmail), "nobody@example.com", "X"),
				strings.ReplaceAll(strip(wrongPassword), "ada@example.com", "X"), "the pages differ only in the address typed")
			assert.Zero(t, e.count("sessions"))
		})

		var first string
		e.run(t, "login makes a session: cookie flags, hashed token", func(t *testing.T) {
			r := b.login("ADA@example.com", "password123")
			require.Equal(t, http.StatusSeeOther, r.Code, "%s", r.Body)
			assert.Equal(t, "/", location(r))
			var cookie *http.Cookie
			for _, c := range (&http.Response{Header: r.Header}).Cookies() {
				if c.Name == handlers.SessionCookie {
					cookie = c
				}
			}
			require.NotNil(t, cookie)
			assert.True(t, cookie.HttpOnly)
			assert.Equal(t, http.SameSiteLaxMode, cookie.SameSite)
			assert.False(t, cookie.Secure, "BASE_URL is http here")
			first = cookie.Value
			assert.EqualValues(t, 1, e.count("sessions"))
			var stored int64
			require.NoError(t, e.store.DB().Table("sessions").Where("token_hash = ?", first).Count(&stored).Error)
			assert.Zero(t, stored, "the table holds a hash of the token, not the token")
			assert.Equal(t, http.StatusOK, b.get("/").Code)
		})

		e.run(t, "signing in again rotates the session", func(t *testing.T) {
			// A signed-in browser's forms carry its session's token.
			page := b.get("/")
			r := b.post("/login", form("email", "ada@example.com", "password", "password123", "_csrf", csrfOf(t, page)))
			require.Equal(t, http.StatusSeeOther, r.Code)
			assert.NotEqual(t, first, b.cookies[handlers.SessionCookie])
			assert.EqualValues(t, 1, e.count("sessions"), "the old row is deleted")
			old := e.browser()
			old.cookies[handlers.SessionCookie] = first
			assert.Equal(t, http.StatusSeeOther, old.get("/").Code, "the old token signs nobody in")
		})

		e.run(t, "sliding expiry", func(t *testing.T) {
			*now = now.Add(50 * time.Minute)
			r := b.get("/")
			require.Equal(t, http.StatusOK, r.Code, "used within the TTL: extended")
			slid := false
			for _, c := range (&http.Response{Header: r.Header}).Cookies() {
				if c.Name == handlers.SessionCookie {
					slid = true
					assert.Equal(t, now.Add(time.Hour).Unix(), c.Expires.Unix(), "the cookie slides with the session")
				}
			}
			assert.True(t, slid, "the cookie is set again with the new expiry")
			*now = now.Add(50 * time.Minute)
			require.Equal(t, http.StatusOK, b.get("/").Code, "100 minutes after sign-in, 50 after the last use")
			*now = now.Add(time.Hour)
			r = b.get("/")
			assert.Equal(t, http.StatusSeeOther, r.Code, "an hour unused: expired")
			assert.True(t, strings.HasPrefix(location(r), "/login"))
			assert.EqualValues(t, 1, e.count("sessions"), "the expired row waits for pruning")
			_, err := e.store.CreateUser("other@example.com", "password123", models.RoleViewer)
			require.NoError(t, err)
			require.Equal(t, http.StatusSeeOther, e.browser().login("other@example.com", "password123").Code)
			assert.EqualValues(t, 1, e.count("sessions"), "a login prunes expired sessions")
		})

		e.run(t, "logout deletes the row", func(t *testing.T) {
			b2, token := e.signedIn(u)
			n := e.count("sessions")
			r := b2.post("/logout", form())
			assert.Equal(t, http.StatusForbidden, r.Code, "logout needs the CSRF token too")
			assert.Equal(t, n, e.count("sessions"))
			cookie := b2.cookies[handlers.SessionCookie]
			r = b2.post("/logout", form("_csrf", token))
			require.Equal(t, http.StatusSeeOther, r.Code)
			assert.Equal(t, "/login", location(r))
			assert.Equal(t, n-1, e.count("sessions"))
			assert.Empty(t, b2.cookies[handlers.SessionCookie], "the cookie is cleared")
			replay := e.browser()
			replay.cookies[handlers.SessionCookie] = cookie
			assert.Equal(t, http.StatusSeeOther, replay.get("/").Code, "a copy of the cookie is worthless")
		})

		e.run(t, "next is followed only within the site", func(t *testing.T) {
			for next, want := range map[string]string{"/?status=down": "/?status=down", "//evil.example": "/", "https://evil.example/": "/"} {
				page := e.browser()
				p := page.get("/login?next=" + url.QueryEscape(next))
				r := page.post("/login", form("email", "ada@example.com", "password", "password123", "next", next, "_csrf", csrfOf(t, p)))
				assert.Equal(t, want, location(r), next)
			}
		})
	})
}

// clientFrom returns an HTTP client whose connections come from the
// loopback address ip (127.0.0.x), so that a server sees distinct clients.
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{
		Transport:     &http.Transport{DialContext: func(ctx context.Context, n, a string) (net.Conn, error) { return d.DialContext(ctx, n, a) }},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// tryLogin posts one login from client, with a pre-session token of its
// own making (the double-submit cookie needs only to match the field).
func tryLogin(t *testing.T, client *http.Client, base, email string) (int, string) {
	t.Helper()
	token := strings.Repeat("t", 43)
	req, err := http.NewRequest("POST", base+"/login", strings.NewReader(form("email", email, "password", "wrong password", "_csrf", token).Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: "cronpulse_csrf", Value: token})
	res, err := client.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode == http.StatusTooManyRequests {
		assert.NotEmpty(t, res.Header.Get("Retry-After"))
	}
	return res.StatusCode, string(body)
}

func TestWebLoginRateLimits(t *testing.T) {
	clockEnvs(t, nil, func(t *testing.T, e *env, now *time.Time) {
		e.user("ada@example.com", models.RoleViewer)
		base := e.listen(t)
		a, b, c := clientFrom("127.0.0.2"), clientFrom("127.0.0.3"), clientFrom("127.0.0.4")

		e.run(t, "per client address", func(t *testing.T) {
			for i := range handlers.LoginAttemptsPerMinute {
				code, _ := tryLogin(t, a, base, "user"+string(rune('a'+i))+"@example.com")
				require.Equal(t, http.StatusUnauthorized, code, "attempt %d", i+1)
			}
			code, body := tryLogin(t, a, base, "someone-else@example.com")
			assert.Equal(t, http.StatusTooManyRequests, code)
			assert.Contains(t, body, "Too many sign-in attempts")
			assert.Contains(t, body, "<main", "an HTML page")
			code, _ = tryLogin(t, b, base, "someone-else@example.com")
			assert.Equal(t, http.StatusUnauthorized, code, "another address may still try")
			*now = now.Add(time.Minute)
			code, _ = tryLogin(t, a, base, "someone-else@example.com")
			assert.Equal(t, http.StatusUnauthorized, code, "allowed again after the minute")
		})

		e.run(t, "per account", func(t *testing.T) {
			*now = now.Add(time.Minute)
			clients := []*http.Client{a, b, c, a, b}
			for i, cl := range clients {
				code, _ := tryLogin(t, cl, base, "ada@example.com")
				require.Equal(t, http.StatusUnauthorized, code, "attempt %d", i+1)
			}
			code, _ := tryLogin(t, c, base, "ADA@example.com")
			assert.Equal(t, http.StatusTooManyRequests, code, "the account is limited whatever the address")
			code, _ = tryLogin(t, c, base, "other@example.com")
			assert.Equal(t, http.StatusUnauthorized, code, "another account from that address may try")
			*now = now.Add(time.Minute)
			code, _ = tryLogin(t, c, base, "ada@example.com")
			assert.Equal(t, http.StatusUnauthorized, code)
		})
	})
}
