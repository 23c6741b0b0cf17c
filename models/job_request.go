package models

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Limits on job fields (SPEC §3.3).
const (
	MaxHeaders  = 50
	MaxBodySize = 64 << 10
	MaxURLLen   = 2048
	MaxTags     = 20
)

// Methods a check may use.
var Methods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

// JobRequest is the body of POST and PUT /jobs with CronPulse's field names.
// Nil pointers were not sent; Body distinguishes "not sent" from null.
type JobRequest struct {
	Name               *string          `json:"name"`
	ProjectID          *string          `json:"projectId"`
	URL                *string          `json:"url"`
	Method             *string          `json:"method"`
	Schedule           *string          `json:"schedule"`
	Heartbeat          *bool            `json:"heartbeat"`
	HeartbeatTolerance *int             `json:"heartbeatTolerance"`
	Timeout            *int             `json:"timeout"`
	ExpectedStatusCode *int             `json:"expectedStatusCode"`
	Headers            *Headers         `json:"headers"`
	Body               Nullable[string] `json:"body"`
	Slug               *string          `json:"slug"`
	Timezone           *string          `json:"timezone"`
	Paused             *bool            `json:"paused"`
	FailureThreshold   *int             `json:"failureThreshold"`
	Tags               *Tags            `json:"tags"`
}

// requireForCreate checks the fields POST /jobs must carry: name, projectId
// and schedule always; url and method unless the job is a pure heartbeat.
func (r *JobRequest) requireForCreate() error {
	heartbeat := r.Heartbeat != nil && *r.Heartbeat
	switch {
	case r.Name == nil:
		return invalid("name", "is required")
	case r.ProjectID == nil || *r.ProjectID == "":
		return invalid("projectId", "is required")
	case r.URL == nil && !heartbeat:
		return invalid("url", "is required (it may be omitted only when heartbeat is true)")
	case r.Method == nil && !heartbeat:
		return invalid("method", "is required (it may be omitted only when heartbeat is true)")
	case r.Schedule == nil:
		return invalid("schedule", "is required")
	}
	return nil
}

// Patch applies the sent fields to j and validates the whole result, so a
// partial update can never leave an invalid job behind.
func (r *JobRequest) Patch(j *Job) error {
	setString(&j.Name, r.Name)
	setString(&j.ProjectID, r.ProjectID)
	setString(&j.URL, r.URL)
	if r.Method != nil {
		j.Method = strings.ToUpper(strings.TrimSpace(*r.Method))
	}
	setString(&j.Schedule, r.Schedule)
	setString(&j.Timezone, r.Timezone)
	setString(&j.Slug, r.Slug)
	set(&j.Heartbeat, r.Heartbeat)
	set(&j.HeartbeatTolerance, r.HeartbeatTolerance)
	set(&j.Timeout, r.Timeout)
	set(&j.ExpectedStatusCode, r.ExpectedStatusCode)
	set(&j.FailureThreshold, r.FailureThreshold)
	set(&j.Paused, r.Paused)
	if r.Headers != nil {
		j.Headers = *r.Headers
		if j.Headers == nil {
			j.Headers = Headers{}
		}
	}
	if r.Tags != nil {
		j.Tags = *r.Tags
		if j.Tags == nil {
			j.Tags = Tags{}
		}
	}
	if r.Body.Set {
		j.Body = r.Body.Value
	}
	return ValidateJob(j)
}

func set[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}

func setString(dst *string, src *string) {
	if src != nil {
		*dst = strings.TrimSpace(*src)
	}
}

