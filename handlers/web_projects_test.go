package handlers_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/cronpulse/cronpulse/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWebProjects(t *testing.T) {
	eachHookedEnv(t, func(t *testing.T, e *env, h *triggerLog) {
		shop := e.project("Shop")
		blog := e.project("<b>Blog</b>")
		j1, j2 := e.job(shop, "health"), e.heartbeat(shop, "backup").ID
		keep := e.job(blog, "feed")
		h.take()
		viewer, _ := e.as(models.RoleViewer)
		op, csrf := e.as(models.RoleOperator)

		e.run(t, "list and search", func(t *testing.T) {
			for role, b := range map[string]*browser{"viewer": viewer, "operator": op} {
				r := b.get("/projects")
				require.Equal(t, http.StatusOK, r.Code)
				body := string(r.Body)
				assert.Contains(t, body, `<a href="/?project=`+shop+`">Shop</a>`, role)
				assert.Contains(t, body, "&lt;b&gt;Blog&lt;/b&gt;", role)
				assert.NotContains(t, body, "<b>Blog</b>", role)
				assert.Contains(t, body, `<a href="/projects" aria-current="page">Projects</a>`, role)
				write := role == "operator"
				for _, control := range []string{`href="/projects/new"`, `href="/projects/` + shop + `/edit"`, `href="/projects/` + shop + `/delete"`, `href="/jobs/new"`} {
					assert.Equal(t, write, strings.Contains(body, control), "%s sees %s", role, control)
				}
			}
			body := string(viewer.get("/projects?q=sho").Body)
			assert.Contains(t, body, ">Shop</a>")
			assert.NotContains(t, body, "Blog")
			assert.Contains(t, string(viewer.get("/projects?q=nothing-like-it").Body), "No project matches.")
		})

		e.run(t, "rename, with the API's validation", func(t *testing.T) {
			r := op.get("/projects/" + shop + "/edit")
			require.Equal(t, http.StatusOK, r.Code)
			assert.Contains(t, string(r.Body), `value="Shop"`)
			r = op.post("/projects/"+shop, form("_csrf", csrf, "name", "", "url", "ftp://x"))
			assert.Equal(t, http.StatusBadRequest, r.Code)
			assert.Contains(t, string(r.Body), `<p class="field-error" id="e-name">is required</p>`)
			assert.Contains(t, string(r.Body), `value="ftp://x"`, "what was typed is kept")
			p, _ := e.store.Project(shop)
			assert.Equal(t, "Shop", p.Name)
			r = op.post("/projects/"+shop, form("_csrf", csrf, "name", "Shop 2", "url", "https://shop.example.com"))
			require.Equal(t, http.StatusSeeOther, r.Code, "%s", r.Body)
			p, _ = e.store.Project(shop)
			assert.Equal(t, "Shop 2", p.Name)
			assert.Equal(t, "https://shop.example.com", p.URL)
		})

		e.run(t, "delete names its jobs, then takes them", func(t *testing.T) {
			r := op.get("/projects/" + shop + "/delete")
			require.Equal(t, http.StatusOK, r.Code)
			body := string(r.Body)
			assert.Contains(t, body, "will be deleted with its 2 jobs")
			assert.Contains(t, body, "<li>health")
			assert.Contains(t, body, "<li>backup")
			assert.Equal(t, http.StatusForbidden, op.post("/projects/"+shop+"/delete", form()).Code, "no CSRF token")
			assert.EqualValues(t, 3, e.count("jobs"))
			r = op.post("/projects/"+shop+"/delete", form("_csrf", csrf))
			require.Equal(t, http.StatusSeeOther, r.Code)
			assert.Contains(t, string(op.get(location(r)).Body), "Deleted the project Shop 2 and 2 jobs.")
			_, err := e.store.Project(shop)
			assert.True(t, models.IsNotFound(err))
			assert.EqualValues(t, 1, e.count("jobs"))
			_, err = e.store.Job(keep)
			assert.NoError(t, err, "other projects keep their jobs")
			_, deleted := h.take()
			assert.ElementsMatch(t, []string{j1, j2}, deleted, "the engine heard of each job")
		})
	})
}
