package handlers

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/cronpulse/cronpulse/models"
	"github.com/gofiber/fiber/v2"
)

// The OpenAPI document (GET /api/v1/openapi.json) is built from the Routes
// table and, for each route, the description in routeDocs: its summary,
// query parameters, body and answer, the last two as Go types whose schemas
// are reflected the way encoding/json writes them (openapi_schema.go). A
// test fails when a route has no description or a description no route,
// and checks real answers against their schemas.

// routeDoc describes one route for the OpenAPI document.
type routeDoc struct {
	Summary string
	Query   []queryParam
	Body    any // a value of the request body's type; nil: no body
	Status  int // the success status; 0 means 200
	// Answer is a value of the answer's type; nil with Text set: a text
	// body of that media type; nil without: no body.
	Answer any
	Text   string
}

// queryParam is one query parameter.
type queryParam struct {
	Name, Type, Description string
	Repeat                  bool // may be given more than once
}

var (
	pageParams   = []queryParam{{"limit", "integer", "items per page, 1–1000", false}, {"cursor", "string", "from the previous page's Link header", false}}
	periodParam  = queryParam{"period", "string", "24h, 7d (default), 30d or 90d", false}
	projectParam = queryParam{"projectId", "string", "only this project's", false}
)

// routeDocs describes every route of Routes, keyed by "METHOD path".
var routeDocs = map[string]routeDoc{
	"GET /projects":                    {Summary: "List projects", Query: pageParams, Answer: []projectView{}},
	"POST /projects":                   {Summary: "Create a project", Body: models.ProjectRequest{}, Status: 201, Answer: projectView{}},
	"GET /projects/:id":                {Summary: "Get a project with its jobs' summaries", Answer: projectView{}},
	"PUT /projects/:id":                {Summary: "Update a project (fields sent only)", Body: models.ProjectRequest{}, Answer: projectView{}},
	"POST /projects/:id/badge-key":     {Summary: "Rotate the project's badge key: the old badge URLs stop working", Answer: projectView{}},
	"DELETE /projects/:id":             {Summary: "Delete a project with its jobs and history", Status: 204},
	"GET /projects/:id/status-page":    {Summary: "The project's public status page (enabled or not) and its URL", Answer: dataOf[statusPageView]{}},
	"PUT /projects/:id/status-page":    {Summary: "Publish the project's status page at /status/{slug} with the jobs listed, in order", Body: statusPageRequest{}, Answer: dataOf[statusPageView]{}},
	"DELETE /projects/:id/status-page": {Summary: "Take the project's status page down (its slug, title and jobs are kept)", Answer: dataOf[statusPageView]{}},
	"GET /jobs":                        {Summary: "List jobs", Query: append([]queryParam{projectParam}, pageParams...), Answer: []jobView{}},
	"POST /jobs":                       {Summary: "Create a job", Body: models.JobRequest{}, Status: 201, Answer: jobView{}},
	"GET /jobs/:id":                    {Summary: "Get a job", Answer: jobView{}},
	"PUT /jobs/:id":                    {Summary: "Update a job (fields sent only)", Body: models.JobRequest{}, Answer: jobView{}},
	"DELETE /jobs/:id":                 {Summary: "Delete a job with its history", Status: 204},
	"POST /jobs/:id/trigger":           {Summary: "Run an HTTP check now and return the run", Status: 201, Answer: models.CheckRun{}},
	"POST /jobs/:id/pause":             {Summary: "Pause monitoring (no alerts, no downtime)", Answer: jobView{}},
	"POST /jobs/:id/resume":            {Summary: "Resume monitoring", Answer: jobView{}},
	"GET /jobs/:id/runs": {Summary: "Check runs and pings, newest first", Answer: listPage[models.RunItem]{},
		Query: []queryParam{{"type", "string", "check or ping", false}, {"status", "string", "a run's result or a ping's kind", false},
			{"period", "string", "24h, 7d or 30d", false}, pageParams[0], pageParams[1]}},
	"GET /jobs/:id/pings/:n/body": {Summary: "A stored ping's body", Text: "text/plain"},
	"GET /jobs/:id/flips":         {Summary: "Status changes, newest first, with their notifications", Query: pageParams, Answer: listPage[flipView]{}},
	"GET /jobs/:id/stats": {Summary: "A job's runs, success rate, durations, uptime and daily buckets", Answer: dataOf[models.JobStats]{},
		Query: []queryParam{periodParam, {"tz", "string", "IANA time zone of the days (default: the job's)", false}}},
	"GET /stats":                        {Summary: "Every job's stats, or one project's (days in UTC)", Query: []queryParam{periodParam, projectParam}, Answer: dataOf[models.GlobalStats]{}},
	"GET /metrics":                      {Summary: "Per-job series in Prometheus' text format (cronpulse_job_up, …)", Text: "text/plain"},
	"GET /status":                       {Summary: "The engine at a glance: ticks, monitors, pings stored, outbox, instance", Answer: statusView{}},
	"GET /jobs/:id/schedule-suggestion": {Summary: "The schedule and tolerance a job's recent success pings fit", Answer: models.ScheduleSuggestion{}},
	"POST /schedules/parse":             {Summary: "Read a schedule from English text, offline", Body: parseRequest{}, Answer: parsedSchedule{}},
	"GET /schedules/validate":           {Summary: "Check a schedule and preview its next runs", Answer: scheduleCheck{}, Query: []queryParam{{"schedule", "string", "cron, @descriptor or @every", false}, {"timezone", "string", "IANA time zone", false}}},
	"GET /channels":                     {Summary: "List notification channels (secrets masked)", Query: append([]queryParam{projectParam}, pageParams...), Answer: []channelView{}},
	"POST /channels":                    {Summary: "Create a channel", Body: models.ChannelRequest{}, Status: 201, Answer: channelView{}},
	"GET /channels/:id":                 {Summary: "Get a channel (secrets masked)", Answer: channelView{}},
	"PUT /channels/:id":                 {Summary: "Update a channel (masked secrets are kept)", Body: models.ChannelRequest{}, Answer: channelView{}},
	"DELETE /channels/:id":              {Summary: "Delete a channel", Status: 204},
	"POST /channels/:id/test":           {Summary: "Send a test message now", Answer: channelTestResult{}},
	"GET /api-keys":                     {Summary: "List API keys (prefixes only)", Answer: []apiKeyView{}},
	"POST /api-keys":                    {Summary: "Create an API key: the secret is shown once", Body: apiKeyRequest{}, Status: 201, Answer: createdKeyView{}},
	"DELETE /api-keys/:id":              {Summary: "Revoke an API key", Status: 204},
}

