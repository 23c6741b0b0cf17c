package handlers

import (
	"html/template"

	"github.com/cronpulse/cronpulse/views/svg"
	"net/url"
	"strings"

	"github.com/cronpulse/cronpulse/models"
	"github.com/gofiber/fiber/v2"
)

// overviewPageSize is how many jobs one page of the overview shows.
const overviewPageSize = 50

// overviewSortDefault is the overview's order when the URL names none:
// down first, then late (GET /jobs's sort=status).
const overviewSortDefault = models.SortStatus

// overviewSortID is the sort value of the id order (oldest first), which
// the API names by leaving sort out.
const overviewSortID = "created"

// overviewFilter is the overview's filter as its URL (and the bulk form)
// carries it: status (a comma list), project (an id), tag (repeatable),
// q and sort.
type overviewFilter struct {
	Status  string
	Project string
	Tags    []string
	Q       string
	Sort    string
}

// readOverviewFilter reads the filter with get (one value) and multi (a
// repeatable one), from a query or a form, and returns it with the job
// filter it means (validated as GET /jobs validates its own).
func readOverviewFilter(get func(string) string, multi func(string) []string) (overviewFilter, models.JobFilter, error) {
	f := overviewFilter{
		Status:  strings.TrimSpace(get("status")),
		Project: strings.TrimSpace(get("project")),
		Tags:    multi("tag"),
		Q:       strings.TrimSpace(get("q")),
		Sort:    get("sort"),
	}
	if f.Sort == "" {
		f.Sort = overviewSortDefault
	}
	jf := models.JobFilter{ProjectID: f.Project, Query: f.Q, Tags: f.Tags, Sort: f.Sort}
	if f.Sort == overviewSortID {
		jf.Sort = ""
	}
	if f.Status != "" {
		var err error
		if jf.Statuses, err = models.ParseStatuses(f.Status); err != nil {
			return f, jf, err
		}
	}
	return f, jf, models.ValidateJobFilter(&jf)
}

// queryFilter reads the overview filter from the URL.
func queryFilter(c *fiber.Ctx) (overviewFilter, models.JobFilter, error) {
	return readOverviewFilter(
		func(k string) string { return strings.Clone(c.Query(k)) },
		func(k string) []string { return cloneAll(c.Context().QueryArgs().PeekMulti(k)) })
}

// formFilter reads the overview filter from a posted form.
func formFilter(c *fiber.Ctx) (overviewFilter, models.JobFilter, error) {
	return readOverviewFilter(
		func(k string) string { return strings.Clone(c.FormValue(k)) },
		func(k string) []string { return cloneAll(c.Request().PostArgs().PeekMulti(k)) })
}

