package handlers_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// validJob returns a create body for project p with one member replaced (or
// added) by the raw JSON in override, e.g. `"timeout": "30"`.
func validJob(p string, override ...string) string {
	fields := []string{
		`"name": "Health Check"`,
		`"projectId": ` + quote(p),
		`"url": "https://example.com/health"`,
		`"method": "GET"`,
		`"schedule": "*/5 * * * *"`,
	}
	for _, o := range override {
		key := o[:strings.Index(o, ":")]
		replaced := false
		for i, f := range fields {
			if strings.HasPrefix(f, key+":") {
				fields[i], replaced = o, true
			}
		}
		if !replaced {
			fields = append(fields, o)
		}
	}
	return "{" + strings.Join(fields, ", ") + "}"
}

// badJobInput is one bad request body for POST /jobs and PUT /jobs/{id}:
// the status it must get and words its error must contain.
type badJobInput struct {
	name   string
	body   func(p string) string
	code   int
	substr []string
}

func badJobInputs() []badJobInput {
	long := strings.Repeat("x", 65<<10)
	return []badJobInput{
		{"broken JSON", func(p string) string { return `{"name": "Health Check", "projectId": ` + quote(p) + `,` }, 400, []string{"JSON"}},
		{"broken JSON syntax", func(p string) string { return `{"name" "x"}` }, 400, []string{"malformed JSON"}},
		{"not an object", func(p string) string { return `["name"]` }, 400, []string{"JSON object"}},
		{"two objects", func(p string) string { return validJob(p) + `{}` }, 400, []string{"single JSON object"}},
		{"wrong type: name number", func(p string) string { return validJob(p, `"name": 5`) }, 400, []string{"name", "string"}},
		{"wrong type: timeout string", func(p string) string { return validJob(p, `"timeout": "30"`) }, 400, []string{"timeout", "whole number"}},
		{"wrong type: heartbeat string", func(p string) string { return validJob(p, `"heartbeat": "yes"`) }, 400, []string{"heartbeat", "true or false"}},
		{"wrong type: headers array", func(p string) string { return validJob(p, `"headers": ["a"]`) }, 400, []string{"headers"}},
		{"wrong type: header value number", func(p string) string { return validJob(p, `"headers": {"A": 1}`) }, 400, []string{"headers"}},
		{"wrong type: body number", func(p string) string { return validJob(p, `"body": 12`) }, 400, []string{"body"}},
		{"wrong type: fractional timeout", func(p string) string { return validJob(p, `"timeout": 1.5`) }, 400, []string{"timeout"}},
		{"unknown projectId", func(p string) string { return validJob(p, `"projectId": "cnosuchproject"`) }, 400, []string{"projectId", "does not exist"}},
		{"invalid cron", func(p string) string { return validJob(p, `"schedule": "61 * * * *"`) }, 400, []string{"schedule"}},
		{"cron with 3 fields", func(p string) string { return validJob(p, `"schedule": "* * *"`) }, 400, []string{"schedule", "5-field"}},
		{"@every too short", func(p string) string { return validJob(p, `"schedule": "@every 5s"`) }, 400, []string{"schedule", "10s"}},
		{"never matching cron", func(p string) string { return validJob(p, `"schedule": "0 0 30 2 *"`) }, 400, []string{"schedule", "never"}},
		{"unknown timezone", func(p string) string { return validJob(p, `"timezone": "Mars/Olympus_Mons"`) }, 400, []string{"timezone", "Mars/Olympus_Mons"}},
		{"ftp URL", func(p string) string { return validJob(p, `"url": "ftp://example.com/file"`) }, 400, []string{"url", "http"}},
		{"relative URL", func(p string) string { return validJob(p, `"url": "/health"`) }, 400, []string{"url"}},
		{"NUL in body", func(p string) string { return validJob(p, `"body": "a\u0000b"`) }, 400, []string{"body", "NUL"}},
		{"65 KiB body", func(p string) string { return validJob(p, `"body": `+quote(long)) }, 413, []string{"too large"}},
		{"header value with CR/LF", func(p string) string { return validJob(p, `"headers": {"X-A": "v\r\nX-Injected: 1"}`) }, 400, []string{"headers", "CR"}},
		{"header value with LF", func(p string) string { return validJob(p, `"headers": {"X-A": "v\nb"}`) }, 400, []string{"headers"}},
		{"bad header name", func(p string) string { return validJob(p, `"headers": {"X A": "v"}`) }, 400, []string{"headers", "header name"}},
		{"101-character name", func(p string) string { return validJob(p, `"name": `+quote(strings.Repeat("n", 101))) }, 400, []string{"name", "100"}},
		{"empty name", func(p string) string { return validJob(p, `"name": ""`) }, 400, []string{"name"}},
		{"unknown method", func(p string) string { return validJob(p, `"method": "FETCH"`) }, 400, []string{"method", "FETCH"}},
		{"timeout too long", func(p string) string { return validJob(p, `"timeout": 301`) }, 400, []string{"timeout"}},
		{"status code out of range", func(p string) string { return validJob(p, `"expectedStatusCode": 600`) }, 400, []string{"expectedStatusCode"}},
	}
}

