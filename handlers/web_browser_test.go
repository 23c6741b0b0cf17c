package handlers_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The dashboard end to end, in a real headless Chromium (browser_test.go).
// They run on the embedded SQLite database: what differs between the
// databases is tested below the browser.

// page is one browser tab on one listening CronPulse.
type page struct {
	t    *testing.T
	e    *env
	ctx  context.Context
	base string
}

// openPage starts CronPulse on a port and a browser for it.
func openPage(t *testing.T) *page {
	t.Helper()
	return openPageOn(t, newEnv(t, modelstest.Databases(t)[0], nil))
}

// openPageOn is openPage for the application of e.
func openPageOn(t *testing.T, e *env) *page {
	t.Helper()
	base := e.listen(t)
	return &page{t: t, e: e, ctx: newBrowser(t), base: base}
}

// do runs the steps, failing the test on an error.
func (p *page) do(steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	require.NoError(p.t, chromedp.Do(p.ctx, steps...))
}

// submit runs the steps (filling and submitting a form) and returns the
// HTTP status of the page they lead to.
func (p *page) submit(steps ...chromedp.Action[chromedp.Void]) int {
	p.t.Helper()
	res, err := chromedp.RunResponse(p.ctx, steps...)
	require.NoError(p.t, err)
	require.NotNil(p.t, res, "the steps navigated")
	return int(res.Status)
}

// eval evaluates a JavaScript expression in the page (awaiting it if it
// is a promise).
func eval[T any](p *page, js string) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	require.NoError(p.t, err, "%s", js)
	return v
}

// waitFor polls a JavaScript condition until it holds (bounded by the
// browser test's timeout).
func (p *page) waitFor(js string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 15*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](js))
	require.NoError(p.t, err, "waiting for %s", js)
}

// path is the page's location path with its query.
func (p *page) path() string {
	return eval[string](p, "location.pathname + location.search")
}

// signIn signs in through the login form.
func (p *page) signIn(email, password string) {
	p.t.Helper()
	p.do(chromedp.Navigate(p.base + "/login"))
	status := p.submit(
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS("form[action='/login'] button[type=submit]")),
	)
	require.Equal(p.t, http.StatusOK, status)
	require.Equal(p.t, "/", p.path(), "signed in, the overview shows")
}

// row is a JavaScript expression for the overview's row of job id.
func row(id string) string { return `document.querySelector('tr[data-job-id="` + id + `"]')` }

func TestBrowserFirstRunLoginLogout(t *testing.T) {
	p := openPage(t)
	p.do(chromedp.Navigate(p.base + "/"))
	require.Equal(t, "/setup", p.path(), "with no user every page leads to the setup form")

	status := p.submit(
		chromedp.SendKeys(chromedp.CSS("#email"), "first@example.com"),
		chromedp.SendKeys(chromedp.CSS("#password"), "correct horse battery"),
		chromedp.Click(chromedp.CSS("form[action='/setup'] button[type=submit]")),
	)
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, "/", p.path(), "setup signs the admin in")
	u, err := p.e.store.UserByEmail("first@example.com")
	require.NoError(t, err)
	assert.Equal(t, models.RoleAdmin, u.Role)

	// Setup is gone once someone exists.
	res, err := chromedp.RunResponse(p.ctx, chromedp.Navigate(p.base+"/setup"))
	require.NoError(t, err)
	assert.Equal(t, int64(http.StatusNotFound), res.Status)

	// Sign out, then in again; a wrong password is refused with a message.
	p.do(chromedp.Navigate(p.base + "/"))
	status = p.submit(chromedp.Click(chromedp.CSS("form[action='/logout'] button")))
	require.Equal(t, http.StatusOK, status)
	p.do(chromedp.Navigate(p.base + "/"))
	assert.Equal(t, "/login", strings.SplitN(p.path(), "?", 2)[0], "signed out, the overview asks for a login")

	p.do(chromedp.Navigate(p.base + "/login"))
	p.submit(
		chromedp.SendKeys(chromedp.CSS("#email"), "first@example.com"),
		chromedp.SendKeys(chromedp.CSS("#password"), "wrong password"),
		chromedp.Click(chromedp.CSS("form[action='/login'] button[type=submit]")),
	)
	assert.NotEqual(t, "/", p.path())
	assert.True(t, eval[bool](p, `!!document.querySelector('[role=alert]')`), "the login form says why")

	p.signIn("first@example.com", "correct horse battery")
}

