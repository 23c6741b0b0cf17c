package handlers_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cronpulse/cronpulse/app"
	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hbJob creates a heartbeat job (hourly, 5 minutes tolerance) and returns
// its id and ping token.
func (e *env) hbJob(projectID, name string, extra ...string) (id, token string) {
	e.t.Helper()
	body := `{"name":` + quote(name) + `,"projectId":` + quote(projectID) + `,"heartbeat":true,"schedule":"0 * * * *"`
	for _, x := range extra {
		body += "," + x
	}
	r := e.do("POST", "/api/v1/jobs", e.admin, body+"}")
	require.Equal(e.t, http.StatusCreated, r.Code, "%s", r.Body)
	var out struct {
		ID        string `json:"id"`
		PingToken string `json:"pingToken"`
	}
	r.JSON(e.t, &out)
	require.NotEmpty(e.t, out.PingToken)
	return out.ID, out.PingToken
}

// ping sends one ping request; body "" sends none.
func (e *env) ping(method, path, body string, headers ...string) response {
	e.t.Helper()
	hs := append([]string{"Content-Type", "text/plain"}, headers...)
	return e.do(method, path, "", body, hs...)
}

// pingKey returns a project's ping key.
func (e *env) pingKey(projectID string) string {
	e.t.Helper()
	p, err := e.store.Project(projectID)
	require.NoError(e.t, err)
	return p.PingKey
}

// pings returns the stored pings of a job, newest first.
func (e *env) pings(jobID string) []models.Ping {
	e.t.Helper()
	items, err := e.store.Runs(models.RunFilter{JobID: jobID, Type: "ping", Limit: 1000})
	require.NoError(e.t, err)
	out := make([]models.Ping, len(items))
	for i, it := range items {
		out[i] = *it.Ping
	}
	return out
}

func TestPingURLForms(t *testing.T) {
	eachEnv(t, nil, func(t *testing.T, e *env) {
		p := e.project("P")
		id, tok := e.hbJob(p, "backup")
		base := "/ping/" + tok
		rid := "5e2f8d61-9c57-4c3e-8f0e-6a1c2b3d4e5f"
		cases := []struct {
			method, path string
			code         int
			body         string
			kind         string // stored ping kind, "" when nothing is stored
			exit         int    // -1: no exit status
		}{
			{"GET", base, 200, "OK", models.PingSuccess, -1},
			{"HEAD", base, 200, "", models.PingSuccess, -1},
			{"POST", base, 200, "OK", models.PingSuccess, -1},
			{"GET", base + "/", 200, "OK", models.PingSuccess, -1},
			{"GET", base + "/start", 200, "OK", models.PingStart, -1},
			{"POST", base + "/start/", 200, "OK", models.PingStart, -1},
			{"GET", base + "/fail", 200, "OK", models.PingFail, -1},
			{"GET", base + "/log", 200, "OK", models.PingLog, -1},
			{"GET", base + "/0", 200, "OK", models.PingSuccess, 0},
			{"POST", base + "/1", 200, "OK", models.PingFail, 1},
			{"GET", base + "/255", 200, "OK", models.PingFail, 255},
			{"GET", base + "?rid=" + rid, 200, "OK", models.PingSuccess, -1},
			{"GET", strings.ToUpper(base), 200, "OK", models.PingSuccess, -1},
			{"GET", base + "/256", 400, "invalid exit status", "", -1},
			{"GET", base + "/-1", 400, "invalid exit status", "", -1},
			{"GET", base + "/1000", 400, "invalid exit status", "", -1},
			{"GET", base + "/nope", 404, "not found", "", -1},
			{"GET", base + "/start/extra", 404, "not found", "", -1},
			{"GET", base + "?rid=not-a-uuid", 400, "invalid rid", "", -1},
			{"GET", "/ping/not-a-uuid", 400, "invalid ping token", "", -1},
			{"GET", "/ping/00000000-0000-4000-8000-000000000000", 404, "not found", "", -1},
			{"POST", "/ping/00000000-0000-4000-8000-000000000000/fail", 404, "not found", "", -1},
			{"GET", "/ping", 404, "not found", "", -1},
			{"GET", "/ping/", 404, "not found", "", -1},
		}
		for _, c := range cases {
			e.run(t, c.method+" "+c.path, func(t *testing.T) {
				before := len(e.pings(id))
				r := e.ping(c.method, c.path, "")
				assert.Equal(t, c.code, r.Code, "%s %s: %s", c.method, c.path, r.Body)
				assert.Equal(t, "100000", r.Header.Get("Ping-Body-Limit"), "%s %s", c.method, c.path)
				if c.method != "HEAD" {
					assert.Contains(t, string(r.Body), c.body, "%s %s", c.method, c.path)
				}
				got := e.pings(id)
				if c.kind == "" {
					assert.Len(t, got, before, "%s %s stores nothing", c.method, c.path)
					return
				}
				require.Len(t, got, before+1, "%s %s", c.method, c.path)
				assert.Equal(t, c.kind, got[0].Kind, "%s %s", c.method, c.path)
				assert.Equal(t, c.method, got[0].Method)
				if c.exit < 0 {
					assert.Nil(t, got[0].ExitStatus, "%s %s", c.method, c.path)
				} else if assert.NotNil(t, got[0].ExitStatus, "%s %s", c.method, c.path) {
					assert.Equal(t, c.exit, *got[0].ExitStatus)
				}
			})
		}
		var job map[string]any
		e.do("GET", "/api/v1/jobs/"+id, e.admin, "").JSON(t, &job)
		assert.EqualValues(t, len(e.pings(id)), job["pingCount"])
	})
}

