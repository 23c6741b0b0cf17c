package models_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/cronpulse/cronpulse/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// validJobFixture is a job that passes validation; cases change one thing.
func validJobFixture() *models.Job {
	body := "payload"
	return &models.Job{
		Name: "Health Check", ProjectID: "cproject", URL: "https://example.com/health", Method: "GET",
		Schedule: "*/5 * * * *", Timezone: "UTC", HeartbeatTolerance: 5, Timeout: 30,
		ExpectedStatusCode: 200, FailureThreshold: 1, Headers: models.Headers{"Authorization": "Bearer t"},
		Body: &body, Tags: models.Tags{"prod"},
	}
}

func TestValidateJob(t *testing.T) {
	big := strings.Repeat("b", models.MaxBodySize+1)
	cases := []struct {
		name   string
		change func(j *models.Job)
		field  string // "" means valid
	}{
		{"valid", func(j *models.Job) {}, ""},
		{"pure heartbeat without url", func(j *models.Job) { j.URL, j.Heartbeat = "", true }, ""},
		{"100-character name", func(j *models.Job) { j.Name = strings.Repeat("n", 100) }, ""},
		{"100 runes of UTF-8", func(j *models.Job) { j.Name = strings.Repeat("ü", 100) }, ""},
		{"101-character name", func(j *models.Job) { j.Name = strings.Repeat("n", 101) }, "name"},
		{"empty name", func(j *models.Job) { j.Name = "" }, "name"},
		{"multi-line name", func(j *models.Job) { j.Name = "a\nb" }, "name"},
		{"no project", func(j *models.Job) { j.ProjectID = "" }, "projectId"},
		{"no url, no heartbeat", func(j *models.Job) { j.URL = "" }, "url"},
		{"ftp url", func(j *models.Job) { j.URL = "ftp://example.com/x" }, "url"},
		{"file url", func(j *models.Job) { j.URL = "file:///etc/passwd" }, "url"},
		{"javascript url", func(j *models.Job) { j.URL = "javascript:alert(1)" }, "url"},
		{"url without host", func(j *models.Job) { j.URL = "http:///path" }, "url"},
		{"url with space", func(j *models.Job) { j.URL = "https://example.com/a b" }, "url"},
		{"url too long", func(j *models.Job) { j.URL = "https://example.com/" + strings.Repeat("a", models.MaxURLLen) }, "url"},
		{"http url with port and query", func(j *models.Job) { j.URL = "http://127.0.0.1:8080/x?y=1" }, ""},
		{"every method", func(j *models.Job) { j.Method = "OPTIONS" }, ""},
		{"unknown method", func(j *models.Job) { j.Method = "FETCH" }, "method"},
		{"lowercase method is not normalised here", func(j *models.Job) { j.Method = "get" }, "method"},
		{"bad schedule", func(j *models.Job) { j.Schedule = "every day" }, "schedule"},
		{"bad timezone", func(j *models.Job) { j.Timezone = "Nowhere/City" }, "timezone"},
		{"bad slug", func(j *models.Job) { j.Slug = "Has Spaces" }, "slug"},
		{"good slug", func(j *models.Job) { j.Slug = "nightly-backup_2" }, ""},
		{"tolerance negative", func(j *models.Job) { j.HeartbeatTolerance = -1 }, "heartbeatTolerance"},
		{"timeout 0", func(j *models.Job) { j.Timeout = 0 }, "timeout"},
		{"timeout 300", func(j *models.Job) { j.Timeout = 300 }, ""},
		{"timeout 301", func(j *models.Job) { j.Timeout = 301 }, "timeout"},
		{"status 99", func(j *models.Job) { j.ExpectedStatusCode = 99 }, "expectedStatusCode"},
		{"status 301", func(j *models.Job) { j.ExpectedStatusCode = 301 }, ""},
		{"failure threshold 0", func(j *models.Job) { j.FailureThreshold = 0 }, "failureThreshold"},
		{"51 headers", func(j *models.Job) {
			j.Headers = models.Headers{}
			for i := 0; i <= models.MaxHeaders; i++ {
				j.Headers["X-H"+strings.Repeat("a", i)] = "v"
			}
		}, "headers"},
		{"header value CR LF", func(j *models.Job) { j.Headers = models.Headers{"X-A": "v\r\nX-B: 1"} }, "headers"},
		{"header value NUL", func(j *models.Job) { j.Headers = models.Headers{"X-A": "v\x00"} }, "headers"},
		{"header name with colon", func(j *models.Job) { j.Headers = models.Headers{"X:A": "v"} }, "headers"},
		{"Host header", func(j *models.Job) { j.Headers = models.Headers{"host": "evil"} }, "headers"},
		{"body at the limit", func(j *models.Job) { b := big[1:]; j.Body = &b }, ""},
		{"body over the limit", func(j *models.Job) { j.Body = &big }, "body"},
		{"body with NUL", func(j *models.Job) { b := "a\x00"; j.Body = &b }, "body"},
		{"null body", func(j *models.Job) { j.Body = nil }, ""},
		{"21 tags", func(j *models.Job) {
			j.Tags = make(models.Tags, 21)
			for i := range j.Tags {
				j.Tags[i] = "t"
			}
		}, "tags"},
		{"tag with space", func(j *models.Job) { j.Tags = models.Tags{"a b"} }, "tags"},
		{"empty tag", func(j *models.Job) { j.Tags = models.Tags{""} }, "tags"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			j := validJobFixture()
			c.change(j)
			err := models.ValidateJob(j)
			if c.field == "" {
				assert.NoError(t, err)
				return
			}
			var ve *models.ValidationError
			require.True(t, errors.As(err, &ve), "want a validation error on %s, got %v", c.field, err)
			assert.Equal(t, c.field, ve.Field)
			assert.True(t, strings.HasPrefix(err.Error(), c.field+": "), "the message names the field: %s", err)
		})
	}
}

