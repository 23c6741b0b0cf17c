package handlers_test

import (
	"encoding/xml"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// statusPage is GET /api/v1/projects/{id}/status-page's data.
type statusPage struct {
	ProjectID, Slug, Title, URL string
	Enabled                     bool
	JobIDs                      []string
}

func (b *badgeEnv) putStatusPage(projectID, body string) response {
	b.t.Helper()
	return b.do("PUT", "/api/v1/projects/"+projectID+"/status-page", b.admin, body)
}

var barsSVG = regexp.MustCompile(`(?s)<svg class="cp-bars".*?</svg>`)

// uptimeBars parses each job's bars on a status page: the class and title
// of every bar.
func uptimeBars(t *testing.T, page string) [][][2]string {
	t.Helper()
	var out [][][2]string
	for _, s := range barsSVG.FindAllString(page, -1) {
		var doc struct {
			Rects []struct {
				Class string `xml:"class,attr"`
				Title string `xml:"title"`
			} `xml:"rect"`
		}
		require.NoError(t, xml.Unmarshal([]byte(s), &doc), "bars: %s", s)
		var bars [][2]string
		for _, r := range doc.Rects {
			bars = append(bars, [2]string{r.Class, r.Title})
		}
		out = append(out, bars)
	}
	return out
}

func TestStatusPageShowsPickedJobs(t *testing.T) {
	eachBadgeEnv(t, func(t *testing.T, e *badgeEnv) {
		p := e.project("Acme")
		evil := e.job(p, "<script>alert(1)</script>")
		hidden := e.job(p, "Internal cron")
		second := e.job(p, "Public API")
		r := e.putStatusPage(p, `{"slug":"acme","title":"Acme & Co status","jobIds":[`+quote(second)+`,`+quote(evil)+`]}`)
		require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
		var sp struct{ Data statusPage }
		r.JSON(t, &sp)
		assert.Equal(t, e.cfg.BaseURL+"/status/acme", sp.Data.URL)
		assert.True(t, sp.Data.Enabled)
		assert.Equal(t, []string{second, evil}, sp.Data.JobIDs)

		// Ten hours on (the jobs were created at 10:00), the second job has
		// run 3 times and been down for the last hour.
		e.advance(10 * time.Hour)
		var roll models.Rollups
		for i := range 3 {
			d := int64(100)
			roll.Add(second, p, e.clock().Add(-time.Duration(i+1)*time.Hour), models.RunSuccess, &d)
		}
		require.NoError(t, e.store.AddRollups(e.store.DB(), &roll))
		e.advance(-time.Hour)
		e.setStatus(second, models.StatusDown)
		e.advance(time.Hour)

		r = e.do("GET", "/status/acme", "", "")
		require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
		page := string(r.Body)
		assert.Equal(t, "public, max-age=5", r.Header.Get("Cache-Control"))
		assert.Equal(t, "text/html; charset=utf-8", r.Header.Get("Content-Type"))
		assert.Equal(t, "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'", r.Header.Get("Content-Security-Policy"))
		assert.Equal(t, "DENY", r.Header.Get("X-Frame-Options"))
		assert.Equal(t, "same-origin", r.Header.Get("Referrer-Policy"))

		assert.Contains(t, page, `<html lang="en">`)
		assert.Contains(t, page, "<h1>Acme &amp; Co status</h1>")
		assert.Contains(t, page, "&lt;script&gt;alert(1)&lt;/script&gt;", "the name is escaped")
		assert.NotContains(t, page, "<script", "no script at all")
		assert.Contains(t, page, "Some systems down")
		assert.Contains(t, page, `<link rel="stylesheet" href="/static/app.css">`)
		assert.Regexp(t, `(?s)<header>.*</header>\s*<main>.*</main>`, page)

		// Only the picked jobs, in their order.
		i2, i1 := strings.Index(page, "Public API"), strings.Index(page, "&lt;script&gt;")
		assert.True(t, i2 > 0 && i1 > i2, "Public API first, then the other")
		assert.NotContains(t, page, "Internal cron")
		assert.Equal(t, 2, strings.Count(page, "<h2>"))
		assert.Regexp(t, `Public API</span> <span class="sp-down"><span aria-hidden="true">✕</span> Down</span>`, page, "a word and an icon")
		assert.Regexp(t, `<span class="sp-other"><span aria-hidden="true">○</span> No data yet</span>`, page)

		// Nothing internal: no ids, tokens, ping or check URLs.
		for _, id := range []string{evil, hidden, second, p} {
			j, err := e.store.Job(id)
			if err == nil {
				assert.NotContains(t, page, j.PingToken)
				assert.NotContains(t, page, j.URL)
			}
			assert.NotContains(t, page, id)
		}
		assert.NotContains(t, page, "/ping/")
		assert.NotContains(t, page, "example.com")

		bars := uptimeBars(t, page)
		require.Len(t, bars, 2)
		elements := len(regexp.MustCompile(`<[a-z]`).FindAllString(page, -1))
		t.Logf("a status page of 2 jobs: %d bytes, %d elements", len(page), elements)
		assert.Less(t, len(page), 2*10_000+2_000, "about 9 KB a job")
		for _, b := range bars {
			require.Len(t, b, 90)
		}
		today := e.clock().Format(time.DateOnly)
		// Down 1 hour of the 10 watched today.
		last := bars[0][89]
		assert.Equal(t, today+": 90 % up, 3 runs", last[1])
		assert.Equal(t, "s-down", last[0])
		assert.Equal(t, [2]string{"s-none", e.clock().AddDate(0, 0, -89).Format(time.DateOnly) + ": no data"}, bars[0][0], "before the job existed")
		assert.Equal(t, [2]string{"s-up", today + ": 100 % up, 0 runs"}, bars[1][89])
	})
}

func TestStatusPageNotFound(t *testing.T) {
	eachBadgeEnv(t, func(t *testing.T, e *badgeEnv) {
		p := e.project("Acme")
		j := e.job(p, "api")
		other := e.project("Other")
		for _, path := range []string{"/status/acme", "/status/nope", "/status/" + p, "/status/x"} {
			r := e.do("GET", path, "", "")
			assert.Equal(t, http.StatusNotFound, r.Code, path)
			assert.Equal(t, "DENY", r.Header.Get("X-Frame-Options"))
		}
		r := e.do("GET", "/api/v1/projects/"+other+"/status-page", e.admin, "")
		assert.Equal(t, http.StatusNotFound, r.Code, "a project that did not opt in")

		require.Equal(t, http.StatusOK, e.putStatusPage(p, `{"slug":"acme","title":"Acme","jobIds":[`+quote(j)+`]}`).Code)
		e.expire() // the 404 above is cached for a few seconds
		assert.Equal(t, http.StatusOK, e.do("GET", "/status/acme", "", "").Code)

		r = e.do("DELETE", "/api/v1/projects/"+p+"/status-page", e.admin, "")
		require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
		var sp struct{ Data statusPage }
		r.JSON(t, &sp)
		assert.False(t, sp.Data.Enabled)
		assert.Equal(t, "acme", sp.Data.Slug, "kept")
		assert.Equal(t, http.StatusOK, e.do("GET", "/status/acme", "", "").Code, "cached for a few seconds")
		e.expire()
		assert.Equal(t, http.StatusNotFound, e.do("GET", "/status/acme", "", "").Code)

		r = e.do("GET", "/api/v1/projects/"+p+"/status-page", e.admin, "")
		require.Equal(t, http.StatusOK, r.Code)
		r.JSON(t, &sp)
		assert.False(t, sp.Data.Enabled)
		assert.Equal(t, e.cfg.BaseURL+"/status/acme", sp.Data.URL)

		css := e.do("GET", "/static/svg.css", "", "")
		assert.Equal(t, http.StatusOK, css.Code)
		assert.Contains(t, string(css.Body), ".s-up")
	})
}

func TestStatusPageAPIValidation(t *testing.T) {
	eachBadgeEnv(t, func(t *testing.T, e *badgeEnv) {
		p := e.project("Acme")
		j := e.job(p, "api")
		other := e.project("Other")
		foreign := e.job(other, "theirs")
		require.Equal(t, http.StatusOK, e.putStatusPage(other, `{"slug":"taken","title":"T","jobIds":[`+quote(foreign)+`]}`).Code)
		cases := []struct {
			name, body string
			code       int
			field      string
		}{
			{"bad slug", `{"slug":"Bad Slug","title":"T","jobIds":[` + quote(j) + `]}`, 400, "slug"},
			{"no slug", `{"title":"T","jobIds":[` + quote(j) + `]}`, 400, "slug"},
			{"taken slug", `{"slug":"taken","title":"T","jobIds":[` + quote(j) + `]}`, 400, "slug"},
			{"no title", `{"slug":"acme","jobIds":[` + quote(j) + `]}`, 400, "title"},
			{"no jobs", `{"slug":"acme","title":"T"}`, 400, "jobIds"},
			{"a foreign job", `{"slug":"acme","title":"T","jobIds":[` + quote(foreign) + `]}`, 400, "jobIds"},
			{"wrong type", `{"slug":"acme","title":"T","jobIds":"x"}`, 400, "jobIds"},
			{"not an object", `[1]`, 400, ""},
		}
		for _, tc := range cases {
			e.run(t, tc.name, func(t *testing.T) {
				r := e.putStatusPage(p, tc.body)
				assert.Equal(t, tc.code, r.Code, "%s", r.Body)
				assert.Contains(t, r.Error(t), tc.field)
			})
		}
		r := e.do("PUT", "/api/v1/projects/nope/status-page", e.admin, `{"slug":"acme","title":"T","jobIds":[`+quote(j)+`]}`)
		assert.Equal(t, http.StatusNotFound, r.Code, "%s", r.Body)
		assert.Equal(t, http.StatusNotFound, e.do("DELETE", "/api/v1/projects/"+p+"/status-page", e.admin, "").Code, "no page to disable")

		reader := e.key("reader", models.PermReadProjects, models.PermWriteProjects, models.PermWriteJobs)
		body := `{"slug":"acme","title":"T","jobIds":[` + quote(j) + `]}`
		for _, method := range []string{"GET", "PUT", "DELETE"} {
			r := e.do(method, "/api/v1/projects/"+p+"/status-page", reader, body)
			assert.Equal(t, http.StatusForbidden, r.Code, method)
		}
		assert.Equal(t, http.StatusNotFound, e.do("GET", "/status/acme", "", "").Code, "nothing was published")
	})
}
