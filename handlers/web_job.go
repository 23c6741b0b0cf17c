package handlers

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cronpulse/cronpulse/models"
	"github.com/gofiber/fiber/v2"
)

// The job page (GET /jobs/{id}): status, schedule, ping URL and snippets
// (for roles that may write jobs: the URL is a capability), the request an
// HTTP check makes, 30 days of stats and the event log (pings, check runs,
// flips with their notifications, newest first, eventsPerPage a page, the
// `before` cursor). Its buttons post to /jobs/{id}/pause, /resume, /run and
// /delete (after the confirmation page GET /jobs/{id}/delete).

// eventsPerPage is how many events one page of the event log shows.
const eventsPerPage = 25

// registerJobs mounts the job pages and forms.
func (w *Web) registerJobs(f fiber.Router) {
	read := []fiber.Handler{w.signedIn, w.require(models.PermReadJobs)}
	write := []fiber.Handler{w.signedIn, w.require(models.PermWriteJobs)}
	f.Get("/jobs/new", append(write, w.newJobForm)...)
	f.Post("/jobs", append(write, w.createJobForm)...)
	f.Get("/jobs/:id", append(read, w.jobPage)...)
	f.Post("/jobs/:id", append(write, w.updateJobForm)...)
	f.Get("/jobs/:id/edit", append(write, w.editJobForm)...)
	f.Get("/jobs/:id/pings/:n", append(read, w.pingBody)...)
	f.Post("/jobs/:id/pause", append(write, w.jobSetPaused(true))...)
	f.Post("/jobs/:id/resume", append(write, w.jobSetPaused(false))...)
	f.Post("/jobs/:id/run", append(write, w.jobRun)...)
	f.Get("/jobs/:id/delete", append(write, w.jobDeleteConfirm)...)
	f.Post("/jobs/:id/delete", append(write, w.jobDelete)...)
}

// event is one entry of the job page's event log.
type event struct {
	Kind  string // "ping", "check" or "flip"
	At    time.Time
	Ping  *models.Ping
	Check *models.CheckRun
	Flip  *models.Flip
	Notes []models.FlipNotification
	rank  int   // at equal times: pings, then checks, then flips
	id    int64 // then higher ids first
}

// When is At for the rel and datetime template functions.
func (e event) When() *time.Time { return &e.At }

// cursor is the event's position, for the next page's `before`.
func (e event) cursor() string { return fmt.Sprintf("%d_%d_%d", e.At.UnixMicro(), e.rank, e.id) }

// before reports whether e comes before o in the log (newer first).
func (e event) before(o event) bool {
	if !e.At.Equal(o.At) {
		return e.At.After(o.At)
	}
	if e.rank != o.rank {
		return e.rank < o.rank
	}
	return e.id > o.id
}

// parseEventCursor reads a `before` cursor: microseconds_rank_id.
func parseEventCursor(s string) (t time.Time, rank int, id int64, err error) {
	parts := strings.Split(s, "_")
	bad := &models.ValidationError{Field: "before", Message: "not a cursor of this page"}
	if len(parts) != 3 {
		return t, 0, 0, bad
	}
	us, err1 := strconv.ParseInt(parts[0], 10, 64)
	rank, err2 := strconv.Atoi(parts[1])
	id, err3 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || rank < 0 || rank > 2 {
		return t, 0, 0, bad
	}
	return time.UnixMicro(us).UTC(), rank, id, nil
}

// events loads one page of a job's event log before the cursor ("" for
// the newest) and the cursor of the page after it ("" on the last).
func (w *Web) events(jobID, before string) ([]event, string, error) {
	rf := models.RunFilter{JobID: jobID, Limit: eventsPerPage + 1}
	var ft time.Time
	fid := int64(math.MaxInt64)
	if before != "" {
		t, rank, id, err := parseEventCursor(before)
		if err != nil {
			return nil, "", err
		}
		ft = t
		if rank == 2 {
			// After a flip at t: the runs at t came before it.
			rf.Cursor = fmt.Sprintf("%d_1_0", t.UnixMicro())
			fid = id
		} else {
			rf.Cursor = fmt.Sprintf("%d_%d_%d", t.UnixMicro(), rank, id)
		}
	}
	runs, err := w.store.Runs(rf)
	if err != nil {
		return nil, "", err
	}
	flips, err := w.store.FlipsBefore(jobID, ft, fid, eventsPerPage+1)
	if err != nil {
		return nil, "", err
	}
	var out []event
	for _, r := range runs {
		if r.Ping != nil {
			out = append(out, event{Kind: "ping", At: r.At, Ping: r.Ping, rank: 0, id: r.Ping.ID})
		} else {
			out = append(out, event{Kind: "check", At: r.At, Check: r.Check, rank: 1, id: r.Check.ID})
		}
	}
	for i := range flips {
		out = append(out, event{Kind: "flip", At: flips[i].CreatedAt, Flip: &flips[i], rank: 2, id: flips[i].ID})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].before(out[j]) })
	next := ""
	if len(out) > eventsPerPage {
		out = out[:eventsPerPage]
		next = out[len(out)-1].cursor()
	}
	var ids []int64
	for _, e := range out {
		if e.Flip != nil {
			ids = append(ids, e.Flip.ID)
		}
	}
	notes, err := w.store.FlipNotifications(ids)
	if err != nil {
		return nil, "", err
	}
	for i := range out {
		if out[i].Flip != nil {
			out[i].Notes = notes[out[i].Flip.ID]
		}
	}
	return out, next, nil
}

