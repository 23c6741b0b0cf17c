package handlers_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/cronpulse/cronpulse/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// adminSnapshot is what the admin pages can change: rows of the tables,
// and the users' roles and keys' revocations.
func (e *env) adminSnapshot() map[string]any {
	e.t.Helper()
	out := map[string]any{}
	for _, table := range []string{"channels", "api_keys", "users", "sessions"} {
		out[table] = e.count(table)
	}
	var revoked, admins int64
	require.NoError(e.t, e.store.DB().Table("api_keys").Where("revoked_at IS NOT NULL").Count(&revoked).Error)
	require.NoError(e.t, e.store.DB().Table("users").Where("role = ?", models.RoleAdmin).Count(&admins).Error)
	var names []string
	require.NoError(e.t, e.store.DB().Table("channels").Order("id").Pluck("name", &names).Error)
	var hashes []string
	require.NoError(e.t, e.store.DB().Table("users").Order("id").Pluck("password_hash", &hashes).Error)
	out["revoked"], out["admins"], out["channel names"], out["hashes"] = revoked, admins, names, hashes
	return out
}

// TestWebAdminPagesByRole: every admin page and POST for every role.
// Visitors go to /login (their POSTs have no token to send: 403), viewers
// and operators get the 403 page and change nothing, admins get the page.
func TestWebAdminPagesByRole(t *testing.T) {
	eachEnv(t, nil, func(t *testing.T, e *env) {
		pid := e.project("Shop")
		chID := e.mustCreate("/channels", `{"projectId":`+quote(pid)+`,"name":"ops","kind":"webhook","config":{"url":"https://example.com/hook"}}`)
		keys, err := e.store.APIKeys()
		require.NoError(t, err)
		keyID := keys[0].ID
		browsers := map[string]*browser{"anonymous": e.browser()}
		tokens := map[string]string{"anonymous": ""}
		users := map[string]*models.User{}
		for _, role := range models.Roles {
			users[role] = e.user(role+"@example.com", role)
			browsers[role], tokens[role] = e.signedIn(users[role])
		}
		victim := e.user("victim@example.com", models.RoleViewer)

		gets := []string{"/channels", "/channels/new?kind=slack", "/channels/new?kind=email", "/channels/" + chID + "/edit",
			"/api-keys", "/api-keys/new", "/users", "/users/new"}
		posts := []struct {
			path string
			form url.Values
		}{
			{"/channels", form("kind", "webhook", "project", pid, "name", "made", "url", "https://example.com/x")},
			{"/channels/" + chID, form("project", pid, "name", "renamed", "url", "https://example.com/hook")},
			{"/channels/" + chID + "/delete", form("confirm", "yes")},
			{"/channels/" + chID + "/test", form()},
			{"/api-keys", form("name", "made", "permission", "*")},
			{"/api-keys/" + keyID + "/revoke", form("confirm", "yes")},
			{"/users", form("email", "new@example.com", "role", "admin", "password", "long enough")},
			{"/users/" + victim.ID + "/role", form("role", "admin")},
			{"/users/" + victim.ID + "/delete", form("confirm", "yes")},
			{"/users/" + users[models.RoleAdmin].ID + "/delete", form("confirm", "yes")},
		}
		before := e.adminSnapshot()
		for _, role := range []string{"anonymous", models.RoleViewer, models.RoleOperator} {
			b := browsers[role]
			for _, path := range gets {
				r := b.get(path)
				if role == "anonymous" {
					assert.Equal(t, http.StatusSeeOther, r.Code, "%s as %s", path, role)
					assert.Equal(t, "/login?next="+url.QueryEscape(path), location(r))
					continue
				}
				assert.Equal(t, http.StatusForbidden, r.Code, "%s as %s", path, role)
				assert.Contains(t, string(r.Body), "Your role ("+role+") may not do this.", path)
				assert.Contains(t, r.Header.Get("Content-Type"), "text/html")
			}
			for _, p := range posts {
				f := url.Values{}
				for k, v := range p.form {
					f[k] = v
				}
				f.Set("_csrf", tokens[role])
				r := b.post(p.path, f)
				assert.Equal(t, http.StatusForbidden, r.Code, "POST %s as %s: %s", p.path, role, r.Body)
			}
		}
		assert.Equal(t, before, e.adminSnapshot(), "refused requests change nothing")

		for _, path := range gets {
			r := browsers[models.RoleAdmin].get(path)
			assert.Equal(t, http.StatusOK, r.Code, "%s as admin: %s", path, r.Body)
		}
		assert.Equal(t, http.StatusNotFound, browsers[models.RoleAdmin].get("/channels/new?kind=sms").Code)
		assert.Equal(t, http.StatusNotFound, browsers[models.RoleAdmin].get("/channels/nope/edit").Code)

		for role, b := range browsers {
			r := b.get("/account")
			if role == "anonymous" {
				assert.Equal(t, "/login?next=%2Faccount", location(r))
				continue
			}
			require.Equal(t, http.StatusOK, r.Code, role)
			body := string(r.Body)
			assert.Contains(t, body, `href="/account"`, role)
			for _, link := range []string{`href="/channels"`, `href="/api-keys"`, `href="/users"`} {
				assert.Equal(t, role == models.RoleAdmin, strings.Contains(body, link), "%s sees %s", role, link)
			}
		}
	})
}

