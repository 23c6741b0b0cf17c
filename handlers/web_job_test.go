package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cronpulse/cronpulse/app"
	"github.com/cronpulse/cronpulse/handlers"
	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// triggerLog is a hookLog whose Trigger stores and answers a copy of run.
type triggerLog struct {
	hookLog
	run *models.CheckRun
}

func (h *triggerLog) triggerHooks(e **env) handlers.JobHooks {
	hooks := h.hooks()
	hooks.Trigger = func(ctx context.Context, j *models.Job) (*models.CheckRun, error) {
		r := *h.run
		r.JobID, r.CreatedAt = j.ID, (*e).store.Now()
		require.NoError((*e).t, (*e).store.DB().Create(&r).Error)
		return &r, nil
	}
	return hooks
}

// webClock is the tests' fixed time.
var webClock = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// eachHookedEnv runs fn on every database with an env whose hooks are h's
// and whose clock is webClock.
func eachHookedEnv(t *testing.T, fn func(t *testing.T, e *env, h *triggerLog)) {
	t.Helper()
	for _, db := range modelstest.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			db.SkipIfMissing(t)
			h := &triggerLog{}
			var e *env
			e = newEnvWith(t, db, nil, app.Deps{Now: func() time.Time { return webClock }, Hooks: h.triggerHooks(&e)})
			fn(t, e, h)
		})
	}
}

// heartbeat creates a heartbeat job in project and returns it.
func (e *env) heartbeat(projectID, name string) *models.Job {
	e.t.Helper()
	id := e.mustCreate("/jobs", `{"name":`+quote(name)+`,"projectId":`+quote(projectID)+
		`,"heartbeat":true,"schedule":"0 3 * * *","timezone":"Europe/Berlin"}`)
	j, err := e.store.Job(id)
	require.NoError(e.t, err)
	return j
}

