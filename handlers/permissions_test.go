package handlers_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/cronpulse/cronpulse/handlers"
	"github.com/cronpulse/cronpulse/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// grants is the expected meaning of each permission, written out here
// rather than derived from models.APIKey.Can: "*" grants everything, and a
// write permission also grants reading the same resource.
var grants = map[string][]string{
	models.PermReadProjects:  {models.PermReadProjects},
	models.PermWriteProjects: {models.PermWriteProjects, models.PermReadProjects},
	models.PermReadJobs:      {models.PermReadJobs},
	models.PermWriteJobs:     {models.PermWriteJobs, models.PermReadJobs},
	models.PermAll:           {models.PermReadProjects, models.PermWriteProjects, models.PermReadJobs, models.PermWriteJobs, models.PermAll},
}

// routePath fills a route's parameters with ids that exist nowhere: an
// allowed request then ends in 404 or 400 and changes nothing.
func routePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if strings.HasPrefix(s, ":") {
			if s == ":n" {
				parts[i] = "1"
			} else {
				parts[i] = "c000000000nosuchthing000"
			}
		}
	}
	return "/api/v1" + strings.Join(parts, "/")
}

func TestRoutesTableCoversEveryAPIRoute(t *testing.T) {
	e := newEnv(t, sqliteOnly(t), nil)
	known := map[string]bool{}
	for _, rt := range handlers.Routes {
		known[rt.Method+" /api/v1"+rt.Path] = true
	}
	// The one public route: the OpenAPI document describes the API and
	// holds no data (TestOpenAPIDocumentAndAnswers reads it without a key).
	known["GET /api/v1/openapi.json"] = true
	seen := map[string]bool{}
	for _, r := range e.app.GetRoutes(true) {
		if !strings.HasPrefix(r.Path, "/api/v1/") || r.Method == "HEAD" || r.Method == "USE" {
			continue
		}
		seen[r.Method+" "+r.Path] = true
		assert.True(t, known[r.Method+" "+r.Path], "%s %s is registered outside handlers.Routes, so the permission matrix does not cover it", r.Method, r.Path)
	}
	assert.Equal(t, known, seen, "every route of the table is registered, and nothing else")
	for _, rt := range handlers.Routes {
		assert.Contains(t, grants, rt.Permission, "%s %s needs an unknown permission", rt.Method, rt.Path)
	}
}

func TestPermissionMatrix(t *testing.T) {
	eachEnv(t, nil, func(t *testing.T, e *env) {
		keys := map[string]string{}
		for perm := range grants {
			keys[perm] = e.key("only "+perm, perm)
		}
		revoked := e.key("revoked", models.PermAll)
		k, err := e.store.APIKeyByPrefix(models.KeyPrefix(revoked))
		require.NoError(t, err)
		_, err = e.store.RevokeAPIKey(k.ID)
		require.NoError(t, err)
		// Same public prefix as a real key, wrong secret.
		wrongSecret := e.admin[:len(e.admin)-4] + flip4(e.admin[len(e.admin)-4:])

		for _, rt := range handlers.Routes {
			path := routePath(rt.Path)
			body := ""
			if rt.Method == "POST" || rt.Method == "PUT" {
				body = "{}"
			}
			name := fmt.Sprintf("%s %s", rt.Method, rt.Path)
			// Every permission: allowed (anything but 401/403) or 403.
			for perm, key := range keys {
				r := e.do(rt.Method, path, key, body)
				want := contains(grants[perm], rt.Permission)
				if want {
					assert.NotContains(t, []int{401, 403}, r.Code, "%s with %s: %s", name, perm, r.Body)
					assert.Less(t, r.Code, 500, "%s with %s: %s", name, perm, r.Body)
					assert.NotContains(t, string(r.Body), "no such API route", "%s: the request must reach the route", name)
				} else {
					assert.Equal(t, http.StatusForbidden, r.Code, "%s with %s: %s", name, perm, r.Body)
					assert.Contains(t, r.Error(t), rt.Permission, "a 403 names the missing permission")
				}
			}
			// The same through Authorization: Bearer.
			r := e.do(rt.Method, path, "", body, "Authorization", "Bearer "+keys[rt.Permission])
			assert.NotContains(t, []int{401, 403}, r.Code, "%s with Bearer: %s", name, r.Body)

			unauthorized := map[string][]string{
				"no key":         nil,
				"malformed key":  {"X-API-Key", "cpk_short"},
				"not a cpk key":  {"X-API-Key", "sk_live_0123456789abcdefghijklmnopqrstuv"},
				"bearer garbage": {"Authorization", "Bearer !!!"},
				"basic auth":     {"Authorization", "Basic dXNlcjpwYXNz"},
				"revoked key":    {"X-API-Key", revoked},
				"wrong secret":   {"X-API-Key", wrongSecret},
				"unknown prefix": {"X-API-Key", "cpk_ZZZZZZZZ" + e.admin[12:]},
			}
			for what, h := range unauthorized {
				r := e.do(rt.Method, path, "", body, h...)
				assert.Equal(t, http.StatusUnauthorized, r.Code, "%s with %s: %s", name, what, r.Body)
				r.Error(t)
			}
		}
	})
}

