package handlers

import (
	"errors"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/cronpulse/cronpulse/models"
	"github.com/gofiber/fiber/v2"
)

// The job form: GET /jobs/new (?project=ID), POST /jobs, GET
// /jobs/{id}/edit, POST /jobs/{id}. Its inputs are named as the API's JSON
// fields (models.JobRequest); the posted form becomes a JobRequest and goes
// through the store's NewJob / UpdateJob, so it validates exactly as POST
// and PUT /jobs do. The first bad field's message is shown next to it, with
// what was typed.

// jobFormFields are the text inputs of the form, by JobRequest JSON name.
var jobFormFields = []string{"name", "slug", "projectId", "schedule", "timezone", "heartbeatTolerance",
	"url", "method", "headers", "body", "expectedStatusCode", "timeout", "failureThreshold", "tags"}

// jobFormData is the form's page data.
type jobFormData struct {
	Action    string            // where it posts
	Job       *models.Job       // the job edited, nil for a new one
	V         map[string]string // the values shown, by field
	Heartbeat bool
	Paused    bool
	ErrField  string // the field the error is about, "" for none or the form
	ErrMsg    string
	Projects  []models.Project
	Methods   []string
	Preview   schedulePreview
}

// Err is the error message of field, or "".
func (d jobFormData) Err(field string) string {
	if d.ErrField == field {
		return d.ErrMsg
	}
	return ""
}

// FormError is the error not about one of the form's fields, or "".
func (d jobFormData) FormError() string {
	if d.ErrMsg != "" && !slices.Contains(jobFormFields, d.ErrField) && d.ErrField != "heartbeat" && d.ErrField != "paused" {
		return d.ErrMsg
	}
	return ""
}

// jobValues are a job's fields as the form shows them.
func jobValues(j *models.Job) map[string]string {
	v := map[string]string{
		"name": j.Name, "slug": j.Slug, "projectId": j.ProjectID, "schedule": j.Schedule, "timezone": j.Timezone,
		"heartbeatTolerance": strconv.Itoa(j.HeartbeatTolerance), "url": j.URL, "method": j.Method,
		"expectedStatusCode": strconv.Itoa(j.ExpectedStatusCode), "timeout": strconv.Itoa(j.Timeout),
		"failureThreshold": strconv.Itoa(j.FailureThreshold), "tags": strings.Join(j.Tags, ", "),
	}
	if j.Body != nil {
		v["body"] = *j.Body
	}
	names := make([]string, 0, len(j.Headers))
	for name := range j.Headers {
		names = append(names, name)
	}
	sort.Strings(names)
	var lines []string
	for _, name := range names {
		lines = append(lines, name+": "+j.Headers[name])
	}
	v["headers"] = strings.Join(lines, "\n")
	return v
}

// formValues reads the posted form's fields, copied out of Fiber's
// buffers (the job built from them outlives the request in the engine).
func formValues(c *fiber.Ctx) (v map[string]string, heartbeat, paused bool) {
	v = map[string]string{}
	for _, f := range jobFormFields {
		v[f] = strings.Clone(c.FormValue(f))
	}
	return v, c.FormValue("heartbeat") == "true", c.FormValue("paused") == "true"
}

// jobRequest turns the form's values into the API's request. Empty number
// fields and an empty slug are not sent on create (the defaults apply). A
// value the API could not even decode (a number that is not one, a header
// line without a colon) is a ValidationError of its field.
func jobRequest(v map[string]string, heartbeat, paused, create bool) (*models.JobRequest, error) {
	r := &models.JobRequest{Heartbeat: &heartbeat, Paused: &paused}
	str := func(field string) *string { s := v[field]; return &s }
	r.Name, r.ProjectID, r.Schedule = str("name"), str("projectId"), str("schedule")
	r.URL, r.Method = str("url"), str("method")
	if strings.TrimSpace(v["timezone"]) != "" { // empty: the default (UTC), or the job's own
		r.Timezone = str("timezone")
	}
	if s := strings.TrimSpace(v["slug"]); s != "" || !create {
		r.Slug = &s
	}
	for _, n := range []struct {
		field string
		dst   **int
	}{{"heartbeatTolerance", &r.HeartbeatTolerance}, {"expectedStatusCode", &r.ExpectedStatusCode},
		{"timeout", &r.Timeout}, {"failureThreshold", &r.FailureThreshold}} {
		s := strings.TrimSpace(v[n.field])
		if s == "" {
			continue
		}
		i, err := strconv.Atoi(s)
		if err != nil {
			return nil, &models.ValidationError{Field: n.field, Message: "must be a whole number"}
		}
		*n.dst = &i
	}
	headers := models.Headers{}
	for _, line := range strings.Split(v["headers"], "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, &models.ValidationError{Field: "headers", Message: "each line must be Name: value"}
		}
		headers[strings.TrimSpace(name)] = strings.TrimSpace(value)
	}
	r.Headers = &headers
	tags := models.Tags{}
	for _, t := range strings.FieldsFunc(v["tags"], func(r rune) bool { return r == ',' || r == '\n' }) {
		if t = strings.TrimSpace(t); t != "" {
			tags = append(tags, t)
		}
	}
	r.Tags = &tags
	r.Body.Set = true
	if v["body"] != "" {
		b := v["body"]
		r.Body.Value = &b
	}
	return r, nil
}