func TestPingRunIDAndDurationThroughAPI(t *testing.T) {
	var now time.Time
	clock := func() time.Time { return now }
	for _, db := range modelstest.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			db.SkipIfMissing(t)
			now = time.Date(2024, 6, 1, 9, 0, 0, 0, time.UTC)
			e := newEnvAt(t, db, nil, clock)
			p := e.project("P")
			id, tok := e.hbJob(p, "etl")
			rid := "0b2f8d61-9c57-4c3e-8f0e-6a1c2b3d4e5f"
			require.Equal(t, 200, e.ping("POST", "/ping/"+tok+"/start?rid="+rid, "").Code)
			now = now.Add(90 * time.Second)
			require.Equal(t, 200, e.ping("POST", "/ping/"+tok+"/3?rid="+rid, "boom\n").Code)

			var runs struct {
				Data []struct {
					Type string         `json:"type"`
					Ping map[string]any `json:"ping"`
				} `json:"data"`
			}
			e.do("GET", "/api/v1/jobs/"+id+"/runs", e.admin, "").JSON(t, &runs)
			require.Len(t, runs.Data, 2)
			last := runs.Data[0].Ping
			assert.Equal(t, "ping", runs.Data[0].Type)
			assert.Equal(t, "fail", last["kind"])
			assert.EqualValues(t, 3, last["exitStatus"])
			assert.Equal(t, rid, last["rid"])
			assert.EqualValues(t, 90_000, last["durationMs"])
			assert.EqualValues(t, 5, last["bodySize"])
			assert.EqualValues(t, 2, last["n"])

			r := e.do("GET", "/api/v1/jobs/"+id+"/pings/2/body", e.admin, "")
			require.Equal(t, 200, r.Code)
			assert.Equal(t, "boom\n", string(r.Body))

			var job map[string]any
			e.do("GET", "/api/v1/jobs/"+id, e.admin, "").JSON(t, &job)
			assert.Equal(t, "down", job["status"])
			assert.Equal(t, "failure", job["lastStatus"])
			assert.EqualValues(t, 2, job["pingCount"])
			assert.Equal(t, "2024-06-01T09:01:30Z", job["lastActivityAt"])

			var flips struct {
				Data []models.Flip `json:"data"`
			}
			e.do("GET", "/api/v1/jobs/"+id+"/flips", e.admin, "").JSON(t, &flips)
			require.Len(t, flips.Data, 1)
			assert.Equal(t, "down", flips.Data[0].ToStatus)
			assert.Equal(t, "failure exit status 3", flips.Data[0].Reason)

			// Recovery, and nextRunAt is the first hourly tick after the ping.
			now = now.Add(time.Minute)
			require.Equal(t, 200, e.ping("GET", "/ping/"+tok, "").Code)
			e.do("GET", "/api/v1/jobs/"+id, e.admin, "").JSON(t, &job)
			assert.Equal(t, "up", job["status"])
			assert.Equal(t, "success", job["lastStatus"])
			assert.Equal(t, "2024-06-01T10:00:00Z", job["nextRunAt"])

			// Pause: pings are still recorded but change nothing; resume.
			require.Equal(t, 200, e.do("POST", "/api/v1/jobs/"+id+"/pause", e.admin, "").Code)
			require.Equal(t, 200, e.ping("GET", "/ping/"+tok+"/fail", "").Code)
			e.do("GET", "/api/v1/jobs/"+id, e.admin, "").JSON(t, &job)
			assert.Equal(t, "paused", job["status"])
			assert.EqualValues(t, 4, job["pingCount"])
			require.Equal(t, 200, e.do("POST", "/api/v1/jobs/"+id+"/resume", e.admin, "").Code)
			e.do("GET", "/api/v1/jobs/"+id, e.admin, "").JSON(t, &job)
			assert.Equal(t, "new", job["status"])
		})
	}
}

