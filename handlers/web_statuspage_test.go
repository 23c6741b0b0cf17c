package handlers_test

import (
	"net/http"
	"testing"

	"github.com/cronpulse/cronpulse/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWebStatusPageForm(t *testing.T) {
	eachEnv(t, nil, func(t *testing.T, e *env) {
		p := e.project("Acme")
		shown := e.job(p, "public API")
		hidden := e.job(p, "internal cron")
		admin, csrf := e.as(models.RoleAdmin)

		r := admin.get("/projects/" + p + "/status-page")
		require.Equal(t, http.StatusOK, r.Code)
		for _, s := range []string{`name="slug"`, `name="title"`, `name="jobIds" value="` + shown + `"`, `<label for="sp-slug"`} {
			assert.Contains(t, string(r.Body), s)
		}

		// A bad slug is refused beside its field, what was typed kept, and
		// nothing is stored.
		r = admin.post("/projects/"+p+"/status-page", form("_csrf", csrf, "enabled", "true", "slug", "Bad Slug!", "title", "Acme", "jobIds", shown))
		assert.Equal(t, http.StatusBadRequest, r.Code)
		assert.Contains(t, string(r.Body), `id="sp-slug-error"`)
		assert.Contains(t, string(r.Body), `value="Bad Slug!"`)
		_, err := e.store.ProjectStatusPage(p)
		assert.True(t, models.IsNotFound(err), "nothing stored: %v", err)

		// Other roles may not, and change nothing.
		for _, role := range []string{models.RoleViewer, models.RoleOperator} {
			b, token := e.signedIn(e.user(role+"-sp@example.com", role))
			assert.Equal(t, http.StatusForbidden, b.get("/projects/"+p+"/status-page").Code, role)
			r := b.post("/projects/"+p+"/status-page", form("_csrf", token, "enabled", "true", "slug", "acme", "title", "Acme", "jobIds", shown))
			assert.Equal(t, http.StatusForbidden, r.Code, role)
		}
		_, err = e.store.ProjectStatusPage(p)
		assert.True(t, models.IsNotFound(err))

		// Without _csrf: refused.
		assert.Equal(t, http.StatusForbidden, admin.post("/projects/"+p+"/status-page", form("enabled", "true", "slug", "acme", "title", "Acme", "jobIds", shown)).Code)

		r = admin.post("/projects/"+p+"/status-page", form("_csrf", csrf, "enabled", "true", "slug", "acme", "title", "Acme status", "jobIds", shown))
		require.Equal(t, http.StatusSeeOther, r.Code, "%s", r.Body)
		sp, err := e.store.ProjectStatusPage(p)
		require.NoError(t, err)
		assert.True(t, sp.Enabled)
		assert.Equal(t, []string{shown}, sp.JobIDs)
		page := e.do("GET", "/status/acme", "", "")
		require.Equal(t, http.StatusOK, page.Code)
		assert.Contains(t, string(page.Body), "public API")
		assert.NotContains(t, string(page.Body), "internal cron", "only the picked job")
		form2 := admin.get("/projects/" + p + "/status-page")
		assert.Contains(t, string(form2.Body), e.cfg.BaseURL+"/status/acme", "the form links the live page")
		body := string(form2.Body)
		assert.Contains(t, body, `name="enabled" value="true" checked`)
		assert.Contains(t, body, `value="`+shown+`" checked`, "the picked job is ticked")
		assert.NotContains(t, body, `value="`+hidden+`" checked`, "the other is not")

		// Turning it off keeps the slug and hides the page.
		r = admin.post("/projects/"+p+"/status-page", form("_csrf", csrf, "slug", "acme", "title", "Acme status", "jobIds", shown))
		require.Equal(t, http.StatusSeeOther, r.Code)
		sp, err = e.store.ProjectStatusPage(p)
		require.NoError(t, err)
		assert.False(t, sp.Enabled)
		assert.Equal(t, "acme", sp.Slug)
	})
}