// errorBody is every error's answer.
type errorBody struct {
	Error string `json:"error"`
}

// openAPIPath turns a Fiber path into an OpenAPI one: /jobs/:id → /jobs/{id}.
func openAPIPath(p string) (string, []string) {
	var params []string
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if name, ok := strings.CutPrefix(s, ":"); ok {
			parts[i] = "{" + name + "}"
			params = append(params, name)
		}
	}
	return strings.Join(parts, "/"), params
}

// jsonContent is an application/json content map for a value's type.
func jsonContent(v any, request bool) map[string]any {
	return map[string]any{"application/json": map[string]any{"schema": schemaOf(reflect.TypeOf(v), request)}}
}

// buildOpenAPI writes the document for routes.
func buildOpenAPI(routes []Route, version string) ([]byte, error) {
	errResp := func(why string) map[string]any {
		return map[string]any{"description": why, "content": jsonContent(errorBody{}, false)}
	}
	paths := map[string]map[string]any{}
	for _, rt := range routes {
		doc := routeDocs[rt.Method+" "+rt.Path]
		path, names := openAPIPath(rt.Path)
		var params []any
		for _, n := range names {
			params = append(params, map[string]any{"name": n, "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		for _, q := range doc.Query {
			s := map[string]any{"type": q.Type}
			p := map[string]any{"name": q.Name, "in": "query", "description": q.Description}
			if q.Repeat {
				s = map[string]any{"type": "array", "items": s}
				p["explode"] = true
			}
			p["schema"] = s
			params = append(params, p)
		}
		status := doc.Status
		if status == 0 {
			status = 200
		}
		ok := map[string]any{"description": doc.Summary}
		switch {
		case doc.Answer != nil:
			ok["content"] = jsonContent(doc.Answer, false)
		case doc.Text != "":
			ok["content"] = map[string]any{doc.Text: map[string]any{"schema": map[string]any{"type": "string"}}}
		}
		op := map[string]any{
			"operationId":  strings.ToLower(rt.Method) + strings.NewReplacer("/", "_", ":", "", "-", "_").Replace(rt.Path),
			"summary":      doc.Summary,
			"x-permission": rt.Permission,
			"responses": map[string]any{
				strconv.Itoa(status): ok,
				"400":                errResp("the request is invalid: the message names the field"),
				"401":                errResp("no API key, or not a valid one"),
				"403":                errResp("the key lacks the permission in x-permission"),
				"404":                errResp("no such resource"),
				"429":                errResp("over the key's rate limit"),
			},
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		if doc.Body != nil {
			op["requestBody"] = map[string]any{"required": true, "content": jsonContent(doc.Body, true)}
		}
		if paths[path] == nil {
			paths[path] = map[string]any{}
		}
		paths[path][strings.ToLower(rt.Method)] = op
	}
	paths["/openapi.json"] = map[string]any{"get": map[string]any{
		"operationId": "get_openapi", "summary": "This document", "security": []any{},
		"responses": map[string]any{"200": map[string]any{"description": "OpenAPI 3.1", "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "object"}}}}},
	}}
	return json.MarshalIndent(map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "CronPulse API", "version": version,
			"description": "Monitors for cron jobs (heartbeats) and HTTP checks. Every route but this document needs an API key."},
		"servers":  []any{map[string]any{"url": "/api/v1"}},
		"security": []any{map[string]any{"apiKey": []any{}}, map[string]any{"bearer": []any{}}},
		"components": map[string]any{"securitySchemes": map[string]any{
			"apiKey": map[string]any{"type": "apiKey", "in": "header", "name": "X-API-Key"},
			"bearer": map[string]any{"type": "http", "scheme": "bearer"},
		}},
		"paths": paths,
	}, "", "  ")
}

// openAPI serves the document, built once.
func (a *API) openAPI() fiber.Handler {
	var once sync.Once
	var doc []byte
	var err error
	return func(c *fiber.Ctx) error {
		once.Do(func() { doc, err = buildOpenAPI(Routes, a.version) })
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
		return c.Send(doc)
	}
}

// UndocumentedRoutes returns the routes that routeDocs does not describe,
// and the descriptions of routes that are not in Routes, for the test that
// keeps the two together.
func UndocumentedRoutes() (missing, stale []string) {
	seen := map[string]bool{}
	for _, rt := range Routes {
		k := rt.Method + " " + rt.Path
		seen[k] = true
		if d, ok := routeDocs[k]; !ok || d.Summary == "" {
			missing = append(missing, k)
		}
	}
	for k := range routeDocs {
		if !seen[k] {
			stale = append(stale, k)
		}
	}
	return missing, stale
}