func TestPingBodyTruncated(t *testing.T) {
	eachEnv(t, func(c *app.Config) { c.PingBodyLimit = 10 }, func(t *testing.T, e *env) {
		p := e.project("P")
		id, tok := e.hbJob(p, "big")
		r := e.ping("POST", "/ping/"+tok, strings.Repeat("x", 9)+"€ and more")
		require.Equal(t, 200, r.Code)
		assert.Equal(t, "10", r.Header.Get("Ping-Body-Limit"))
		got := e.pings(id)
		require.Len(t, got, 1)
		assert.Equal(t, len(strings.Repeat("x", 9)+"€ and more"), got[0].BodySize, "bodySize is what was received")
		b := e.do("GET", "/api/v1/jobs/"+id+"/pings/1/body", e.admin, "")
		assert.Equal(t, strings.Repeat("x", 9), string(b.Body), "cut to the limit, not inside a character")

		// Binary bodies are stored as text (PostgreSQL refuses NUL and bad UTF-8).
		require.Equal(t, 200, e.ping("POST", "/ping/"+tok, "a\x00b\xffc").Code)
		b = e.do("GET", "/api/v1/jobs/"+id+"/pings/2/body", e.admin, "")
		assert.Equal(t, "ab\uFFFDc", string(b.Body))
	})
}

func TestPingBySlug(t *testing.T) {
	eachEnv(t, nil, func(t *testing.T, e *env) {
		p := e.project("P")
		key := e.pingKey(p)
		id, _ := e.hbJob(p, "Nightly Backup") // slug nightly-backup
		r := e.ping("GET", "/ping/"+key+"/nightly-backup", "")
		assert.Equal(t, 200, r.Code, "%s", r.Body)
		assert.Equal(t, "OK", string(r.Body))
		for _, a := range []string{"start", "fail", "log", "0", "7"} {
			r = e.ping("POST", "/ping/"+key+"/nightly-backup/"+a+"/", "")
			assert.Equal(t, 200, r.Code, "%s: %s", a, r.Body)
		}
		assert.Len(t, e.pings(id), 6)
		assert.Equal(t, 400, e.ping("GET", "/ping/"+key+"/nightly-backup/300", "").Code)

		// Unknown slug or key: 404, nothing created.
		jobs := e.count("jobs")
		for _, path := range []string{"/ping/" + key + "/nope", "/ping/nosuchkey0000000000000/nightly-backup"} {
			r = e.ping("GET", path, "")
			assert.Equal(t, 404, r.Code, path)
			assert.Equal(t, "not found", string(r.Body))
			assert.NotEmpty(t, r.Header.Get("Ping-Body-Limit"))
		}
		assert.Equal(t, jobs, e.count("jobs"))

		// ?create=1: 201 Created once, then 200; the job has the defaults.
		r = e.ping("POST", "/ping/"+key+"/db-dump/start?create=1", "")
		assert.Equal(t, 201, r.Code, "%s", r.Body)
		assert.Equal(t, "Created", string(r.Body))
		r = e.ping("POST", "/ping/"+key+"/db-dump?create=1", "")
		assert.Equal(t, 200, r.Code)
		assert.Equal(t, jobs+1, e.count("jobs"))
		j, err := e.store.JobBySlug(key, "db-dump")
		require.NoError(t, err)
		assert.True(t, j.Heartbeat)
		assert.Equal(t, models.AutoJobSchedule, j.Schedule)
		assert.Equal(t, models.AutoJobTolerance, j.HeartbeatTolerance)
		assert.Equal(t, "db-dump", j.Name)
		assert.Equal(t, p, j.ProjectID)
		assert.Equal(t, "up", j.Status)
		assert.EqualValues(t, 2, j.PingCount)
		require.NotNil(t, e.pings(j.ID)[0].DurationMs, "start and finish of the created job pair up")

		// create=1 with a slug that is not a slug: 400; with an unknown key: 404.
		assert.Equal(t, 400, e.ping("GET", "/ping/"+key+"/Bad.Slug?create=1", "").Code)
		assert.Equal(t, 404, e.ping("GET", "/ping/nosuchkey0000000000000/x?create=1", "").Code)

		// Two jobs with one slug: 409, also with create=1.
		e.hbJob(p, "twin", `"slug":"twin"`)
		e.hbJob(p, "twin 2", `"slug":"twin"`)
		r = e.ping("GET", "/ping/"+key+"/twin", "")
		assert.Equal(t, 409, r.Code)
		assert.Contains(t, string(r.Body), "ambiguous")
		assert.Equal(t, 409, e.ping("GET", "/ping/"+key+"/twin?create=1", "").Code)
	})
}