func TestBrowserOverviewGoesUpWithoutReload(t *testing.T) {
	p := openPage(t)
	p.e.user("ops@example.com", models.RoleOperator)
	proj := p.e.project("Backups")
	id, token := p.e.hbJob(proj, "nightly backup")
	p.signIn("ops@example.com", "password123")

	p.waitFor(row(id) + ` !== null`)
	assert.Equal(t, models.StatusNew, eval[string](p, row(id)+`.dataset.status`))
	// Mark the page so that a reload would show.
	p.do(chromedp.Evaluate[chromedp.Void](`window.__same = true`))

	res, err := http.Post(p.base+"/ping/"+token, "text/plain", strings.NewReader("done"))
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)

	// The page refreshes itself every 15 s while visible, and at once when
	// it becomes visible again: tell it so instead of waiting.
	p.do(chromedp.Evaluate[chromedp.Void](`document.dispatchEvent(new Event('visibilitychange'))`))
	p.waitFor(row(id) + `.dataset.status === 'up'`)
	assert.True(t, eval[bool](p, `window.__same === true`), "the row changed without a reload")
	assert.Contains(t, eval[string](p, `document.getElementById('counts').textContent`), "up 1")

	// On a phone's width the overview shows each job's name and status only.
	p.do(chromedp.EmulateViewport(390, 844), chromedp.Navigate(p.base+"/"))
	visible := eval[[]string](p, `[...document.querySelectorAll('#jobs thead th')].filter(th => getComputedStyle(th).display !== 'none').map(th => th.textContent.trim())`)
	assert.Subset(t, visible, []string{"Name", "Status"})
	assert.NotContains(t, visible, "Project")
	assert.NotContains(t, visible, "Last 24 h")
}

func TestBrowserBulkPauseOfAFilteredSet(t *testing.T) {
	p := openPage(t)
	p.e.user("ops@example.com", models.RoleOperator)
	proj := p.e.project("Batch")
	var tagged []string
	for _, name := range []string{"etl a", "etl b", "etl c"} {
		id, _ := p.e.hbJob(proj, name, `"tags":["etl"]`)
		tagged = append(tagged, id)
	}
	other, _ := p.e.hbJob(proj, "web")
	p.signIn("ops@example.com", "password123")

	p.do(chromedp.Navigate(p.base + "/?tag=etl"))
	assert.Equal(t, 3, eval[int](p, `document.querySelectorAll('#rows tr[data-job-id]').length`))
	status := p.submit(
		chromedp.SetValue(chromedp.CSS("#b-action"), "pause"),
		chromedp.Click(chromedp.CSS("#b-all")),
		chromedp.Click(chromedp.CSS("#bulk button[type=submit]")),
	)
	require.Equal(t, http.StatusOK, status)
	for _, id := range tagged {
		assert.True(t, p.e.mustJob(id).Paused, "tagged job %s paused", id)
	}
	assert.False(t, p.e.mustJob(other).Paused, "the job outside the filter is untouched")
}

func TestBrowserViewerSeesNoPingURLAndCannotPost(t *testing.T) {
	p := openPage(t)
	p.e.user("viewer@example.com", models.RoleViewer)
	proj := p.e.project("P")
	id, token := p.e.hbJob(proj, "report")
	p.signIn("viewer@example.com", "password123")

	html := eval[string](p, `document.documentElement.outerHTML`)
	assert.Contains(t, html, `data-job-id="`+id+`"`)
	assert.NotContains(t, html, token, "a viewer never sees a ping token")
	assert.False(t, eval[bool](p, `!!document.getElementById('bulk')`), "no bulk form for a viewer")

	// A POST from the page, with the session's own CSRF token, is refused.
	code := eval[int](p, `(async () => {
		const csrf = document.querySelector('input[name=_csrf]').value;
		const body = new URLSearchParams({_csrf: csrf, action: 'pause', id: '`+id+`'});
		const res = await fetch('/', {method: 'POST', body, credentials: 'same-origin'});
		return res.status;
	})()`)
	assert.Equal(t, http.StatusForbidden, code)
	assert.False(t, p.e.mustJob(id).Paused)
}