// zonedTime is a time shown in a job's zone.
type zonedTime struct {
	At   time.Time
	Text string
}

// When is At for the datetime template function.
func (z zonedTime) When() *time.Time { return &z.At }

// schedulePreview is a schedule's description and next runs, as the job
// page and the form show them (from the validate endpoint's checkSchedule).
type schedulePreview struct {
	Valid       bool
	Error       string
	Description string
	Next        []zonedTime
}

func (w *Web) preview(expr, tz string) schedulePreview {
	c := checkSchedule(expr, tz, w.store.Now())
	p := schedulePreview{Valid: c.Valid, Description: c.Description}
	if c.Error != nil {
		p.Error = *c.Error
	}
	for _, t := range c.NextRuns {
		p.Next = append(p.Next, zonedTime{At: t, Text: t.Format("Mon 2 Jan 2006 15:04 MST")})
	}
	return p
}

// jobPageData is the job page's data.
type jobPageData struct {
	Job       *models.Job
	Project   string
	Since     *time.Time // the last flip
	Schedule  schedulePreview
	PingURL   string // "" for roles that may not see it
	Crontab   string
	Runitor   string
	Wrapper   string
	LastError string
	Stats     *models.JobStats
	Events    []event
	Next      string // the older events' URL, "" on the last page
	First     string // the newest events' URL, "" on the first page
}

func (w *Web) jobPage(c *fiber.Ctx) error {
	j, err := w.store.Job(c.Params("id"))
	if err != nil {
		return err
	}
	d := jobPageData{Job: j, Schedule: w.preview(j.Schedule, j.Timezone)}
	if p, err := w.store.Project(j.ProjectID); err == nil {
		d.Project = p.Name
	}
	last, err := w.store.FlipsBefore(j.ID, time.Time{}, 0, 1)
	if err != nil {
		return err
	}
	if len(last) > 0 {
		d.Since = &last[0].CreatedAt
	} else {
		d.Since = &j.CreatedAt // no flip yet: the status holds since the job was made
	}
	if webUser(c).Can(models.PermWriteJobs) {
		d.PingURL = w.baseURL + "/ping/" + j.PingToken
		d.Crontab = "*/5 * * * * /path/to/script && curl -fsS -m 10 --retry 5 -o /dev/null " + d.PingURL
		// runitor's flags (its README): -api-url is the Healthchecks-style
		// ping base (it pings BASE/UUID, /start, /fail or /EXITCODE, all of
		// which /ping takes), -uuid the check's token.
		d.Runitor = "runitor -api-url " + w.baseURL + "/ping -uuid " + j.PingToken + " -- /path/to/script"
		d.Wrapper = "curl -fsS -m 10 --retry 5 -o /dev/null " + d.PingURL + "/start\n/path/to/script\ncurl -fsS -m 10 --retry 5 -o /dev/null " + d.PingURL + "/$?"
	}
	if j.IsCheck() {
		runs, err := w.store.Runs(models.RunFilter{JobID: j.ID, Type: "check", Limit: 1})
		if err != nil {
			return err
		}
		if len(runs) > 0 && runs[0].Check.Result != models.RunSuccess {
			d.LastError = runs[0].Check.Error
			if d.LastError == "" {
				d.LastError = runs[0].Check.Result
			}
		}
	}
	if d.LastError == "" && j.Status == models.StatusDown && len(last) > 0 {
		d.LastError = last[0].Reason
	}
	if d.Stats, err = w.store.JobStatsOf(j.ID, "30d", ""); err != nil {
		return err
	}
	before := strings.Clone(c.Query("before"))
	if d.Events, d.Next, err = w.events(j.ID, before); err != nil {
		return err
	}
	if d.Next != "" {
		d.Next = "/jobs/" + j.ID + "?before=" + d.Next + "#events"
	}
	if before != "" {
		d.First = "/jobs/" + j.ID + "#events"
	}
	return w.render(c, fiber.StatusOK, "job", w.newPage(c, j.Name, d))
}