func TestPingRateLimit(t *testing.T) {
	eachEnv(t, func(c *app.Config) { c.PingRateLimit = 3 }, func(t *testing.T, e *env) {
		p := e.project("P")
		id, tok := e.hbJob(p, "fast")
		_, other := e.hbJob(p, "other")
		for i := 0; i < 3; i++ {
			require.Equal(t, 200, e.ping("GET", "/ping/"+tok, "").Code)
		}
		r := e.ping("GET", "/ping/"+tok, "")
		assert.Equal(t, 429, r.Code)
		assert.NotEmpty(t, r.Header.Get("Retry-After"))
		assert.NotEmpty(t, r.Header.Get("Ping-Body-Limit"))
		assert.Len(t, e.pings(id), 3)
		assert.Equal(t, 200, e.ping("GET", "/ping/"+other, "").Code, "the limit is per job")
	})
}

func TestPingDatabaseDownIs503(t *testing.T) {
	eachEnv(t, nil, func(t *testing.T, e *env) {
		p := e.project("P")
		_, tok := e.hbJob(p, "x")
		require.NoError(t, models.Close(e.store.DB()))
		r := e.ping("GET", "/ping/"+tok, "")
		assert.Equal(t, 503, r.Code, "%s", r.Body)
		assert.NotEmpty(t, r.Header.Get("Ping-Body-Limit"))
	})
}

// listen serves e's app on a real port and returns its base URL.
func (e *env) listen(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = e.app.Listener(ln) }() // returns when the app shuts down
	t.Cleanup(func() { _ = e.app.ShutdownWithTimeout(5 * time.Second) })
	return "http://" + ln.Addr().String()
}

// TestHealthchecksCurlExamples runs the curl one-liners of Healthchecks.io's
// documentation, with the real curl binary, against a listening server.
func TestHealthchecksCurlExamples(t *testing.T) {
	_, err := exec.LookPath("curl")
	require.NoError(t, err, "this test needs curl on PATH")
	eachEnv(t, nil, func(t *testing.T, e *env) {
		base := e.listen(t)
		p := e.project("P")
		id, tok := e.hbJob(p, "cron")
		url := base + "/ping/" + tok
		run := func(script string) {
			t.Helper()
			out, err := exec.Command("bash", "-c", script).CombinedOutput()
			require.NoError(t, err, "%s: %s", script, out)
		}
		run(`curl -fsS -m 10 --retry 5 -o /dev/null ` + url)
		run(`curl -fsS -m 10 --retry 5 -o /dev/null ` + url + `/start`)
		run(`output=$(printf 'line1\nline2' ; false); curl -fsS -m 10 --retry 5 -o /dev/null --data-raw "$output" ` + url + `/$?`)
		run(`curl -fsS -m 10 --retry 5 -o /dev/null --data-raw "all good" ` + url + `/0`)
		run(`curl -fsS -m 10 --retry 5 -o /dev/null -I ` + url) // HEAD
		// -f makes curl fail on an unknown check, as users expect.
		out, err := exec.Command("curl", "-fsS", "-m", "10", "-o", "/dev/null", base+"/ping/00000000-0000-4000-8000-000000000000").CombinedOutput()
		require.Error(t, err, "%s", out)
		assert.Contains(t, string(out), "404")

		got := e.pings(id)
		require.Len(t, got, 5)
		assert.Equal(t, models.PingFail, got[2].Kind)
		assert.Equal(t, 1, *got[2].ExitStatus)
		assert.Equal(t, "POST", got[2].Method)
		assert.Contains(t, got[2].UserAgent, "curl/")
		b := e.do("GET", fmt.Sprintf("/api/v1/jobs/%s/pings/%d/body", id, got[2].N), e.admin, "")
		assert.Equal(t, "line1\nline2", string(b.Body))
		assert.Equal(t, models.PingSuccess, got[1].Kind)
		assert.Equal(t, 0, *got[1].ExitStatus)
	})
}