func TestWebJobPageByRole(t *testing.T) {
	eachHookedEnv(t, func(t *testing.T, e *env, h *triggerLog) {
		p := e.project("Shop")
		hb := e.heartbeat(p, "nightly backup")
		check := e.job(p, "health")
		browsers := map[string]*browser{"anonymous": e.browser()}
		tokens := map[string]string{"anonymous": ""}
		for _, role := range models.Roles {
			browsers[role], tokens[role] = e.as(role)
		}

		e.run(t, "every page by role", func(t *testing.T) {
			require.NoError(t, e.store.DB().Create(&models.Ping{JobID: hb.ID, N: 1, Kind: models.PingSuccess, CreatedAt: webClock}).Error)
			reads := []string{"/jobs/" + hb.ID, "/jobs/" + check, "/jobs/" + hb.ID + "/pings/1", "/projects", "/projects?q=sh"}
			writes := []string{"/jobs/new", "/jobs/new?project=" + p, "/jobs/" + hb.ID + "/edit", "/jobs/" + hb.ID + "/delete",
				"/projects/new", "/projects/" + p + "/edit", "/projects/" + p + "/delete"}
			for _, path := range append(reads, writes...) {
				r := browsers["anonymous"].get(path)
				assert.Equal(t, http.StatusSeeOther, r.Code, path)
				assert.Equal(t, "/login?next="+url.QueryEscape(path), location(r), path)
				for _, role := range models.Roles {
					want := http.StatusOK
					if role == models.RoleViewer && slices.Contains(writes, path) {
						want = http.StatusForbidden
					}
					r := browsers[role].get(path)
					assert.Equal(t, want, r.Code, "%s as %s", path, role)
					assert.Contains(t, r.Header.Get("Content-Type"), "text/html", path)
					if role == models.RoleViewer {
						assert.NotContains(t, string(r.Body), hb.PingToken, "%s shows a viewer no token", path)
					}
				}
			}
			// Anonymous posts carry no session token: CSRF refuses them first.
			before := e.counts()
			for _, path := range []string{"/jobs", "/jobs/" + hb.ID, "/jobs/" + hb.ID + "/pause", "/jobs/" + hb.ID + "/delete", "/projects", "/projects/" + p + "/delete"} {
				assert.Equal(t, http.StatusForbidden, browsers["anonymous"].post(path, form("name", "x")).Code, path)
			}
			assert.Equal(t, before, e.counts())
		})

		e.run(t, "every role reads the job page", func(t *testing.T) {
			for _, role := range models.Roles {
				r := browsers[role].get("/jobs/" + hb.ID)
				require.Equal(t, http.StatusOK, r.Code, "%s: %s", role, r.Body)
				body := string(r.Body)
				assert.Contains(t, body, `data-status="new"`, role)
				assert.Contains(t, body, "nightly backup", role)
				assert.Contains(t, body, "Europe/Berlin", role)
				// 03:00 in Berlin (CET in March) on the five days after 10 March.
				assert.Contains(t, body, `<time datetime="2026-03-11T02:00:00Z">Wed 11 Mar 2026 03:00 CET</time>`, role)
				assert.Equal(t, 5, strings.Count(body[strings.Index(body, `class="next-runs"`):strings.Index(body, "</ol>")], "<li>"), role)
				assert.Contains(t, body, "5 min after the expected time", role)
				write := role != models.RoleViewer
				assert.Equal(t, write, strings.Contains(body, hb.PingToken), "%s sees the token: %v", role, write)
				assert.Equal(t, write, strings.Contains(body, `id="ping-url"`), role)
				assert.Equal(t, write, strings.Contains(body, `data-copy="http://`), role)
				for _, control := range []string{`action="/jobs/` + hb.ID + `/pause"`, `href="/jobs/` + hb.ID + `/edit"`, `href="/jobs/` + hb.ID + `/delete"`, `href="/jobs/new"`} {
					assert.Equal(t, write, strings.Contains(body, control), "%s sees %s: %v", role, control, write)
				}
				assert.NotRegexp(t, `<script>|style="`, body, "%s: nothing inline (CSP)", role)
				if write {
					url := e.cfg.BaseURL + "/ping/" + hb.PingToken
					assert.Contains(t, body, `<code id="ping-url">`+url+`</code>`)
					assert.Contains(t, body, `<input id="ping-url-input" readonly value="`+url+`"`, "selectable without JS")
					assert.Contains(t, body, "&amp;&amp; curl -fsS -m 10 --retry 5 -o /dev/null "+url)
					assert.Contains(t, body, "runitor -api-url "+e.cfg.BaseURL+"/ping -uuid "+hb.PingToken+" -- /path/to/script")
					assert.Contains(t, body, url+"/start\n/path/to/script\n")
					assert.Contains(t, body, url+"/$?")
				}
			}
		})

		e.run(t, "an HTTP check shows its request", func(t *testing.T) {
			body := string(browsers["viewer"].get("/jobs/" + check).Body)
			assert.Contains(t, body, "<code>GET https://example.com/health</code>")
			assert.Contains(t, body, "HTTP 200 within 30 s")
			assert.NotContains(t, body, `action="/jobs/`+check+`/run"`, "no run button for viewers")
			assert.Contains(t, string(browsers["operator"].get("/jobs/"+check).Body), `action="/jobs/`+check+`/run"`)
			assert.NotContains(t, body, `id="ping-url"`, "not a heartbeat")
		})

		e.run(t, "unknown ids are 404 pages", func(t *testing.T) {
			for _, path := range []string{"/jobs/nope", "/jobs/nope/edit", "/jobs/nope/delete", "/jobs/" + hb.ID + "/pings/7", "/projects/nope/edit"} {
				r := browsers["admin"].get(path)
				assert.Equal(t, http.StatusNotFound, r.Code, path)
				assert.Contains(t, r.Header.Get("Content-Type"), "text/html", path)
			}
		})

		e.run(t, "a viewer may not open the forms nor post", func(t *testing.T) {
			v := browsers["viewer"]
			for _, path := range []string{"/jobs/new", "/jobs/" + hb.ID + "/edit", "/jobs/" + hb.ID + "/delete", "/projects/new", "/projects/" + p + "/edit", "/projects/" + p + "/delete"} {
				assert.Equal(t, http.StatusForbidden, v.get(path).Code, path)
			}
			h.take() // the jobs made through the API
			before := e.counts()
			jobBefore, err := e.store.Job(hb.ID)
			require.NoError(t, err)
			posts := map[string]url.Values{
				"/jobs":                      form("name", "x", "projectId", p, "schedule", "@daily", "heartbeat", "true"),
				"/jobs/" + hb.ID:             form("name", "renamed", "projectId", p, "schedule", "@daily", "heartbeat", "true"),
				"/jobs/" + hb.ID + "/pause":  {},
				"/jobs/" + check + "/run":    {},
				"/jobs/" + hb.ID + "/delete": {},
				"/projects":                  form("name", "new"),
				"/projects/" + p:             form("name", "renamed"),
				"/projects/" + p + "/delete": {},
			}
			for path, f := range posts {
				f.Set("_csrf", tokens["viewer"])
				r := v.post(path, f)
				assert.Equal(t, http.StatusForbidden, r.Code, path)
				assert.Contains(t, string(r.Body), "Your role (viewer) may not do this.", path)
			}
			assert.Equal(t, before, e.counts())
			jobAfter, err := e.store.Job(hb.ID)
			require.NoError(t, err)
			assert.Equal(t, jobBefore, jobAfter, "the job is unchanged")
			assert.Zero(t, e.count("check_runs"), "nothing ran")
			assert.Empty(t, h.changed)
			assert.Empty(t, h.deleted)
		})
	})
}