// TestPingURLIsACapability checks that only keys that may write jobs see
// pingUrl and pingToken, in lists and single gets.
func TestPingURLIsACapability(t *testing.T) {
	eachEnv(t, nil, func(t *testing.T, e *env) {
		p := e.project("P")
		id := e.job(p, "J")
		cases := []struct {
			perm string
			sees bool
		}{
			{models.PermReadJobs, false},
			{models.PermWriteJobs, true},
			{models.PermAll, true},
		}
		for _, c := range cases {
			e.run(t, c.perm, func(t *testing.T) {
				key := e.key("k "+c.perm, c.perm)
				var one map[string]any
				r := e.do("GET", "/api/v1/jobs/"+id, key, "")
				require.Equal(t, 200, r.Code)
				r.JSON(t, &one)
				var list []map[string]any
				r = e.do("GET", "/api/v1/jobs?projectId="+p, key, "")
				require.Equal(t, 200, r.Code)
				r.JSON(t, &list)
				require.Len(t, list, 1)
				for where, job := range map[string]map[string]any{"get": one, "list": list[0]} {
					for _, field := range []string{"pingUrl", "pingToken"} {
						_, has := job[field]
						assert.Equal(t, c.sees, has, "%s: key with %s, field %s", where, c.perm, field)
					}
					assert.Equal(t, id, job["id"])
				}
				if !c.sees {
					token := e.mustJob(id).PingToken
					assert.NotContains(t, string(r.Body), token, "the token must not appear anywhere in the body")
				}
			})
		}
	})
}

// mustJob loads a job from the store.
func (e *env) mustJob(id string) *models.Job {
	e.t.Helper()
	j, err := e.store.Job(id)
	require.NoError(e.t, err)
	return j
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// flip4 changes every character of a 4-character key tail, staying in the
// key alphabet.
func flip4(s string) string {
	out := []byte(s)
	for i, c := range out {
		if c == 'a' {
			out[i] = 'b'
		} else {
			out[i] = 'a'
		}
	}
	return string(out)
}

// TestPingKeyIsACapability: a project's pingKey with a job's slug pings the
// job, so it is shown only where pingUrl would be.
func TestPingKeyIsACapability(t *testing.T) {
	eachEnv(t, nil, func(t *testing.T, e *env) {
		p := e.project("P")
		cases := []struct {
			perms []string
			sees  bool
		}{
			{[]string{models.PermReadProjects}, false},
			{[]string{models.PermWriteProjects}, false},
			{[]string{models.PermReadProjects, models.PermWriteJobs}, true},
			{[]string{models.PermAll}, true},
		}
		stored, err := e.store.Project(p)
		require.NoError(t, err)
		for _, c := range cases {
			e.run(t, strings.Join(c.perms, "+"), func(t *testing.T) {
				key := e.key("k", c.perms...)
				r := e.do("GET", "/api/v1/projects/"+p, key, "")
				require.Equal(t, 200, r.Code)
				var one map[string]any
				r.JSON(t, &one)
				r = e.do("GET", "/api/v1/projects", key, "")
				require.Equal(t, 200, r.Code)
				var list []map[string]any
				r.JSON(t, &list)
				require.Len(t, list, 1)
				for where, proj := range map[string]map[string]any{"get": one, "list": list[0]} {
					if c.sees {
						assert.Equal(t, stored.PingKey, proj["pingKey"], "%s with %v", where, c.perms)
					} else {
						assert.NotContains(t, proj, "pingKey", "%s with %v", where, c.perms)
					}
					assert.Equal(t, "P", proj["name"])
				}
				if !c.sees {
					assert.NotContains(t, string(r.Body), stored.PingKey)
				}
			})
		}
		// Creating with write:projects alone does not reveal it either.
		r := e.do("POST", "/api/v1/projects", e.key("w", models.PermWriteProjects), `{"name": "Q"}`)
		require.Equal(t, 201, r.Code)
		assert.NotContains(t, string(r.Body), "pingKey")
	})
}

// TestHeadOnGetRoutes: HEAD is answered like GET (same auth and status), as
// HTTP clients and monitors probing an endpoint expect.
func TestHeadOnGetRoutes(t *testing.T) {
	e := newEnv(t, sqliteOnly(t), nil)
	reader := e.key("reader", models.PermReadJobs)
	assert.Equal(t, http.StatusOK, e.do("HEAD", "/api/v1/jobs", reader, "").Code)
	assert.Equal(t, http.StatusUnauthorized, e.do("HEAD", "/api/v1/jobs", "", "").Code)
	assert.Equal(t, http.StatusForbidden, e.do("HEAD", "/api/v1/projects", reader, "").Code)
	assert.Equal(t, http.StatusNotFound, e.do("HEAD", "/api/v1/jobs/nope", reader, "").Code)
}