func TestJobRequestPatch(t *testing.T) {
	j := validJobFixture()
	name, method := "  Renamed  ", " post "
	r := models.JobRequest{Name: &name, Method: &method, Body: models.Nullable[string]{Set: true}}
	require.NoError(t, r.Patch(j))
	assert.Equal(t, "Renamed", j.Name, "trimmed")
	assert.Equal(t, "POST", j.Method, "normalised")
	assert.Nil(t, j.Body, "an explicit null clears the body")
	assert.Equal(t, "https://example.com/health", j.URL, "fields not sent stay")

	bad := "ftp://x"
	before := *validJobFixture()
	j2 := validJobFixture()
	err := (&models.JobRequest{URL: &bad}).Patch(j2)
	require.Error(t, err)
	assert.Equal(t, before.Name, j2.Name)
}

func TestValidateProject(t *testing.T) {
	cases := []struct {
		name  string
		p     models.Project
		field string
	}{
		{"name only", models.Project{Name: "P"}, ""},
		{"https url", models.Project{Name: "P", URL: "https://example.com"}, ""},
		{"empty name", models.Project{Name: ""}, "name"},
		{"long name", models.Project{Name: strings.Repeat("p", 101)}, "name"},
		{"ftp url", models.Project{Name: "P", URL: "ftp://example.com"}, "url"},
		{"url without scheme", models.Project{Name: "P", URL: "example.com"}, "url"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := models.ValidateProject(&c.p)
			if c.field == "" {
				assert.NoError(t, err, c.p)
				return
			}
			var ve *models.ValidationError
			require.True(t, errors.As(err, &ve), "%+v: %v", c.p, err)
			assert.Equal(t, c.field, ve.Field)
		})
	}
}

func TestParsePermissions(t *testing.T) {
	got, err := models.ParsePermissions([]string{" read:jobs", "write:jobs", "read:jobs"})
	require.NoError(t, err)
	assert.Equal(t, []string{"read:jobs", "write:jobs"}, got, "trimmed and deduplicated")
	for _, bad := range [][]string{nil, {}, {""}, {"admin"}, {"read:jobs", "READ:JOBS"}} {
		_, err := models.ParsePermissions(bad)
		var ve *models.ValidationError
		require.True(t, errors.As(err, &ve), "%q", bad)
		assert.Equal(t, "permissions", ve.Field)
	}
}

func TestKeyPrefix(t *testing.T) {
	good := "cpk_" + strings.Repeat("A", 8) + strings.Repeat("z", 24)
	assert.Equal(t, good[:12], models.KeyPrefix(good))
	for _, bad := range []string{"", "cpk_", good[:len(good)-1], good + "x", "cpx_" + good[4:], good[:20] + "!" + good[21:], strings.Replace(good, "A", "é", 1)} {
		assert.Empty(t, models.KeyPrefix(bad), "%q", bad)
	}
}

func TestSlugify(t *testing.T) {
	for in, want := range map[string]string{
		"Nightly DB backup":      "nightly-db-backup",
		"  --Weird__Name!!  ":    "weird-name",
		"Ünïcode only":           "n-code-only",
		"日本語":                    "",
		strings.Repeat("a", 150): strings.Repeat("a", 100),
	} {
		t.Run(in, func(t *testing.T) {
			assert.Equal(t, want, models.Slugify(in), in)
		})
	}
}