func TestWebJobForm(t *testing.T) {
	eachHookedEnv(t, func(t *testing.T, e *env, h *triggerLog) {
		b, csrf := e.as(models.RoleOperator)
		h.take()

		// A project through its form, which leads to the new job form.
		r := b.post("/projects", form("_csrf", csrf, "name", "Shop"))
		require.Equal(t, http.StatusSeeOther, r.Code, "%s", r.Body)
		require.True(t, strings.HasPrefix(location(r), "/jobs/new?project="), location(r))
		p := strings.TrimPrefix(location(r), "/jobs/new?project=")
		r = b.get(location(r))
		require.Equal(t, http.StatusOK, r.Code)
		body := string(r.Body)
		assert.Contains(t, body, `<option value="`+p+`" selected>Shop</option>`)
		assert.Contains(t, body, `<meta name="csrf-token" content="`+csrf+`">`)
		assert.Contains(t, body, `id="schedule-preview"`)
		for _, name := range []string{"name", "slug", "projectId", "schedule", "timezone", "heartbeat", "heartbeatTolerance",
			"url", "method", "headers", "body", "expectedStatusCode", "timeout", "failureThreshold", "tags", "paused"} {
			assert.Contains(t, body, `name="`+name+`"`, name)
			assert.Contains(t, body, `<label for="f-`+name+`"`, name)
		}
		assert.NotRegexp(t, `<script>|style="`, body, "nothing inline")

		// What app.js's live preview calls, with the session and the page's token.
		r = b.get("/api/v1/schedules/validate?schedule=0+3+*+*+*&timezone=Europe/Berlin")
		require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
		var check struct {
			Valid    bool     `json:"valid"`
			NextRuns []string `json:"nextRuns"`
		}
		r.JSON(t, &check)
		assert.True(t, check.Valid)
		assert.Len(t, check.NextRuns, 5)
		r = b.doRaw("POST", "/api/v1/schedules/parse", `{"text":"every weekday at 9am","timezone":"UTC"}`,
			"Content-Type", "application/json", "X-CSRF-Token", csrf)
		require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
		assert.Contains(t, string(r.Body), `"expression"`)

		good := func(pairs ...string) url.Values {
			f := form("_csrf", csrf, "name", "nightly backup", "projectId", p, "schedule", "0 3 * * *",
				"timezone", "Europe/Berlin", "heartbeat", "true", "heartbeatTolerance", "15", "method", "GET",
				"tags", "db, nightly", "headers", "", "body", "")
			for i := 0; i+1 < len(pairs); i += 2 {
				f.Set(pairs[i], pairs[i+1])
			}
			return f
		}

		e.run(t, "errors like the API's, next to their field, with what was typed", func(t *testing.T) {
			cases := []struct {
				field, value, want string
			}{
				{"name", "", "is required"},
				{"schedule", "every blue moon", "must be a 5-field cron expression"},
				{"timezone", "Mars/Olympus", "Mars/Olympus"},
				{"heartbeatTolerance", "soon", "must be a whole number"},
				{"heartbeatTolerance", "99999", "must be between 0 and 43200 minutes"},
				{"url", "ftp://example.com", "must be an absolute http or https URL"},
				{"headers", "no colon here", "each line must be Name: value"},
				{"tags", "a b", "each tag must be 1-50 characters without spaces"},
			}
			jobs := e.count("jobs")
			for _, c := range cases {
				r := b.post("/jobs", good(c.field, c.value, "name", map[bool]string{true: "", false: "typed name"}[c.field == "name"]))
				require.Equal(t, http.StatusBadRequest, r.Code, "%s: %s", c.field, r.Body)
				body := string(r.Body)
				m := regexp.MustCompile(`<p class="field-error" id="e-` + c.field + `">([^<]*)</p>`).FindStringSubmatch(body)
				require.NotNil(t, m, "%s: the error is next to its field: %s", c.field, body)
				assert.Contains(t, m[1], c.want, c.field)
				assert.Contains(t, body, `aria-describedby="e-`+c.field+`"`, c.field)
				if c.field != "name" {
					assert.Contains(t, body, `value="typed name"`, "%s: the name typed is kept", c.field)
				}
				if c.field != "headers" && c.field != "tags" {
					assert.Contains(t, body, `name="`+c.field+`" type=`, c.field)
					assert.Contains(t, body, `value="`+c.value+`"`, "%s: the bad value is kept", c.field)
				}
			}
			// The API says the same about the same bad schedule.
			api := e.do("POST", "/api/v1/jobs", e.admin, `{"name":"x","projectId":"`+p+`","heartbeat":true,"schedule":"every blue moon"}`)
			r := b.post("/jobs", good("schedule", "every blue moon"))
			msg := strings.TrimPrefix(api.Error(t), "schedule: ")
			assert.Contains(t, string(r.Body), template(msg))
			assert.Equal(t, jobs, e.count("jobs"), "refused forms create nothing")
			assert.Empty(t, h.changed)
		})

		e.run(t, "without a CSRF token nothing is created", func(t *testing.T) {
			f := good()
			f.Del("_csrf")
			assert.Equal(t, http.StatusForbidden, b.post("/jobs", f).Code)
			assert.Zero(t, e.count("jobs"))
			assert.Equal(t, http.StatusForbidden, b.post("/projects", form("name", "no token")).Code)
			assert.EqualValues(t, 1, e.count("projects"))
		})

		var id string
		e.run(t, "create", func(t *testing.T) {
			r := b.post("/jobs", good("name", "<script>alert(1)</script>"))
			require.Equal(t, http.StatusSeeOther, r.Code, "%s", r.Body)
			id = strings.TrimPrefix(location(r), "/jobs/")
			j, err := e.store.Job(id)
			require.NoError(t, err)
			assert.Equal(t, "<script>alert(1)</script>", j.Name)
			assert.True(t, j.Heartbeat)
			assert.Equal(t, "Europe/Berlin", j.Timezone)
			assert.Equal(t, 15, j.HeartbeatTolerance)
			assert.Equal(t, models.Tags{"db", "nightly"}, j.Tags)
			assert.Equal(t, "script-alert-1-script", j.Slug, "derived as the API derives it")
			assert.Equal(t, []string{id}, h.changed, "the engine heard of it")
			r = b.get("/jobs/" + id)
			assert.Contains(t, string(r.Body), "Created &lt;script&gt;alert(1)&lt;/script&gt;.")
			assert.Contains(t, string(r.Body), "<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1>")
			assert.NotContains(t, string(r.Body), "<script>alert(1)")
			r = b.get("/jobs/" + id + "/edit")
			require.Equal(t, http.StatusOK, r.Code)
			assert.Contains(t, string(r.Body), `value="&lt;script&gt;alert(1)&lt;/script&gt;"`)
			assert.NotContains(t, string(r.Body), "<script>alert(1)")
			assert.Contains(t, string(r.Body), `<li><time datetime="2026-03-11T02:00:00Z">`, "the preview, server-side")
		})

		e.run(t, "update", func(t *testing.T) {
			f := good("name", "renamed", "schedule", "every blue moon")
			r := b.post("/jobs/"+id, f)
			assert.Equal(t, http.StatusBadRequest, r.Code)
			j, _ := e.store.Job(id)
			assert.Equal(t, "<script>alert(1)</script>", j.Name, "a refused edit changes nothing")
			r = b.post("/jobs/"+id, good("name", "renamed", "schedule", "@every 10m", "paused", "true", "slug", "renamed-job"))
			require.Equal(t, http.StatusSeeOther, r.Code, "%s", r.Body)
			assert.Equal(t, "/jobs/"+id, location(r))
			j, err := e.store.Job(id)
			require.NoError(t, err)
			assert.Equal(t, "renamed", j.Name)
			assert.Equal(t, "@every 10m", j.Schedule)
			assert.Equal(t, "renamed-job", j.Slug)
			assert.True(t, j.Paused)
			assert.Equal(t, []string{id, id}, h.changed)
		})

		e.run(t, "pause, resume, delete", func(t *testing.T) {
			r := b.post("/jobs/"+id+"/resume", form("_csrf", csrf))
			require.Equal(t, http.StatusSeeOther, r.Code)
			j, _ := e.store.Job(id)
			assert.False(t, j.Paused)
			r = b.post("/jobs/"+id+"/pause", form("_csrf", csrf))
			require.Equal(t, http.StatusSeeOther, r.Code)
			j, _ = e.store.Job(id)
			assert.True(t, j.Paused)
			assert.Len(t, h.changed, 4)
			assert.Equal(t, http.StatusForbidden, b.post("/jobs/"+id+"/delete", form()).Code, "no CSRF token")
			r = b.get("/jobs/" + id + "/delete")
			require.Equal(t, http.StatusOK, r.Code)
			assert.Contains(t, string(r.Body), "The job <strong>renamed</strong>")
			r = b.post("/jobs/"+id+"/delete", form("_csrf", csrf))
			require.Equal(t, http.StatusSeeOther, r.Code)
			_, err := e.store.Job(id)
			assert.True(t, models.IsNotFound(err))
			assert.Equal(t, []string{id}, h.deleted)
		})
	})
}