// cloneAll copies values out of Fiber's reused buffers, dropping empty
// ones (an empty tag field means no tag).
func cloneAll(vs [][]byte) []string {
	var out []string
	for _, v := range vs {
		if s := strings.TrimSpace(string(v)); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// values is the filter as URL parameters, the default sort left out.
func (f overviewFilter) values() url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("status", f.Status)
	set("project", f.Project)
	for _, t := range f.Tags {
		v.Add("tag", t)
	}
	set("q", f.Q)
	if f.Sort != overviewSortDefault {
		set("sort", f.Sort)
	}
	return v
}

// URL is the overview's address showing this filter.
func (f overviewFilter) URL() string {
	if q := f.values().Encode(); q != "" {
		return "/?" + q
	}
	return "/"
}

// withStatus is f showing only status (every status for "").
func (f overviewFilter) withStatus(status string) overviewFilter {
	f.Status = status
	return f
}

// overviewRow is one job of the table.
type overviewRow struct {
	Job     models.Job
	Project string        // the project's name
	Strip   template.HTML // the last 24 hours (views/svg.Strip)
}

// statusCount is one of the counts above the table, linking to its jobs.
type statusCount struct {
	Status  string
	N       int64
	URL     string
	Current bool
}

// sortOption is a choice of the sort menu.
type sortOption struct{ Value, Label string }

var overviewSorts = []sortOption{
	{models.SortStatus, "Down and late first"},
	{models.SortName, "Name"},
	{models.SortLastActivity, "Latest activity"},
	{overviewSortID, "Oldest first"},
}

// overviewData is the overview's page data.
type overviewData struct {
	Filter   overviewFilter
	Rows     []overviewRow
	Counts   []statusCount
	AllURL   string // the filter without a status
	Down     int64  // jobs down, of every project (the tab title)
	Matching int64  // jobs the filter selects on every page (for bulk actions; 0 for viewers)
	Next     string // the next page's URL, "" on the last
	First    string // the first page's URL, "" on it
	Projects []models.Project
	Statuses []string
	Sorts    []sortOption
}

// countOrder is the order of the counts above the table.
var countOrder = []string{models.StatusUp, models.StatusDown, models.StatusLate, models.StatusNew, models.StatusPaused}

// overview serves GET /: every job of every project, filtered, 50 a page
// (the keyset cursor of GET /jobs), down and late first. With X-Partial:
// rows it answers only the counts and the table body, for app.js's
// refresh.
func (w *Web) overview(c *fiber.Ctx) error {
	f, jf, err := queryFilter(c)
	if err != nil {
		return err
	}
	jf.Cursor = strings.Clone(c.Query("cursor"))
	if err := models.ValidateJobFilter(&jf); err != nil { // the cursor's form for the sort
		return err
	}
	jf.Limit = overviewPageSize + 1
	jobs, err := w.store.Jobs(jf)
	if err != nil {
		return err
	}
	d := overviewData{Filter: f, Statuses: countOrder, Sorts: overviewSorts, AllURL: f.withStatus("").URL()}
	if len(jobs) > overviewPageSize {
		jobs = jobs[:overviewPageSize]
		v := f.values()
		v.Set("cursor", models.JobCursor(jf.Sort, &jobs[len(jobs)-1]))
		d.Next = "/?" + v.Encode()
	}
	if jf.Cursor != "" {
		d.First = f.URL()
	}
	if err := w.overviewCounts(c, &d, jf); err != nil {
		return err
	}
	projectIDs := make([]string, len(jobs))
	for i := range jobs {
		projectIDs[i] = jobs[i].ProjectID
	}
	names, err := w.store.ProjectNames(projectIDs)
	if err != nil {
		return err
	}
	ids := make([]string, len(jobs))
	for i := range jobs {
		ids[i] = jobs[i].ID
	}
	strips, err := w.store.HourlyStrips(ids, w.now())
	if err != nil {
		return err
	}
	d.Rows = make([]overviewRow, len(jobs))
	for i, j := range jobs {
		d.Rows[i] = overviewRow{Job: j, Project: names[j.ProjectID], Strip: svg.Strip("Last 24 hours of "+j.Name, strips[j.ID])}
	}
	title := "CronPulse"
	if d.Down > 0 {
		title = "(" + thousands(d.Down) + " down) CronPulse"
	}
	p := w.newPage(c, title, d)
	p.Nav = "overview"
	c.Vary("X-Partial")
	if c.Get("X-Partial") == "rows" {
		c.Set("X-Partial", "rows")
		return w.renderBlock(c, fiber.StatusOK, "overview", "live", p)
	}
	if d.Projects, err = w.store.Projects(models.ProjectFilter{Page: models.Page{Limit: 500}}); err != nil {
		return err
	}
	p.Data = d
	return w.render(c, fiber.StatusOK, "overview", p)
}

// overviewCounts fills the status counts (of the filtered project, or of
// all), the jobs down of all projects, and for users who may act on them
// how many jobs the filter selects.
func (w *Web) overviewCounts(c *fiber.Ctx, d *overviewData, jf models.JobFilter) error {
	all, err := w.store.JobStatusCounts("")
	if err != nil {
		return err
	}
	d.Down = all[models.StatusDown]
	shown := all
	if d.Filter.Project != "" {
		if shown, err = w.store.JobStatusCounts(d.Filter.Project); err != nil {
			return err
		}
	}
	for _, st := range countOrder {
		if st == models.StatusNew && shown[st] == 0 {
			continue // "new" is shown only while some job is waiting for its first ping or run
		}
		d.Counts = append(d.Counts, statusCount{Status: st, N: shown[st], URL: d.Filter.withStatus(st).URL(), Current: d.Filter.Status == st})
	}
	if webUser(c).Can(models.PermWriteJobs) {
		if d.Matching, err = w.store.CountJobs(jf); err != nil {
			return err
		}
	}
	return nil
}