func TestBrowserPostWithoutCSRFChangesNothing(t *testing.T) {
	p := openPage(t)
	p.e.user("ops@example.com", models.RoleOperator)
	proj := p.e.project("P")
	id, _ := p.e.hbJob(proj, "job")
	p.signIn("ops@example.com", "password123")

	p.do(chromedp.Navigate(p.base + "/"))
	p.do(chromedp.Evaluate[chromedp.Void](`document.querySelector('#bulk input[name=_csrf]').remove()`))
	status := p.submit(
		chromedp.Click(chromedp.CSS(`input[name=id][value="`+id+`"]`)),
		chromedp.SetValue(chromedp.CSS("#b-action"), "pause"),
		chromedp.Click(chromedp.CSS("#bulk button[type=submit]")),
	)
	assert.Equal(t, http.StatusForbidden, status)
	assert.False(t, p.e.mustJob(id).Paused, "a refused POST changes nothing")
}

func TestBrowserHTMLInANameIsText(t *testing.T) {
	p := openPage(t)
	p.e.user("ops@example.com", models.RoleOperator)
	proj := p.e.project("P")
	const name = `<script>window.__xss=1</script><img src=x onerror="window.__xss=2">`
	id, _ := p.e.hbJob(proj, name)
	p.signIn("ops@example.com", "password123")

	assert.Equal(t, name, eval[string](p, row(id)+`.querySelector('th').textContent.trim()`))
	assert.True(t, eval[bool](p, `window.__xss === undefined`), "nothing in the name ran")
	assert.Equal(t, 0, eval[int](p, `document.querySelectorAll('#rows img').length`))

}

func TestBrowserCreateAHeartbeatThroughTheForms(t *testing.T) {
	p := openPage(t)
	p.e.user("ops@example.com", models.RoleOperator)
	p.signIn("ops@example.com", "password123")

	// A project, then a job in it (the project form leads to the job form).
	p.do(chromedp.Navigate(p.base + "/projects/new"))
	require.Equal(t, http.StatusOK, p.submit(
		chromedp.SendKeys(chromedp.CSS("#f-name"), "Nightly"),
		chromedp.Click(chromedp.CSS("main form button[type=submit]")),
	))
	require.True(t, strings.HasPrefix(p.path(), "/jobs/new"), "the project form leads to the job form: %s", p.path())

	p.do(
		chromedp.SendKeys(chromedp.CSS("#f-name"), "db backup"),
		chromedp.Click(chromedp.CSS("#f-heartbeat")),
	)
	// English offers the expression; "Use this" takes it.
	p.do(chromedp.Evaluate[chromedp.Void](`document.getElementById('f-schedule').value = ''`),
		chromedp.SendKeys(chromedp.CSS("#f-schedule"), "every weekday at 9am"))
	p.waitFor(`[...document.querySelectorAll('#schedule-preview button')].some(b => /use this/i.test(b.textContent))`)
	p.do(chromedp.Evaluate[chromedp.Void](`[...document.querySelectorAll('#schedule-preview button')].find(b => /use this/i.test(b.textContent)).click()`))
	p.waitFor(`document.getElementById('f-schedule').value === '0 9 * * 1-5'`)
	// The preview shows the next runs of the expression.
	p.waitFor(`document.querySelectorAll('#schedule-preview li').length >= 3`)

	require.Equal(t, http.StatusOK, p.submit(chromedp.Click(chromedp.CSS("main form button[type=submit]"))))
	require.True(t, strings.HasPrefix(p.path(), "/jobs/"), p.path())
	pingURL := eval[string](p, `document.getElementById('ping-url').textContent.trim()`)
	require.True(t, strings.HasPrefix(pingURL, p.e.cfg.BaseURL+"/ping/"), pingURL)
	assert.True(t, eval[bool](p, `[...document.querySelectorAll('button[data-copy]')].some(b => b.dataset.copy === `+quote(pingURL)+`)`),
		"a copy button holds the ping URL")
	id := strings.TrimPrefix(strings.SplitN(p.path(), "?", 2)[0], "/jobs/")
	j := p.e.mustJob(id)
	assert.Equal(t, "0 9 * * 1-5", j.Schedule)
	assert.True(t, j.Heartbeat)

	// Ping it for real (the URL names the configured BASE_URL; the token is
	// what matters), and watch the overview without reloading.
	p.do(chromedp.Navigate(p.base + "/"))
	p.waitFor(row(id) + ` !== null`)
	res, err := http.Get(p.base + "/ping/" + strings.TrimPrefix(pingURL, p.e.cfg.BaseURL+"/ping/"))
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	p.do(chromedp.Evaluate[chromedp.Void](`window.__same = true; document.dispatchEvent(new Event('visibilitychange'))`))
	p.waitFor(row(id) + `.dataset.status === 'up'`)
	assert.True(t, eval[bool](p, `window.__same === true`))
}