func TestBadJobInputWritesNothing(t *testing.T) {
	eachEnv(t, nil, func(t *testing.T, e *env) {
		p := e.project("P")
		existing := e.job(p, "Existing")
		for _, c := range badJobInputs() {
			t.Run(c.name, func(t *testing.T) {
				before := e.counts()
				r := e.do("POST", "/api/v1/jobs", e.admin, c.body(p))
				assert.Equal(t, c.code, r.Code, "POST: %s", r.Body)
				msg := r.Error(t)
				t.Logf("POST → %d %s", r.Code, msg)
				for _, s := range c.substr {
					assert.Contains(t, msg, s, "POST error must name the problem")
				}
				assert.Equal(t, before, e.counts(), "a rejected POST writes nothing")

				// PUT validates the same way and leaves the job as it was.
				stored := e.mustJob(existing)
				r = e.do("PUT", "/api/v1/jobs/"+existing, e.admin, c.body(p))
				if c.name == "unknown projectId" || c.code == 413 {
					assert.Equal(t, c.code, r.Code, "PUT: %s", r.Body)
				} else {
					assert.GreaterOrEqual(t, r.Code, 400, "PUT: %s", r.Body)
					assert.Less(t, r.Code, 500, "PUT: %s", r.Body)
				}
				r.Error(t)
				assert.Equal(t, stored, e.mustJob(existing), "a rejected PUT changes nothing")
				assert.Equal(t, before, e.counts())
			})
		}
	})
}

func TestBadProjectInputWritesNothing(t *testing.T) {
	eachEnv(t, nil, func(t *testing.T, e *env) {
		p := e.project("Existing")
		cases := []struct {
			name, body string
			code       int
			substr     string
		}{
			{"broken JSON", `{"name": `, 400, "JSON"},
			{"missing name", `{"url": "https://example.com"}`, 400, "name"},
			{"wrong type", `{"name": true}`, 400, "name"},
			{"101-character name", `{"name": "` + strings.Repeat("n", 101) + `"}`, 400, "name"},
			{"ftp URL", `{"name": "x", "url": "ftp://example.com"}`, 400, "url"},
			{"65 KiB body", `{"name": "x", "url": "https://example.com/` + strings.Repeat("a", 65<<10) + `"}`, 413, "too large"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				before := e.counts()
				r := e.do("POST", "/api/v1/projects", e.admin, c.body)
				assert.Equal(t, c.code, r.Code, "%s", r.Body)
				assert.Contains(t, r.Error(t), c.substr)
				assert.Equal(t, before, e.counts())
				if c.name == "missing name" {
					return // a PUT may leave name out
				}
				stored, err := e.store.Project(p)
				require.NoError(t, err)
				r = e.do("PUT", "/api/v1/projects/"+p, e.admin, c.body)
				assert.Equal(t, c.code, r.Code, "PUT: %s", r.Body)
				r.Error(t)
				after, err := e.store.Project(p)
				require.NoError(t, err)
				assert.Equal(t, stored, after)
			})
		}
	})
}

func TestUnsupportedMediaType(t *testing.T) {
	eachEnv(t, nil, func(t *testing.T, e *env) {
		p := e.project("P")
		before := e.counts()
		for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "application/xml", "not a type"} {
			r := e.do("POST", "/api/v1/jobs", e.admin, validJob(p), "Content-Type", ct)
			assert.Equal(t, http.StatusUnsupportedMediaType, r.Code, "%s: %s", ct, r.Body)
			assert.Contains(t, r.Error(t), "application/json")
		}
		r := e.do("POST", "/api/v1/projects", e.admin, `{"name":"x"}`, "Content-Type", "text/plain")
		assert.Equal(t, http.StatusUnsupportedMediaType, r.Code)
		assert.Equal(t, before, e.counts())
		// JSON with a charset, and the +json suffix, are JSON.
		r = e.do("POST", "/api/v1/jobs", e.admin, validJob(p), "Content-Type", "application/json; charset=utf-8")
		assert.Equal(t, http.StatusCreated, r.Code, "%s", r.Body)
	})
}

func TestEmptyBody(t *testing.T) {
	eachEnv(t, nil, func(t *testing.T, e *env) {
		before := e.counts()
		r := e.do("POST", "/api/v1/jobs", e.admin, "")
		assert.Equal(t, http.StatusBadRequest, r.Code)
		assert.Contains(t, r.Error(t), "empty")
		r = e.do("POST", "/api/v1/jobs", e.admin, "{}")
		assert.Equal(t, http.StatusBadRequest, r.Code)
		assert.Contains(t, r.Error(t), "name")
		assert.Equal(t, before, e.counts())
	})
}
