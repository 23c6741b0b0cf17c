package handlers_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/cronpulse/cronpulse/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWebPagesByRole walks every dashboard page for every role: the
// status code, and that controls the role may not use are not shown.
func TestWebPagesByRole(t *testing.T) {
	eachEnv(t, nil, func(t *testing.T, e *env) {
		p := e.project("Shop")
		id := e.job(p, "nightly")
		browsers := map[string]*browser{"anonymous": e.browser()}
		tokens := map[string]string{"anonymous": ""}
		for _, role := range models.Roles {
			browsers[role], tokens[role] = e.as(role)
		}
		type want struct {
			code     int
			location string
		}
		pages := []struct {
			method, path string
			want         map[string]want
		}{
			{"GET", "/", map[string]want{"anonymous": {303, "/login?next=%2F"}, "viewer": {200, ""}, "operator": {200, ""}, "admin": {200, ""}}},
			{"GET", "/login", map[string]want{"anonymous": {200, ""}, "viewer": {303, "/"}, "operator": {303, "/"}, "admin": {303, "/"}}},
			{"GET", "/setup", map[string]want{"anonymous": {404, ""}, "viewer": {404, ""}, "operator": {404, ""}, "admin": {404, ""}}},
			{"GET", "/static/app.css", map[string]want{"anonymous": {200, ""}, "viewer": {200, ""}, "operator": {200, ""}, "admin": {200, ""}}},
			{"GET", "/no-such-page", map[string]want{"anonymous": {404, ""}, "viewer": {404, ""}, "operator": {404, ""}, "admin": {404, ""}}},
			// A bulk action that changes nothing (the job is not paused);
			// anonymous has no session token to send, so CSRF refuses it first.
			{"POST", "/", map[string]want{"anonymous": {403, ""}, "viewer": {403, ""}, "operator": {303, "/"}, "admin": {303, "/"}}},
		}
		for _, pg := range pages {
			for role, w := range pg.want {
				e.run(t, pg.method+" "+pg.path+" as "+role, func(t *testing.T) {
					b := browsers[role]
					var r response
					if pg.method == "GET" {
						r = b.get(pg.path)
					} else {
						r = b.post(pg.path, form("_csrf", tokens[role], "action", "resume", "id", id))
					}
					require.Equal(t, w.code, r.Code, "%s", r.Body)
					if w.location != "" {
						assert.Equal(t, w.location, location(r))
					}
					if r.Code >= 400 {
						assert.Contains(t, r.Header.Get("Content-Type"), "text/html")
					}
				})
			}
		}

		e.run(t, "controls by role", func(t *testing.T) {
			for role, canWrite := range map[string]bool{"viewer": false, "operator": true, "admin": true} {
				body := string(browsers[role].get("/").Body)
				assert.Contains(t, body, `data-job-id="`+id+`"`, role)
				assert.Contains(t, body, role+"@example.com", role)
				assert.Contains(t, body, `action="/logout"`, role)
				for _, control := range []string{`id="bulk"`, `name="id"`, `name="action"`, `value="delete"`} {
					assert.Equal(t, canWrite, strings.Contains(body, control), "%s sees %s: %v", role, control, canWrite)
				}
				j, err := e.store.Job(id)
				require.NoError(t, err)
				assert.NotContains(t, body, j.PingToken, "no page shows the ping token")
			}
		})

		e.run(t, "a viewer's forbidden POST changes nothing", func(t *testing.T) {
			r := browsers["viewer"].post("/", form("_csrf", tokens["viewer"], "action", "pause", "id", id))
			assert.Equal(t, http.StatusForbidden, r.Code)
			assert.Contains(t, string(r.Body), "Your role (viewer) may not do this.")
			j, err := e.store.Job(id)
			require.NoError(t, err)
			assert.False(t, j.Paused)
		})
	})
}

// TestSessionOnAPI: a dashboard session calls /api/v1 with its role's
// permissions, and unsafe methods need X-CSRF-Token.
func TestSessionOnAPI(t *testing.T) {
	eachEnv(t, nil, func(t *testing.T, e *env) {
		p := e.project("Shop")
		id := e.job(p, "nightly")
		viewer, viewerCSRF := e.as(models.RoleViewer)
		operator, operatorCSRF := e.as(models.RoleOperator)
		admin, adminCSRF := e.as(models.RoleAdmin)
		body := `{"name":"made by session","projectId":"` + p + `","url":"https://example.com","method":"GET","schedule":"@hourly"}`
		jsonHeaders := func(csrf string) []string {
			h := []string{"Content-Type", "application/json"}
			if csrf != "" {
				h = append(h, "X-CSRF-Token", csrf)
			}
			return h
		}
		post := func(b *browser, path, body string, headers ...string) response {
			t.Helper()
			return b.doRaw("POST", path, body, headers...)
		}

		r := viewer.get("/api/v1/jobs/" + id)
		require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
		var job map[string]any
		r.JSON(t, &job)
		assert.NotContains(t, job, "pingUrl", "a viewer holds read:jobs alone: no ping URL, as for such a key")
		assert.NotContains(t, job, "pingToken")
		assert.Equal(t, http.StatusOK, viewer.get("/api/v1/projects").Code)
		assert.Equal(t, http.StatusForbidden, viewer.get("/api/v1/channels").Code)

		jobs := e.count("jobs")
		r = post(viewer, "/api/v1/jobs", body, jsonHeaders(viewerCSRF)...)
		assert.Equal(t, http.StatusForbidden, r.Code)
		assert.Contains(t, r.Error(t), "viewer role lacks the write:jobs permission")
		r = post(operator, "/api/v1/jobs", body, jsonHeaders("")...)
		assert.Equal(t, http.StatusForbidden, r.Code, "no X-CSRF-Token")
		assert.Contains(t, r.Error(t), "X-CSRF-Token")
		r = post(operator, "/api/v1/jobs", body, jsonHeaders(adminCSRF)...)
		assert.Equal(t, http.StatusForbidden, r.Code, "another session's token")
		assert.Equal(t, jobs, e.count("jobs"), "refused requests create nothing")
		r = post(operator, "/api/v1/jobs", body, jsonHeaders(operatorCSRF)...)
		require.Equal(t, http.StatusCreated, r.Code, "%s", r.Body)
		r.JSON(t, &job)
		assert.Contains(t, job, "pingUrl", "an operator holds write:jobs")
		assert.Equal(t, jobs+1, e.count("jobs"))
		assert.Equal(t, http.StatusForbidden, operator.get("/api/v1/api-keys").Code, "keys are admin's")
		assert.Equal(t, http.StatusOK, admin.get("/api/v1/api-keys").Code)

		anon := e.browser()
		anon.cookies["cronpulse_session"] = "not-a-session"
		assert.Equal(t, http.StatusUnauthorized, anon.get("/api/v1/jobs").Code)
	})
}