func TestBrowserFailingCheckShowsItsReason(t *testing.T) {
	p := openPageOn(t, newCheckEnv(t, modelstest.Databases(t)[0]))
	p.e.user("ops@example.com", models.RoleOperator)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	t.Cleanup(target.Close)
	proj := p.e.project("APIs")
	id := p.e.mustCreate("/jobs", `{"name":"orders API","projectId":`+quote(proj)+`,"url":`+quote(target.URL)+`,"method":"GET","schedule":"*/5 * * * *"}`)
	p.signIn("ops@example.com", "password123")

	p.do(chromedp.Navigate(p.base + "/jobs/" + id))
	require.Equal(t, http.StatusOK, p.submit(chromedp.Click(chromedp.CSS("form[action$='/run'] button"))))
	assert.Equal(t, models.StatusDown, eval[string](p, `document.querySelector('[data-status]').dataset.status`))
	assert.Contains(t, eval[string](p, `document.getElementById('last-error').textContent`), "500")
	assert.Equal(t, models.StatusDown, p.e.mustJob(id).Status)
}

func TestBrowserAPIKeyShownOnceWithCopyButton(t *testing.T) {
	p := openPage(t)
	p.e.user("root@example.com", models.RoleAdmin)
	p.signIn("root@example.com", "password123")
	p.do(chromedp.Navigate(p.base + "/api-keys/new"))
	status := p.submit(
		chromedp.SendKeys(chromedp.CSS("#key-name"), "deploy"),
		chromedp.Click(chromedp.CSS("form#api-key-form button[type=submit]")),
	)
	require.Equal(t, http.StatusCreated, status)
	secret := eval[string](p, `document.getElementById('new-api-key').value`)
	require.Regexp(t, `^cpk_[0-9A-Za-z]{32}$`, secret)
	assert.True(t, eval[bool](p, `document.getElementById('new-api-key').readOnly`))
	assert.Equal(t, secret, eval[string](p, `document.getElementById('copy-api-key').dataset.copy`))
	// The button answers whichever way the browser's clipboard does.
	p.do(chromedp.Click(chromedp.CSS("#copy-api-key")))
	p.waitFor(`/^Cop(ied|y failed)/.test(document.getElementById('copy-api-key').textContent) && document.getElementById('copy-api-key').textContent !== 'Copy to clipboard'`)
	assert.Equal(t, http.StatusOK, p.e.do("GET", "/api/v1/jobs", secret, "").Code, "the key works")

	p.do(chromedp.Navigate(p.base + "/api-keys"))
	html := eval[string](p, `document.documentElement.outerHTML`)
	assert.NotContains(t, html, secret, "never shown again")
	assert.Contains(t, html, secret[:12]+"…", "listed by its prefix")
}