// template is s as html/template escapes text.
func template(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}

func TestWebJobRunAndEvents(t *testing.T) {
	eachHookedEnv(t, func(t *testing.T, e *env, h *triggerLog) {
		p := e.project("Shop")
		check := e.job(p, "health")
		b, csrf := e.as(models.RoleOperator)
		status := 500
		h.run = &models.CheckRun{Result: models.RunFailure, HTTPStatus: &status, ResponseTimeMs: 42,
			Error: "expected status 200, got 500", Trigger: "manual"}

		e.run(t, "run now flashes the result and the page shows the error", func(t *testing.T) {
			r := b.post("/jobs/"+check+"/run", form("_csrf", csrf))
			require.Equal(t, http.StatusSeeOther, r.Code, "%s", r.Body)
			body := string(b.get(location(r)).Body)
			assert.Contains(t, body, "Ran the check: failure (HTTP 500, 42 ms): expected status 200, got 500.")
			assert.Contains(t, body, `<span id="last-error">expected status 200, got 500</span>`)
			assert.Contains(t, body, "Check run: failure")
		})

		e.run(t, "a long error is cut to fit the flash", func(t *testing.T) {
			long := *h.run
			long.Error = strings.Repeat("é", 600)
			h.run = &long
			r := b.post("/jobs/"+check+"/run", form("_csrf", csrf))
			require.Equal(t, http.StatusSeeOther, r.Code)
			body := string(b.get(location(r)).Body)
			assert.Contains(t, body, "Ran the check: failure (HTTP 500, 42 ms): "+strings.Repeat("é", 150)+"….", "300 bytes of it")
		})

		hb := e.heartbeat(p, "nightly")
		// 30 pings a minute apart, two flips among them, one with a
		// notification that failed.
		for i := 1; i <= 30; i++ {
			exit := i % 2
			ping := models.Ping{JobID: hb.ID, N: int64(i), Kind: models.PingSuccess, ExitStatus: &exit, RemoteAddr: "10.0.0.1",
				Method: "POST", CreatedAt: webClock.Add(time.Duration(i-60) * time.Minute)}
			if i == 3 {
				ping.Body, ping.BodySize = "<b>done</b>", len("<b>done</b>")
			}
			require.NoError(t, e.store.DB().Create(&ping).Error)
		}
		e.mustCreate("/channels", `{"name":"ops","kind":"webhook","projectId":"`+p+`","config":{"url":"https://hooks.example.com/x"}}`)
		_, err := e.store.ChangeStatus(hb.ID, models.StatusDown, "no ping for 20 min", webClock.Add(-45*time.Minute))
		require.NoError(t, err)
		_, err = e.store.ChangeStatus(hb.ID, models.StatusUp, "ping received", webClock.Add(-44*time.Minute))
		require.NoError(t, err)

		viewer, _ := e.as(models.RoleViewer)
		r := viewer.get("/jobs/" + hb.ID)
		require.Equal(t, http.StatusOK, r.Code)
		body := string(r.Body)
		events := regexp.MustCompile(`data-event="(\w+)"`).FindAllStringSubmatch(body, -1)
		require.Len(t, events, 25, "a page holds 25 events")
		assert.Equal(t, "ping", events[0][1], "newest first: ping 30")
		assert.Contains(t, body, `data-status="up"`)
		assert.Contains(t, body, "Status: new → down")
		assert.Contains(t, body, "Status: down → up")
		assert.NotContains(t, body, hb.PingToken)
		next := regexp.MustCompile(`<a href="([^"]+)" rel="next">Older</a>`).FindStringSubmatch(body)
		require.NotNil(t, next, "an older page")
		older := string(viewer.get(strings.ReplaceAll(next[1], "&amp;", "&")).Body)
		rest := regexp.MustCompile(`data-event="(\w+)"`).FindAllStringSubmatch(older, -1)
		assert.Len(t, rest, 7, "32 events: 25 and 7")
		assert.NotContains(t, older, `rel="next"`, "the last page")
		assert.Contains(t, older, `href="/jobs/`+hb.ID+`#events">Newest</a>`)
		assert.Contains(t, older, `<a href="/jobs/`+hb.ID+`/pings/3">body (11 bytes)</a>`)
		assert.Regexp(t, `(?s)Ping: success</td>\s*<td>exit status 1; from 10.0.0.1`, older)
		var all []string
		for _, m := range append(events, rest...) {
			all = append(all, m[1])
		}
		assert.Equal(t, 30, strings.Count(strings.Join(all, ","), "ping"), "no ping twice, none skipped")

		r = viewer.get("/jobs/" + hb.ID + "/pings/3")
		require.Equal(t, http.StatusOK, r.Code)
		assert.Contains(t, string(r.Body), `<pre class="ping-body">&lt;b&gt;done&lt;/b&gt;</pre>`)
		assert.Equal(t, http.StatusBadRequest, viewer.get("/jobs/"+hb.ID+"?before=garbage").Code)

		e.run(t, "notification delivery states", func(t *testing.T) {
			flips, err := e.store.Flips(hb.ID, 0, 10)
			require.NoError(t, err)
			require.NoError(t, e.store.DB().Table("notifications").Where("flip_id = ?", flips[1].ID).
				Updates(map[string]any{"state": models.NotifyFailed, "attempts": 3, "last_error": "HTTP 502 from hook"}).Error)
			body := string(viewer.get("/jobs/" + hb.ID).Body)
			assert.Contains(t, body, `ops (webhook): <span data-state="failed">failed</span>, 3 attempts; last error: HTTP 502 from hook`)
			assert.Contains(t, body, `<span data-state="pending">pending</span>, 0 attempts`)
		})
	})
}