// TestRunitorProtocol speaks to the endpoint exactly as runitor does: a
// POST with a text/plain body to /start?rid=, then to /{exit-code}?rid=,
// reading Ping-Body-Limit from the answers; with -slug -create it adds
// ?create=1 to every URL, /start included.
func TestRunitorProtocol(t *testing.T) {
	eachEnv(t, nil, func(t *testing.T, e *env) {
		base := e.listen(t) + "/ping"
		p := e.project("P")
		id, tok := e.hbJob(p, "runitor job")
		client := &http.Client{Timeout: 10 * time.Second}
		post := func(url, body string) (int, string, http.Header) {
			t.Helper()
			req, err := http.NewRequest("POST", url, strings.NewReader(body))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "text/plain")
			req.Header.Set("User-Agent", "runitor/v1.3.0 (+https://bdd.fi/x/runitor)")
			res, err := client.Do(req)
			require.NoError(t, err)
			defer res.Body.Close()
			b, err := io.ReadAll(res.Body)
			require.NoError(t, err)
			return res.StatusCode, string(b), res.Header
		}
		rid := "7c3a3d47-45d9-4c1e-9e4b-2d7a1f1c0b11"
		code, body, h := post(base+"/"+tok+"/start?rid="+rid, "")
		require.Equal(t, 200, code, body)
		limit, err := strconv.Atoi(h.Get("Ping-Body-Limit"))
		require.NoError(t, err)
		assert.Equal(t, 100000, limit)
		code, body, _ = post(base+"/"+tok+"/0?rid="+rid, "backup done\n")
		require.Equal(t, 200, code, body)
		assert.Equal(t, "OK", body)
		got := e.pings(id)
		require.Len(t, got, 2)
		assert.Equal(t, rid, got[0].RID)
		require.NotNil(t, got[0].DurationMs)
		assert.Equal(t, "runitor/v1.3.0 (+https://bdd.fi/x/runitor)", got[0].UserAgent)

		// A failing command: exit code 2.
		rid2 := "8d4b4e58-56ea-4d2f-8f5c-3e8b2a2d1c22"
		post(base+"/"+tok+"/start?rid="+rid2, "")
		code, _, _ = post(base+"/"+tok+"/2?rid="+rid2, "disk full\n")
		require.Equal(t, 200, code)
		var job map[string]any
		e.do("GET", "/api/v1/jobs/"+id, e.admin, "").JSON(t, &job)
		assert.Equal(t, "down", job["status"])

		// -slug nightly -create -ping-key KEY.
		key := e.pingKey(p)
		rid3 := "9e5c5f69-67fb-4e30-9a6d-4f9c3b3e2d33"
		code, body, _ = post(base+"/"+key+"/nightly/start?create=1&rid="+rid3, "")
		require.Equal(t, 201, code, body)
		code, body, _ = post(base+"/"+key+"/nightly/0?create=1&rid="+rid3, "ok")
		require.Equal(t, 200, code, body)
		j, err := e.store.JobBySlug(key, "nightly")
		require.NoError(t, err)
		assert.Equal(t, "up", j.Status)
		assert.EqualValues(t, 2, j.PingCount)
	})
}