// pingBodyData is the ping body page's data.
type pingBodyData struct {
	Job  *models.Job
	N    int64
	Body string
}

func (w *Web) pingBody(c *fiber.Ctx) error {
	j, err := w.store.Job(c.Params("id"))
	if err != nil {
		return err
	}
	n, err := strconv.ParseInt(c.Params("n"), 10, 64)
	if err != nil || n < 1 {
		return fiber.NewError(fiber.StatusNotFound, "There is no such ping.")
	}
	body, err := w.store.PingBody(j.ID, n)
	if err != nil {
		return err
	}
	title := fmt.Sprintf("Ping #%d of %s", n, j.Name)
	return w.render(c, fiber.StatusOK, "job_ping", w.newPage(c, title, pingBodyData{Job: j, N: n, Body: body}))
}

// jobSetPaused serves POST /jobs/{id}/pause and /resume, as the API's.
func (w *Web) jobSetPaused(paused bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		j, err := w.store.UpdateJob(c.Params("id"), &models.JobRequest{Paused: &paused})
		if err != nil {
			return err
		}
		w.changed(j)
		if paused {
			w.flash(c, "ok", "Paused "+j.Name+".")
		} else {
			w.flash(c, "ok", "Resumed "+j.Name+".")
		}
		return c.Redirect("/jobs/"+j.ID, fiber.StatusSeeOther)
	}
}

// changed tells the engine that a job changed, as the API does.
func (w *Web) changed(j *models.Job) {
	if w.hooks.Changed != nil {
		w.hooks.Changed(j)
	}
}

// jobRun serves POST /jobs/{id}/run: the HTTP check now, through the hook
// the API's POST /jobs/{id}/trigger calls; the result is flashed.
func (w *Web) jobRun(c *fiber.Ctx) error {
	j, err := w.store.Job(c.Params("id"))
	if err != nil {
		return err
	}
	back := "/jobs/" + j.ID
	switch {
	case !j.IsCheck():
		w.flash(c, "error", "Only HTTP checks can be run now: this job has no URL.")
		return c.Redirect(back, fiber.StatusSeeOther)
	case w.hooks.Trigger == nil:
		w.flash(c, "error", "The checker is not running: try again later.")
		return c.Redirect(back, fiber.StatusSeeOther)
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), time.Duration(j.Timeout+5)*time.Second)
	defer cancel()
	run, err := w.hooks.Trigger(ctx, j)
	if err != nil {
		_, msg := classify(err)
		w.flash(c, "error", "The check did not run: "+msg)
		return c.Redirect(back, fiber.StatusSeeOther)
	}
	w.flash(c, flashKind(run.Result == models.RunSuccess), runSummary(run))
	return c.Redirect(back, fiber.StatusSeeOther)
}

func flashKind(ok bool) string {
	if ok {
		return "ok"
	}
	return "error"
}

// runSummary says what a check run found: "Ran the check: success (HTTP
// 200, 12 ms)."
func runSummary(r *models.CheckRun) string {
	var parts []string
	if r.HTTPStatus != nil {
		parts = append(parts, "HTTP "+strconv.Itoa(*r.HTTPStatus))
	}
	parts = append(parts, strconv.FormatInt(r.ResponseTimeMs, 10)+" ms")
	msg := "Ran the check: " + r.Result + " (" + strings.Join(parts, ", ") + ")"
	if r.Error != "" {
		msg += ": " + truncateBytes(r.Error, 300) // a flash holds 500 bytes
	}
	return msg + "."
}

// jobDeleteConfirm serves GET /jobs/{id}/delete: what will go.
func (w *Web) jobDeleteConfirm(c *fiber.Ctx) error {
	j, err := w.store.Job(c.Params("id"))
	if err != nil {
		return err
	}
	return w.render(c, fiber.StatusOK, "job_delete", w.newPage(c, "Delete "+j.Name+"?", j))
}

// jobDelete serves POST /jobs/{id}/delete.
func (w *Web) jobDelete(c *fiber.Ctx) error {
	j, err := w.store.Job(c.Params("id"))
	if err != nil {
		return err
	}
	if err := w.store.DeleteJob(j.ID); err != nil {
		return err
	}
	if w.hooks.Deleted != nil {
		w.hooks.Deleted(j.ID)
	}
	w.flash(c, "ok", "Deleted "+j.Name+".")
	return c.Redirect("/", fiber.StatusSeeOther)
}

// truncateBytes cuts s to at most n bytes at a character boundary,
// marking the cut with "…".
func truncateBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
