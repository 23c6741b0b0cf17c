package handlers

import (
	"bytes"
	"html/template"
	"strconv"
	"strings"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/views"
	"github.com/cronpulse/cronpulse/views/svg"
	"github.com/gofiber/fiber/v2"
)

// StatusPageTTL is how long a public status page is cached, in memory and
// by clients and proxies (Cache-Control: public, max-age): a page in a
// busy incident costs at most one set of reads per TTL.
const StatusPageTTL = 5 * time.Second

// StatusPageDays is how many days of uptime a status page shows.
const StatusPageDays = 90

// StatusPageStylesheet is where the status page finds views/static/svg.css
// (the dashboard's /static route serves it).
const StatusPageStylesheet = "/static/svg.css"

// statusPageCacheSize bounds the pages kept in memory.
const statusPageCacheSize = 1_000

// statusPageSecurity are the headers of every status page answer: no
// scripts, no framing, no referrer beyond the site.
var statusPageSecurity = [][2]string{
	{"Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'"},
	{"X-Frame-Options", "DENY"},
	{"Referrer-Policy", "same-origin"},
	{"X-Content-Type-Options", "nosniff"},
}

// StatusPageOptions configures the public status pages.
type StatusPageOptions struct {
	Store *models.Store
	Now   func() time.Time // nil: time.Now
}

// statusPages serves /status/{slug}: no API key; the page shows what its
// project's admin chose to publish, and nothing else of the jobs.
type statusPages struct {
	store *models.Store
	now   func() time.Time
	page  *template.Template
	cache *ttlCache[[]byte]
}

// RegisterStatusPages mounts /status/{slug} and its stylesheet.
func RegisterStatusPages(f *fiber.App, o StatusPageOptions) {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	page := template.Must(template.ParseFS(views.Files, "statuspage.html")) // a build defect if it fails
	p := &statusPages{store: o.Store, now: now, page: page, cache: newTTLCache[[]byte](now, StatusPageTTL, statusPageCacheSize)}
	f.Get("/status/:slug", p.serve)
}

func (p *statusPages) serve(c *fiber.Ctx) error {
	for _, h := range statusPageSecurity {
		c.Set(h[0], h[1])
	}
	slug := strings.Clone(c.Params("slug")) // the cache keeps it past the handler
	body, err := p.cache.get(slug, func() ([]byte, error) { return p.render(slug) })
	if models.IsNotFound(err) {
		c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
		return c.Status(fiber.StatusNotFound).SendString(`<!doctype html><html lang="en"><title>Not found</title><main><h1>No such status page</h1></main></html>`)
	}
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "public, max-age="+strconv.Itoa(int(StatusPageTTL/time.Second)))
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Send(body)
}

// statusLook is how the page shows a job's status: a word and an icon,
// never colour alone.
type statusLook struct{ word, icon, class string }

var statusLooks = map[string]statusLook{
	models.StatusUp:     {"Operational", "✓", "sp-up"},
	models.StatusLate:   {"Late", "!", "sp-down"},
	models.StatusDown:   {"Down", "✕", "sp-down"},
	models.StatusNew:    {"No data yet", "○", "sp-other"},
	models.StatusPaused: {"Paused", "‖", "sp-other"},
}

// statusPageJob is one job of the template.
type statusPageJob struct {
	Name, Word, Icon, Class string
	Bars                    template.HTML
}

// render draws the page at slug (ErrNotFound when no enabled page has it).
func (p *statusPages) render(slug string) ([]byte, error) {
	page, err := p.store.StatusPage(slug)
	if err != nil {
		return nil, err
	}
	data := struct {
		Title, Summary, SummaryIcon, SummaryClass, Stylesheet, Updated string
		Days                                                           int
		Jobs                                                           []statusPageJob
	}{Title: page.Title, Summary: "All systems operational", SummaryIcon: "✓", SummaryClass: "sp-up",
		Stylesheet: StatusPageStylesheet, Days: StatusPageDays, Updated: p.now().UTC().Format("2006-01-02 15:04 UTC")}
	statuses := make([]string, 0, len(page.Jobs))
	for _, j := range page.Jobs {
		st, err := p.store.JobStatsOf(j.ID, "90d", "")
		if models.IsNotFound(err) {
			continue // deleted since the page was read
		}
		if err != nil {
			return nil, err
		}
		look, ok := statusLooks[j.Status]
		if !ok {
			look = statusLooks[models.StatusNew]
		}
		statuses = append(statuses, j.Status)
		data.Jobs = append(data.Jobs, statusPageJob{Name: j.Name, Word: look.word, Icon: look.icon, Class: look.class, Bars: svg.UptimeBars(j.Name, st.DailyRuns)})
	}
	switch models.WorstStatus(statuses...) {
	case models.StatusDown:
		data.Summary, data.SummaryIcon, data.SummaryClass = "Some systems down", "✕", "sp-down"
	case models.StatusLate:
		data.Summary, data.SummaryIcon, data.SummaryClass = "Some systems late", "!", "sp-down"
	}
	var b bytes.Buffer
	if err := p.page.Execute(&b, data); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
