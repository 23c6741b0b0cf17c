package handlers_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/stretchr/testify/require"
)

// FuzzJobBodies sends arbitrary bodies to POST /jobs and PUT /jobs/{id}.
// "$P" in a body stands for a real project id, so that valid bodies are
// within reach. It asserts: never a 5xx (a panic would be one: recover turns
// it into a 500), every error is {"error": "..."}, a refused request writes
// nothing, and an accepted one stored a job that passes validation and is
// what the response showed.
//
// The seed corpus runs in every `go test`; fuzz with
//
//	go test -run X -fuzz FuzzJobBodies -fuzztime 3m ./handlers/
func FuzzJobBodies(f *testing.F) {
	for _, seed := range [][2]string{
		{validJob("$P"), `{"name": "Updated Job Name", "url": "https://example.com/new-endpoint", "schedule": "0 * * * *", "heartbeat": false, "timeout": 60}`},
		{`{"name": "Health Check", "projectId": "$P", "url": "https://example.com/health", "method": "GET", "schedule": "*/5 * * * *", "heartbeat": true, "heartbeatTolerance": 5, "timeout": 30, "expectedStatusCode": 200, "headers": {"Authorization": "Bearer token"}}`, `{}`},
		{`{"name": "hb", "projectId": "$P", "schedule": "@daily", "heartbeat": true}`, `{"url": ""}`},
		{`{"name": "hb", "projectId": "$P", "schedule": "@every 10s", "heartbeat": true, "timezone": "America/New_York"}`, `{"schedule": "@every 9s"}`},
		{validJob("$P", `"body": null`, `"headers": null`, `"tags": null`), `{"body": null, "headers": null, "tags": null}`},
		{validJob("$P", `"body": "a\u0000b"`), `{"body": "\u0000"}`},
		{validJob("$P", `"name": "a\u0000b"`), `{"name": "\u0000"}`},
		{validJob("$P", `"slug": "\u0000"`), `{"slug": "x\u0000"}`},
		{validJob("$P", `"tags": ["\u0000"]`), `{"timezone": "\u0000"}`},
		{validJob("$P", `"headers": {"X-\u0000": "v"}`), `{"headers": {"X": "\u0000"}}`},
		{validJob("$P", `"timeout": 1e309`), `{"timeout": -1}`},
		{validJob("$P", `"timeout": 9223372036854775808`), `{"heartbeatTolerance": 99999999999}`},
		{validJob("$P", `"schedule": "@every 2562047h"`), `{"schedule": "@every 2562048h"}`},
		{validJob("$P", `"schedule": "0 0 29 2 *"`), `{"schedule": "0 0 30 2 *"}`},
		{validJob("$P", `"schedule": "59 23 31 12 6"`), `{"schedule": "* * * * 7"}`},
		{validJob("$P", `"schedule": "@reboot"`), `{"schedule": "CRON_TZ=UTC * * * * *"}`},
		{validJob("$P", `"timezone": "../../../etc/passwd"`), `{"timezone": "Local"}`},
		{validJob("$P", `"timezone": "Asia/Kathmandu"`), `{"timezone": "Europe/Berlin "}`},
		{validJob("$P", `"url": "http://[::1]:80/x"`), `{"url": "http://[::1"}`},
		{validJob("$P", `"url": "https://例え.jp/"`), `{"url": "http://%zz"}`},
		{validJob("$P", `"method": "get"`), `{"method": " post "}`},
		{validJob("$P", `"name": "`+strings.Repeat("é", 100)+`"`), `{"name": "` + strings.Repeat("é", 101) + `"}`},
		{validJob("$P", `"expectedStatusCode": 99`), `{"expectedStatusCode": 301}`},
		{validJob("$P", `"projectId": "$P$P"`), `{"projectId": ""}`},
		{validJob("$P", `"paused": true`), `{"paused": false}`},
		{`{"name": {"a": 1}}`, `[]`},
		{`{`, `}`},
		{``, `null`},
		{`{"name": "x", "name": "y", "projectId": "$P", "schedule": "@hourly", "heartbeat": true}`, `{"failureThreshold": 0}`},
		{validJob("$P", `"headers": {"Host": "evil"}`), `{"headers": {"content-length": "1"}}`},
		{validJob("$P", `"tags": ["a", "b c"]`), `{"tags": ["` + strings.Repeat("t", 51) + `"]}`},
		{validJob("$P", `"body": "\ud800"`), `{"name": "\udfff"}`},
	} {
		f.Add(seed[0], seed[1])
	}

	// One env per database, built once; the fuzz function runs each input
	// on every database as a subtest, and the postgres one skips when
	// CRONPULSE_TEST_DATABASE_URL is unset.
	type fuzzDB struct {
		db                modelstest.Database
		e                 *env
		project, existing string
	}
	var dbs []fuzzDB
	for _, db := range modelstest.Databases(f) {
		d := fuzzDB{db: db}
		if db.URL != "" {
			d.e = newEnv(f, db, nil)
			d.project = d.e.project("Fuzz")
			d.existing = d.e.job(d.project, "Existing")
		}
		dbs = append(dbs, d)
	}

	f.Fuzz(func(t *testing.T, create, update string) {
		for _, d := range dbs {
			t.Run(d.db.Name, func(t *testing.T) {
				d.db.SkipIfMissing(t)
				e := d.e
				e.t = t
				create := strings.ReplaceAll(create, "$P", d.project)
				update := strings.ReplaceAll(update, "$P", d.project)

				before := e.count("jobs")
				r := e.do("POST", "/api/v1/jobs", e.admin, create)
				checkJobAnswer(t, e, "POST", r, http.StatusCreated)
				if r.Code == http.StatusCreated {
					var got struct{ ID string }
					r.JSON(t, &got)
					require.Equal(t, before+1, e.count("jobs"))
					require.Equal(t, 204, e.do("DELETE", "/api/v1/jobs/"+got.ID, e.admin, "").Code)
				} else {
					require.Equal(t, before, e.count("jobs"), "a refused POST writes nothing: %s", r.Body)
				}

				stored := e.mustJob(d.existing)
				r = e.do("PUT", "/api/v1/jobs/"+d.existing, e.admin, update)
				checkJobAnswer(t, e, "PUT", r, http.StatusOK)
				if r.Code != http.StatusOK {
					require.Equal(t, stored, e.mustJob(d.existing), "a refused PUT changes nothing: %s", r.Body)
				}
			})
		}
	})
}

// checkJobAnswer asserts the invariants of one answer to a job write.
func checkJobAnswer(t *testing.T, e *env, what string, r response, ok int) {
	t.Helper()
	require.Less(t, r.Code, 500, "%s on %s answered %d: %s", what, e.db.Name, r.Code, r.Body)
	if r.Code != ok {
		require.GreaterOrEqual(t, r.Code, 400, "%s: %s", what, r.Body)
		r.Error(t)
		return
	}
	var shown map[string]any
	r.JSON(t, &shown)
	id, _ := shown["id"].(string)
	stored := e.mustJob(id)
	require.NoError(t, models.ValidateJob(stored), "%s stored an invalid job", what)
	require.NotNil(t, stored.NextRunAt, "%s: a stored job has nextRunAt", what)
	// The response is the stored job.
	want, err := json.Marshal(stored)
	require.NoError(t, err)
	var wantMap map[string]any
	require.NoError(t, json.Unmarshal(want, &wantMap))
	for k, v := range wantMap {
		require.Equal(t, v, shown[k], "%s: response field %s differs from the stored job", what, k)
	}
}
