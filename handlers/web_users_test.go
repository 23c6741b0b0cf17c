package handlers_test

import (
	"net/http"
	"regexp"
	"testing"

	"github.com/cronpulse/cronpulse/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// flashOn returns the flash message a GET of path shows ("" for none).
func flashOn(t *testing.T, b *browser, path string) string {
	t.Helper()
	m := regexp.MustCompile(`<p class="flash flash-\w+"[^>]*>([^<]*)</p>`).FindStringSubmatch(string(b.get(path).Body))
	if m == nil {
		return ""
	}
	return m[1]
}

func TestWebUsers(t *testing.T) {
	eachEnv(t, nil, func(t *testing.T, e *env) {
		root := e.user("root@example.com", models.RoleAdmin)
		b, token := e.signedIn(root)

		e.run(t, "list", func(t *testing.T) {
			e.user("viewer@example.com", models.RoleViewer)
			r := b.get("/users")
			require.Equal(t, http.StatusOK, r.Code)
			body := string(r.Body)
			assert.Contains(t, body, `data-user-id="`+root.ID+`"`)
			assert.Contains(t, body, "root@example.com <span class=\"hint\">(you)</span>")
			assert.Contains(t, body, "viewer@example.com")
			assert.Regexp(t, `<option value="viewer" selected>viewer</option>`, body)
			assert.NotContains(t, body, root.PasswordHash)
			assert.Contains(t, body, `<time datetime="`)
		})

		e.run(t, "invite: errors keep what was typed, never the password", func(t *testing.T) {
			n := e.count("users")
			r := b.post("/users", withCSRF(token, "email", "new@example.com", "role", "operator", "password", "short"))
			assert.Equal(t, http.StatusBadRequest, r.Code)
			body := string(r.Body)
			assert.Contains(t, body, `id="user-password-error"`)
			assert.Contains(t, body, "must be at least 8 characters")
			assert.Contains(t, body, `value="new@example.com"`)
			assert.Contains(t, body, `<option value="operator" selected>`)
			assert.NotContains(t, body, `value="short"`)
			r = b.post("/users", withCSRF(token, "email", "not an address", "role", "operator", "password", "long enough"))
			assert.Contains(t, string(r.Body), `id="user-email-error"`)
			r = b.post("/users", withCSRF(token, "email", "x@example.com", "role", "boss", "password", "long enough"))
			assert.Contains(t, string(r.Body), `id="user-role-error"`)
			r = b.post("/users", withCSRF(token, "email", "Viewer@example.com", "role", "viewer", "password", "long enough"))
			assert.Equal(t, http.StatusBadRequest, r.Code)
			assert.Contains(t, string(r.Body), "a user with this address exists already")
			assert.Equal(t, n, e.count("users"))

			r = b.post("/users", withCSRF(token, "email", "new@example.com", "role", "operator", "password", "long enough"))
			require.Equal(t, http.StatusSeeOther, r.Code, "%s", r.Body)
			assert.Equal(t, "/users", location(r))
			u, err := e.store.UserByEmail("new@example.com")
			require.NoError(t, err)
			assert.Equal(t, models.RoleOperator, u.Role)
			assert.True(t, u.CheckPassword("long enough"))
			assert.Contains(t, flashOn(t, b, "/users"), "User new@example.com created as operator.")
			// The new user signs in with it.
			nb := e.browser()
			login := nb.get("/login")
			r = nb.post("/login", withCSRF(csrfOf(t, login), "email", "new@example.com", "password", "long enough"))
			assert.Equal(t, http.StatusSeeOther, r.Code)
			assert.Equal(t, http.StatusOK, nb.get("/").Code)
		})

		e.run(t, "the last admin stays", func(t *testing.T) {
			r := b.post("/users/"+root.ID+"/role", withCSRF(token, "role", "viewer"))
			assert.Equal(t, http.StatusSeeOther, r.Code)
			assert.Contains(t, flashOn(t, b, "/users"), "Not changed: this is the last admin: make another user admin first.")
			r = b.post("/users/"+root.ID+"/delete", withCSRF(token, "confirm", "yes"))
			assert.Equal(t, http.StatusSeeOther, r.Code)
			assert.Contains(t, flashOn(t, b, "/users"), "Not removed: this is the last admin")
			got, err := e.store.User(root.ID)
			require.NoError(t, err)
			assert.Equal(t, models.RoleAdmin, got.Role)
			assert.EqualValues(t, 1, e.sessionsOf(root.ID), "still signed in")
		})

		e.run(t, "change a role", func(t *testing.T) {
			u, err := e.store.UserByEmail("new@example.com")
			require.NoError(t, err)
			r := b.post("/users/"+u.ID+"/role", withCSRF(token, "role", "admin"))
			assert.Equal(t, http.StatusSeeOther, r.Code)
			assert.Contains(t, flashOn(t, b, "/users"), "new@example.com is now admin.")
			got, err := e.store.User(u.ID)
			require.NoError(t, err)
			assert.Equal(t, models.RoleAdmin, got.Role)
			assert.Equal(t, http.StatusBadRequest, b.post("/users/"+u.ID+"/role", withCSRF(token, "role", "boss")).Code)
			nb, nbToken := e.signedIn(got)
			r = nb.post("/users/"+u.ID+"/role", withCSRF(nbToken, "role", "operator"))
			assert.Equal(t, "/", location(r), "an admin who steps down lands on a page they may see")
			assert.Contains(t, flashOn(t, nb, "/"), "new@example.com is now operator.")
			_, err = e.store.SetUserRole(u.ID, models.RoleAdmin)
			require.NoError(t, err)
			assert.Equal(t, http.StatusNotFound, b.post("/users/nope/role", withCSRF(token, "role", "viewer")).Code)
		})

		e.run(t, "remove asks first and signs the user out", func(t *testing.T) {
			u, err := e.store.UserByEmail("viewer@example.com")
			require.NoError(t, err)
			vb, _ := e.signedIn(u)
			require.Equal(t, http.StatusOK, vb.get("/").Code)
			r := b.post("/users/"+u.ID+"/delete", withCSRF(token))
			require.Equal(t, http.StatusOK, r.Code)
			assert.Contains(t, string(r.Body), `action="/users/`+u.ID+`/delete"`)
			assert.Contains(t, string(r.Body), `name="confirm" value="yes"`)
			_, err = e.store.User(u.ID)
			require.NoError(t, err, "not yet")
			r = b.post("/users/"+u.ID+"/delete", withCSRF(token, "confirm", "yes"))
			assert.Equal(t, http.StatusSeeOther, r.Code)
			_, err = e.store.User(u.ID)
			assert.True(t, models.IsNotFound(err))
			assert.Zero(t, e.sessionsOf(u.ID), "their sessions went with them")
			assert.Equal(t, http.StatusSeeOther, vb.get("/").Code, "signed out")
			assert.Equal(t, http.StatusNotFound, b.post("/users/"+u.ID+"/delete", withCSRF(token, "confirm", "yes")).Code)
		})
	})
}

// sessionsOf counts the sessions of user id.
func (e *env) sessionsOf(id string) int64 {
	e.t.Helper()
	var n int64
	require.NoError(e.t, e.store.DB().Table("sessions").Where("user_id = ?", id).Count(&n).Error)
	return n
}

func TestWebAccountPassword(t *testing.T) {
	eachEnv(t, nil, func(t *testing.T, e *env) {
		u := e.user("op@example.com", models.RoleOperator)
		b, token := e.signedIn(u)
		other, _ := e.signedIn(u)
		bystander, _ := e.as(models.RoleViewer)

		r := b.get("/account")
		require.Equal(t, http.StatusOK, r.Code)
		for _, id := range []string{"current-password", "new-password"} {
			assert.Contains(t, string(r.Body), `<label for="`+id+`"`)
		}
		assert.Contains(t, string(r.Body), `id="account-email">op@example.com<`)

		r = b.post("/account/password", withCSRF(token, "current_password", "wrong", "new_password", "brand new pass"))
		assert.Equal(t, http.StatusBadRequest, r.Code)
		assert.Contains(t, string(r.Body), `id="current-password-error"`)
		assert.NotContains(t, string(r.Body), "brand new pass", "passwords are never typed back")
		r = b.post("/account/password", withCSRF(token, "current_password", "password123", "new_password", "short"))
		assert.Equal(t, http.StatusBadRequest, r.Code)
		assert.Contains(t, string(r.Body), `id="new-password-error"`)
		assert.Contains(t, string(r.Body), "must be at least 8 characters")
		got, err := e.store.User(u.ID)
		require.NoError(t, err)
		assert.True(t, got.CheckPassword("password123"), "refused changes change nothing")
		assert.Equal(t, http.StatusOK, other.get("/").Code, "and sign nobody out")

		oldCookie := b.cookies["cronpulse_session"]
		r = b.post("/account/password", withCSRF(token, "current_password", "password123", "new_password", "brand new pass"))
		require.Equal(t, http.StatusSeeOther, r.Code, "%s", r.Body)
		assert.Equal(t, "/account", location(r))
		got, err = e.store.User(u.ID)
		require.NoError(t, err)
		assert.True(t, got.CheckPassword("brand new pass"))
		assert.NotEqual(t, oldCookie, b.cookies["cronpulse_session"], "the session is rotated")
		page := b.get("/account")
		require.Equal(t, http.StatusOK, page.Code, "this browser stays signed in")
		assert.Contains(t, string(page.Body), "Password changed. Your other sessions were signed out.")
		assert.NotEqual(t, token, csrfOf(t, page), "with a new CSRF token")
		assert.Equal(t, http.StatusSeeOther, other.get("/").Code, "the other session is signed out")
		stale := e.browser()
		stale.cookies["cronpulse_session"] = oldCookie
		assert.Equal(t, http.StatusSeeOther, stale.get("/").Code, "the old token signs nobody in")
		assert.Equal(t, http.StatusOK, bystander.get("/").Code, "other users stay signed in")
		assert.EqualValues(t, 1, e.sessionsOf(u.ID))
	})
}