// TestWebAdminCSRF: every admin POST without _csrf, or with another
// session's, is 403 and changes nothing.
func TestWebAdminCSRF(t *testing.T) {
	eachEnv(t, nil, func(t *testing.T, e *env) {
		pid := e.project("Shop")
		chID := e.mustCreate("/channels", `{"projectId":`+quote(pid)+`,"name":"ops","kind":"webhook","config":{"url":"https://example.com/hook"}}`)
		keys, err := e.store.APIKeys()
		require.NoError(t, err)
		admin, _ := e.as(models.RoleAdmin)
		_, otherToken := e.signedIn(e.user("second@example.com", models.RoleAdmin))
		victim := e.user("victim@example.com", models.RoleViewer)
		posts := map[string]url.Values{
			"/channels":                           form("kind", "webhook", "project", pid, "name", "made", "url", "https://example.com/x"),
			"/channels/" + chID:                   form("project", pid, "name", "renamed", "url", "https://example.com/hook"),
			"/channels/" + chID + "/delete":       form("confirm", "yes"),
			"/api-keys":                           form("name", "made", "permission", "*"),
			"/api-keys/" + keys[0].ID + "/revoke": form("confirm", "yes"),
			"/users":                              form("email", "new@example.com", "role", "admin", "password", "long enough"),
			"/users/" + victim.ID + "/role":       form("role", "admin"),
			"/users/" + victim.ID + "/delete":     form("confirm", "yes"),
			"/account/password":                   form("current_password", "password123", "new_password", "brand new pass"),
		}
		before := e.adminSnapshot()
		for path, f := range posts {
			r := admin.post(path, f)
			assert.Equal(t, http.StatusForbidden, r.Code, "POST %s without _csrf", path)
			assert.Contains(t, string(r.Body), "This form has expired")
			f.Set("_csrf", otherToken)
			r = admin.post(path, f)
			assert.Equal(t, http.StatusForbidden, r.Code, "POST %s with another session's token", path)
		}
		assert.Equal(t, before, e.adminSnapshot())
	})
}

var keyPattern = regexp.MustCompile(`cpk_[0-9A-Za-z]{32}`)

