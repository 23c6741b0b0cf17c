package handlers_test

import (
	"context"
	_ "embed"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/cronpulse/cronpulse/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// colorScheme makes the page match prefers-color-scheme: scheme.
func colorScheme(scheme string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		})
		return err
	})
}

// axeSource is axe-core (Deque, MPL-2.0, vendored from npm with its
// licence header): the accessibility rules the dashboard's pages are held
// to, run in the page by the test only.
//
//go:embed testdata/axe.min.js
var axeSource string

// axeViolations runs axe-core's WCAG 2.0/2.1 A and AA rules on the page
// and returns each violation as "rule: help (selectors)".
func axeViolations(p *page) []string {
	p.t.Helper()
	_, err := chromedp.Run(p.ctx, chromedp.Evaluate[chromedp.Void](axeSource))
	require.NoError(p.t, err, "load axe-core")
	return eval[[]string](p, `axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
		.then(r => r.violations.map(v => v.id + ': ' + v.help + ' (' + v.nodes.slice(0, 5).map(n => n.target.join(' ')).join(', ') + ')'))`)
}

// TestBrowserLightAndDark loads the overview, a job page, the job form and
// a public status page in light and dark, and checks that each renders
// (200, a <main> landmark, a level-one heading), that axe-core finds no
// WCAG 2.1 AA violation (contrast, names of controls, landmarks, …) in
// either scheme nor at a phone's width, that nothing widens the page on a
// phone, and that dark mode changes the page's colours. With CRONPULSE_SCREENSHOTS_DOCS=dir it also saves
// each as dir/NAME-light.png and dir/NAME-dark.png (how the README's
// screenshots under docs/ are made).
func TestBrowserLightAndDark(t *testing.T) {
	p := openPage(t)
	p.e.user("admin@example.com", models.RoleAdmin)
	proj := p.e.project("Production")
	backup, token := p.e.hbJob(proj, "nightly backup", `"tags":["db"]`)
	res, err := http.Post(p.base+"/ping/"+token, "text/plain", nil)
	require.NoError(t, err)
	res.Body.Close()
	p.e.hbJob(proj, "invoice run", `"tags":["billing"]`)
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(broken.Close)
	p.e.mustCreate("/jobs", `{"name":"API health","projectId":`+quote(proj)+`,"url":`+quote(broken.URL)+`,"method":"GET","schedule":"*/5 * * * *"}`)
	r := p.e.do("PUT", "/api/v1/projects/"+proj+"/status-page", p.e.admin, `{"slug":"acme","title":"Acme status","jobIds":[`+quote(backup)+`]}`)
	require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
	p.signIn("admin@example.com", "password123")

	dir := os.Getenv("CRONPULSE_SCREENSHOTS_DOCS")
	pages := []struct{ name, path string }{
		{"overview", "/"},
		{"job", "/jobs/" + backup},
		{"job-form", "/jobs/new"},
		{"status-page", "/status/acme"},
	}
	for _, pg := range pages {
		backgrounds := map[string]string{}
		for _, scheme := range []string{"light", "dark"} {
			p.do(colorScheme(scheme))
			res, err := chromedp.RunResponse(p.ctx, chromedp.Navigate(p.base+pg.path))
			require.NoError(t, err)
			require.Equal(t, int64(http.StatusOK), res.Status, pg.path)
			assert.True(t, eval[bool](p, `!!document.querySelector('main') && !!document.querySelector('h1')`), "%s has a main landmark and a heading", pg.path)
			backgrounds[scheme] = eval[string](p, `getComputedStyle(document.body).backgroundColor`)
			for _, v := range axeViolations(p) {
				t.Errorf("%s (%s): WCAG 2.1 AA: %s", pg.path, scheme, v)
			}
			if dir != "" {
				png, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(filepath.Join(dir, pg.name+"-"+scheme+".png"), png, 0o644))
			}
		}
		assert.NotEqual(t, backgrounds["light"], backgrounds["dark"], "%s follows prefers-color-scheme", pg.path)
	}

	// On a phone's width nothing widens the page, and the rules still hold.
	p.do(colorScheme("light"), chromedp.EmulateViewport(390, 844))
	for _, pg := range append(pages, struct{ name, path string }{"projects", "/projects"},
		struct{ name, path string }{"api-keys", "/api-keys"}, struct{ name, path string }{"users", "/users"}) {
		p.do(chromedp.Navigate(p.base + pg.path))
		assert.LessOrEqual(t, eval[int](p, `document.documentElement.scrollWidth`), 390, "%s fits a phone's width", pg.path)
		for _, v := range axeViolations(p) {
			t.Errorf("%s (phone): WCAG 2.1 AA: %s", pg.path, v)
		}
	}
}
