package handlers_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cronpulse/cronpulse/handlers"
	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOpenAPIDescribesEveryRoute: the document is built from the Routes
// table and a description per route; none may be missing or left over.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	missing, stale := handlers.UndocumentedRoutes()
	assert.Empty(t, missing, "routes without a description in routeDocs")
	assert.Empty(t, stale, "descriptions of routes that do not exist")
}

// TestOpenAPIDocumentAndAnswers validates the served document with a real
// OpenAPI 3.1 validator, and real answers of the API against their schemas.
func TestOpenAPIDocumentAndAnswers(t *testing.T) {
	modelstest.Run(t, func(t *testing.T, db modelstest.Database) {
		e := newEnv(t, db, nil)
		r := e.do("GET", "/api/v1/openapi.json", "", "")
		require.Equal(t, http.StatusOK, r.Code, "the document needs no key")
		doc, err := libopenapi.NewDocument(r.Body)
		require.NoError(t, err)
		v, errs := validator.NewValidator(doc)
		require.Empty(t, errs)
		valid, verrs := v.ValidateDocument()
		for _, ve := range verrs {
			t.Errorf("document: %s: %s", ve.Message, ve.Reason)
		}
		require.True(t, valid)

		// The validator has teeth: an answer that is not a job is refused.
		fake := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(bytes.NewReader([]byte(`{"id": 5, "name": null}`)))}
		ok, _ := v.ValidateHttpResponse(httptest.NewRequest("GET", "http://localhost/api/v1/jobs/x", nil), fake)
		require.False(t, ok, "a malformed job must fail validation")

		p := e.project("api")
		job := e.job(p, "health")
		hb := e.mustCreate("/jobs", `{"name":"nightly","projectId":`+quote(p)+`,"heartbeat":true,"schedule":"@daily","tags":["db"]}`)
		ch := e.mustCreate("/channels", `{"projectId":`+quote(p)+`,"name":"hook","kind":"webhook","config":{"url":"https://example.com/hook"}}`)
		samples := []struct{ method, path, body string }{
			{"GET", "/api/v1/projects", ""},
			{"GET", "/api/v1/projects/" + p, ""},
			{"POST", "/api/v1/projects", `{"name":"second"}`},
			{"GET", "/api/v1/jobs", ""},
			{"GET", "/api/v1/jobs/" + job, ""},
			{"GET", "/api/v1/jobs/" + hb, ""},
			{"PUT", "/api/v1/jobs/" + hb, `{"tags":["db","nightly"]}`},
			{"POST", "/api/v1/jobs/" + job + "/pause", ""},
			{"GET", "/api/v1/jobs/" + job + "/runs", ""},
			{"GET", "/api/v1/jobs/" + job + "/flips", ""},
			{"GET", "/api/v1/jobs/" + hb + "/stats?period=30d", ""},
			{"GET", "/api/v1/stats", ""},
			{"GET", "/api/v1/status", ""},
			{"GET", "/api/v1/jobs/" + hb + "/schedule-suggestion", ""},
			{"GET", "/api/v1/schedules/validate?schedule=0+9+*+*+1-5", ""},
			{"GET", "/api/v1/schedules/validate?schedule=nope", ""},
			{"GET", "/api/v1/channels", ""},
			{"GET", "/api/v1/channels/" + ch, ""},
			{"GET", "/api/v1/api-keys", ""},
			{"POST", "/api/v1/api-keys", `{"name":"ci","permissions":["read:jobs"]}`},
			{"POST", "/api/v1/schedules/parse", `{"text":"every weekday at 9am Pacific"}`},
			{"POST", "/api/v1/schedules/parse", `{"text":"sometimes"}`},
			{"GET", "/api/v1/jobs/nope", ""},
			{"POST", "/api/v1/jobs", `{"name":""}`},
		}
		for _, s := range samples {
			e.run(t, s.method+" "+s.path, func(t *testing.T) {
				var body io.Reader
				if s.body != "" {
					body = bytes.NewReader([]byte(s.body))
				}
				req := httptest.NewRequest(s.method, s.path, body)
				if s.body != "" {
					req.Header.Set("Content-Type", "application/json")
				}
				req.Header.Set("X-API-Key", e.admin)
				res, err := e.app.Test(req, -1)
				require.NoError(t, err)
				defer res.Body.Close()
				raw, err := io.ReadAll(res.Body)
				require.NoError(t, err)
				res.Body = io.NopCloser(bytes.NewReader(raw))
				check := httptest.NewRequest(s.method, "http://localhost"+s.path, nil)
				ok, errs := v.ValidateHttpResponse(check, res)
				for _, ve := range errs {
					t.Errorf("%s %s (%d): %s: %s %v", s.method, s.path, res.StatusCode, ve.Message, ve.Reason, ve.SchemaValidationErrors)
				}
				assert.True(t, ok, "answer: %s", raw)
			})
		}
	})
}