func TestWebAPIKeys(t *testing.T) {
	eachEnv(t, nil, func(t *testing.T, e *env) {
		b, token := e.as(models.RoleAdmin)
		r := b.get("/api-keys/new")
		require.Equal(t, http.StatusOK, r.Code)
		for _, p := range models.Permissions {
			assert.Contains(t, string(r.Body), `name="permission" value="`+p+`"`)
		}
		assert.Contains(t, string(r.Body), `<label for="key-name"`)

		e.run(t, "validation keeps what was typed", func(t *testing.T) {
			keys := e.count("api_keys")
			r := b.post("/api-keys", form("_csrf", token, "name", "deploy <script>", "permission", "write:jobs", "permission", "nope"))
			assert.Equal(t, http.StatusBadRequest, r.Code)
			body := string(r.Body)
			assert.Contains(t, body, `id="key-permissions-error"`)
			assert.Contains(t, body, `unknown permission &#34;nope&#34;`)
			assert.Contains(t, body, `value="deploy &lt;script&gt;"`, "the name typed, escaped")
			assert.Regexp(t, `value="write:jobs" checked`, body)
			assert.NotRegexp(t, `value="read:jobs" checked`, body)
			r = b.post("/api-keys", form("_csrf", token, "name", " ", "permission", "read:jobs"))
			assert.Equal(t, http.StatusBadRequest, r.Code)
			assert.Contains(t, string(r.Body), `id="key-name-error"`)
			r = b.post("/api-keys", form("_csrf", token, "name", "none"))
			assert.Contains(t, string(r.Body), "at least one of")
			assert.Equal(t, keys, e.count("api_keys"))
		})

		var secret, id string
		e.run(t, "the key is shown once", func(t *testing.T) {
			r := b.post("/api-keys", form("_csrf", token, "name", "deploy", "permission", "read:jobs", "permission", "write:jobs"))
			require.Equal(t, http.StatusCreated, r.Code, "%s", r.Body)
			body := string(r.Body)
			m := regexp.MustCompile(`<input id="new-api-key" class="copy-input" readonly value="(cpk_[0-9A-Za-z]{32})"`).FindStringSubmatch(body)
			require.NotNil(t, m, body)
			secret = m[1]
			assert.Contains(t, body, `data-copy="`+secret+`"`)
			assert.Contains(t, r.Header.Get("Cache-Control"), "no-store")
			assert.Regexp(t, `<script src="/static/app\.js\?v=[0-9a-f]+" defer>`, body)
			k, err := e.store.APIKeyByPrefix(models.KeyPrefix(secret))
			require.NoError(t, err)
			id = k.ID
			assert.Equal(t, []string{"read:jobs", "write:jobs"}, k.PermissionList())
			assert.Equal(t, http.StatusOK, e.do("GET", "/api/v1/jobs", secret, "").Code, "the key works")

			list := string(b.get("/api-keys").Body)
			assert.NotContains(t, list, secret, "the list never shows it again")
			assert.Empty(t, keyPattern.FindAllString(list, -1), "nor any key")
			assert.Contains(t, list, k.Prefix+"…")
			assert.Contains(t, list, "read:jobs, write:jobs")
			assert.Contains(t, list, `data-key-id="`+id+`"`)
		})

		e.run(t, "revoke asks first", func(t *testing.T) {
			r := b.post("/api-keys/"+id+"/revoke", form("_csrf", token))
			require.Equal(t, http.StatusOK, r.Code)
			assert.Contains(t, string(r.Body), `name="confirm" value="yes"`)
			assert.Contains(t, string(r.Body), `action="/api-keys/`+id+`/revoke"`)
			assert.Equal(t, http.StatusOK, e.do("GET", "/api/v1/jobs", secret, "").Code, "not revoked yet")
			r = b.post("/api-keys/"+id+"/revoke", form("_csrf", token, "confirm", "yes"))
			assert.Equal(t, http.StatusSeeOther, r.Code)
			assert.Equal(t, "/api-keys", location(r))
			assert.Equal(t, http.StatusUnauthorized, e.do("GET", "/api/v1/jobs", secret, "").Code, "revoked")
			list := string(b.get("/api-keys").Body)
			assert.Contains(t, list, "Revoked deploy")
			assert.Regexp(t, `data-key-id="`+id+`" class="revoked"`, list)
			assert.Equal(t, http.StatusNotFound, b.post("/api-keys/nope/revoke", form("_csrf", token)).Code)
		})
	})
}