var (
	slugPattern       = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,99}$`)
	headerNamePattern = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
	nonSlugChars      = regexp.MustCompile(`[^a-z0-9]+`)
)

// Slugify derives a URL-safe slug from a name ("Nightly DB backup" →
// "nightly-db-backup").
func Slugify(name string) string {
	s := strings.Trim(nonSlugChars.ReplaceAllString(strings.ToLower(name), "-"), "-")
	if len(s) > 100 {
		s = strings.TrimRight(s[:100], "-")
	}
	return s
}

// ValidateJob checks every field of a job and names the first bad one.
func ValidateJob(j *Job) error {
	if err := validateName(j.Name); err != nil {
		return err
	}
	if j.ProjectID == "" {
		return invalid("projectId", "is required")
	}
	if j.URL == "" && !j.Heartbeat {
		return invalid("url", "is required unless heartbeat is true")
	}
	if j.URL != "" {
		if err := validateHTTPURL("url", j.URL); err != nil {
			return err
		}
	}
	if !slices.Contains(Methods, j.Method) {
		return invalid("method", "must be one of %s (got %q)", strings.Join(Methods, ", "), truncate(j.Method, 20))
	}
	if _, err := ParseSchedule(j.Schedule, j.Timezone); err != nil {
		return err
	}
	if j.Slug != "" && !slugPattern.MatchString(j.Slug) {
		return invalid("slug", "must be 1-100 characters of a-z, 0-9, - and _, starting with a letter or digit")
	}
	switch {
	case j.HeartbeatTolerance < 0 || j.HeartbeatTolerance > 43200:
		return invalid("heartbeatTolerance", "must be between 0 and 43200 minutes")
	case j.Timeout < 1 || j.Timeout > 300:
		return invalid("timeout", "must be between 1 and 300 seconds")
	case j.ExpectedStatusCode < 100 || j.ExpectedStatusCode > 599:
		return invalid("expectedStatusCode", "must be an HTTP status code between 100 and 599")
	case j.FailureThreshold < 1 || j.FailureThreshold > 100:
		return invalid("failureThreshold", "must be between 1 and 100")
	}
	if err := validateHeaders(j.Headers); err != nil {
		return err
	}
	if j.Body != nil && len(*j.Body) > MaxBodySize {
		return invalid("body", "must be at most %d bytes", MaxBodySize)
	}
	// PostgreSQL text cannot hold NUL; refusing it on both databases keeps
	// them alike (FuzzJobBodies covers it).
	if j.Body != nil && strings.ContainsRune(*j.Body, 0) {
		return invalid("body", "must not contain NUL characters")
	}
	if len(j.Tags) > MaxTags {
		return invalid("tags", "at most %d tags", MaxTags)
	}
	for _, t := range j.Tags {
		if t == "" || utf8.RuneCountInString(t) > 50 || strings.ContainsAny(t, " \t\r\n\x00") {
			return invalid("tags", "each tag must be 1-50 characters without spaces")
		}
	}
	return nil
}

func validateHeaders(h Headers) error {
	if len(h) > MaxHeaders {
		return invalid("headers", "at most %d headers (got %d)", MaxHeaders, len(h))
	}
	for name, value := range h {
		if !headerNamePattern.MatchString(name) {
			return invalid("headers", "%q is not a valid header name", truncate(name, 40))
		}
		if strings.ContainsAny(value, "\r\n\x00") {
			return invalid("headers", "value of %s must not contain CR, LF or NUL", name)
		}
		if len(value) > 8192 {
			return invalid("headers", "value of %s is longer than 8192 bytes", name)
		}
		if http.CanonicalHeaderKey(name) == "Host" || http.CanonicalHeaderKey(name) == "Content-Length" {
			return invalid("headers", "%s cannot be set", http.CanonicalHeaderKey(name))
		}
	}
	return nil
}

// validateHTTPURL accepts absolute http and https URLs with a host.
func validateHTTPURL(field, raw string) error {
	if len(raw) > MaxURLLen {
		return invalid(field, "must be at most %d characters", MaxURLLen)
	}
	if strings.ContainsAny(raw, " \t\r\n\x00") {
		return invalid(field, "must not contain spaces or control characters")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return invalid(field, "is not a valid URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return invalid(field, "must be an absolute http or https URL (got scheme %q)", truncate(u.Scheme, 20))
	}
	if u.Host == "" || u.Hostname() == "" {
		return invalid(field, "must include a host")
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