// renderJobForm shows the form with d's values (and the projects to choose
// from), with status.
func (w *Web) renderJobForm(c *fiber.Ctx, status int, title string, d jobFormData) error {
	var err error
	if d.Projects, err = w.store.Projects(models.ProjectFilter{Page: models.Page{Limit: 500}}); err != nil {
		return err
	}
	d.Methods = models.Methods
	if d.V["schedule"] != "" {
		d.Preview = w.preview(d.V["schedule"], d.V["timezone"])
	}
	return w.render(c, status, "job_form", w.newPage(c, title, d))
}

// formError fills d's error from err if it is the user's (a validation
// error, a conflict) and reports whether it was.
func formError(d *jobFormData, err error) bool {
	var ve *models.ValidationError
	switch {
	case errors.As(err, &ve):
		d.ErrField, d.ErrMsg = ve.Field, ve.Message
	case errors.Is(err, models.ErrConflict):
		d.ErrField, d.ErrMsg = "slug", "another job of this project has this slug"
	default:
		return false
	}
	return true
}

func (w *Web) newJobForm(c *fiber.Ctx) error {
	d := jobFormData{Action: "/jobs", V: map[string]string{
		"projectId": strings.Clone(c.Query("project")), "method": "GET", "timezone": "UTC",
		"heartbeatTolerance": "5", "timeout": "30", "expectedStatusCode": "200", "failureThreshold": "1",
	}}
	return w.renderJobForm(c, fiber.StatusOK, "New job", d)
}

func (w *Web) createJobForm(c *fiber.Ctx) error {
	v, hb, paused := formValues(c)
	d := jobFormData{Action: "/jobs", V: v, Heartbeat: hb, Paused: paused}
	req, err := jobRequest(v, hb, paused, true)
	var j *models.Job
	if err == nil {
		if j, err = w.store.NewJob(req); err == nil {
			err = w.store.CreateJob(j)
		}
	}
	if err != nil {
		if !formError(&d, err) {
			return err
		}
		return w.renderJobForm(c, fiber.StatusBadRequest, "New job", d)
	}
	w.changed(j)
	w.flash(c, "ok", "Created "+j.Name+".")
	return c.Redirect("/jobs/"+j.ID, fiber.StatusSeeOther)
}

func (w *Web) editJobForm(c *fiber.Ctx) error {
	j, err := w.store.Job(c.Params("id"))
	if err != nil {
		return err
	}
	d := jobFormData{Action: "/jobs/" + j.ID, Job: j, V: jobValues(j), Heartbeat: j.Heartbeat, Paused: j.Paused}
	return w.renderJobForm(c, fiber.StatusOK, "Edit "+j.Name, d)
}

func (w *Web) updateJobForm(c *fiber.Ctx) error {
	j, err := w.store.Job(c.Params("id"))
	if err != nil {
		return err
	}
	v, hb, paused := formValues(c)
	d := jobFormData{Action: "/jobs/" + j.ID, Job: j, V: v, Heartbeat: hb, Paused: paused}
	req, err := jobRequest(v, hb, paused, false)
	var updated *models.Job
	if err == nil {
		updated, err = w.store.UpdateJob(j.ID, req)
	}
	if err != nil {
		if !formError(&d, err) {
			return err
		}
		return w.renderJobForm(c, fiber.StatusBadRequest, "Edit "+j.Name, d)
	}
	w.changed(updated)
	w.flash(c, "ok", "Saved "+updated.Name+".")
	return c.Redirect("/jobs/"+updated.ID, fiber.StatusSeeOther)
}
