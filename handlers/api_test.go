package handlers_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cronpulse/cronpulse/app"
	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
)

func TestUnknownIDsAre404(t *testing.T) {
	eachEnv(t, nil, func(t *testing.T, e *env) {
		const missing = "c000000000nosuchthing000"
		cases := []struct{ method, path, body, what string }{
			{"GET", "/jobs/" + missing, "", "job"},
			{"PUT", "/jobs/" + missing, `{"name":"x"}`, "job"},
			{"DELETE", "/jobs/" + missing, "", "job"},
			{"GET", "/projects/" + missing, "", "project"},
			{"PUT", "/projects/" + missing, `{"name":"x"}`, "project"},
			{"DELETE", "/projects/" + missing, "", "project"},
			{"DELETE", "/api-keys/" + missing, "", "api key"},
			{"GET", "/no-such-route", "", "route"},
		}
		for _, c := range cases {
			e.run(t, c.method+" "+c.path, func(t *testing.T) {
				before := e.counts()
				r := e.do(c.method, "/api/v1"+c.path, e.admin, c.body)
				assert.Equal(t, http.StatusNotFound, r.Code, "%s %s: %s", c.method, c.path, r.Body)
				assert.Contains(t, r.Error(t), c.what)
				assert.Equal(t, before, e.counts())
			})
		}
	})
}

func TestPartialPUTChangesOnlySentFields(t *testing.T) {
	var now time.Time
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	for _, db := range modelstest.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			db.SkipIfMissing(t)
			now = time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
			e := newEnvAt(t, db, nil, clock)
			p := e.project("P")
			id := e.mustCreate("/jobs", validJob(p,
				`"headers": {"Authorization": "Bearer token"}`, `"body": "hello"`,
				`"timezone": "Europe/Berlin"`, `"tags": ["db", "nightly"]`, `"heartbeat": true`))
			before := e.mustJob(id)
			mu.Lock()
			now = now.Add(time.Hour)
			mu.Unlock()

			// The document's own update example.
			r := e.do("PUT", "/api/v1/jobs/"+id, e.admin, `{"name": "Updated Job Name",
				"url": "https://example.com/new-endpoint", "schedule": "0 * * * *", "heartbeat": false, "timeout": 60}`)
			require.Equal(t, 200, r.Code, "%s", r.Body)
			after := e.mustJob(id)
			assert.Equal(t, "Updated Job Name", after.Name)
			assert.Equal(t, "https://example.com/new-endpoint", after.URL)
			assert.Equal(t, "0 * * * *", after.Schedule)
			assert.False(t, after.Heartbeat)
			assert.Equal(t, 60, after.Timeout)
			// nextRunAt follows the new schedule, in the job's zone.
			require.NotNil(t, after.NextRunAt)
			assert.Equal(t, time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC), after.NextRunAt.UTC())
			assert.Equal(t, now, after.UpdatedAt.UTC())

			// Everything not sent is as it was.
			want := *before
			want.Name, want.URL, want.Schedule, want.Heartbeat, want.Timeout = after.Name, after.URL, after.Schedule, after.Heartbeat, after.Timeout
			want.NextRunAt, want.UpdatedAt = after.NextRunAt, after.UpdatedAt
			assert.Equal(t, &want, after)

			// body: absent keeps it, null clears it.
			r = e.do("PUT", "/api/v1/jobs/"+id, e.admin, `{"expectedStatusCode": 204}`)
			require.Equal(t, 200, r.Code, "%s", r.Body)
			require.NotNil(t, e.mustJob(id).Body)
			assert.Equal(t, "hello", *e.mustJob(id).Body)
			r = e.do("PUT", "/api/v1/jobs/"+id, e.admin, `{"body": null}`)
			require.Equal(t, 200, r.Code, "%s", r.Body)
			assert.Nil(t, e.mustJob(id).Body)
			assert.Equal(t, 204, e.mustJob(id).ExpectedStatusCode)
			assert.Equal(t, models.Headers{"Authorization": "Bearer token"}, e.mustJob(id).Headers)

			// Projects: only the sent field changes.
			r = e.do("PUT", "/api/v1/projects/"+p, e.admin, `{"url": "https://example.org"}`)
			require.Equal(t, 200, r.Code, "%s", r.Body)
			proj, err := e.store.Project(p)
			require.NoError(t, err)
			assert.Equal(t, "P", proj.Name)
			assert.Equal(t, "https://example.org", proj.URL)
		})
	}
}

func TestDeleteProjectCascades(t *testing.T) {
	eachEnv(t, nil, func(t *testing.T, e *env) {
		p := e.project("Doomed")
		keep := e.project("Kept")
		j1, j2 := e.job(p, "a"), e.job(p, "b")
		kept := e.job(keep, "c")
		now := time.Now().UTC()
		db := e.store.DB()
		for _, j := range []string{j1, j2, kept} {
			require.NoError(t, db.Create(&models.Ping{JobID: j, N: 1, Kind: models.PingSuccess, CreatedAt: now}).Error)
			require.NoError(t, db.Create(&models.CheckRun{JobID: j, Result: models.RunSuccess, Trigger: models.TriggerSchedule, CreatedAt: now}).Error)
			require.NoError(t, db.Create(&models.Flip{JobID: j, FromStatus: "new", ToStatus: "up", CreatedAt: now}).Error)
		}
		require.EqualValues(t, 3, e.count("jobs"))

		r := e.do("DELETE", "/api/v1/projects/"+p, e.admin, "")
		require.Equal(t, http.StatusNoContent, r.Code, "%s", r.Body)
		assert.EqualValues(t, 1, e.count("projects"))
		assert.EqualValues(t, 1, e.count("jobs"), "the project's jobs are gone, the other's stays")
		for _, table := range []string{"pings", "check_runs", "flips"} {
			assert.EqualValues(t, 1, e.count(table), "%s of the deleted jobs are gone", table)
		}
		assert.Equal(t, http.StatusNotFound, e.do("GET", "/api/v1/jobs/"+j1, e.admin, "").Code)
		assert.Equal(t, http.StatusOK, e.do("GET", "/api/v1/jobs/"+kept, e.admin, "").Code)

		// Deleting a job takes its history too.
		r = e.do("DELETE", "/api/v1/jobs/"+kept, e.admin, "")
		require.Equal(t, http.StatusNoContent, r.Code)
		for _, table := range []string{"jobs", "pings", "check_runs", "flips"} {
			assert.EqualValues(t, 0, e.count(table), table)
		}
	})
}

var linkNext = regexp.MustCompile(`^<([^>]+)>; rel="next"$`)

func TestPaginationLinkWalksAllJobs(t *testing.T) {
	eachEnv(t, nil, func(t *testing.T, e *env) {
		p := e.project("P")
		other := e.project("Other")
		var want []string
		for i := 0; i < 7; i++ {
			want = append(want, e.job(p, "job "+strconv.Itoa(i)))
			e.job(other, "other "+strconv.Itoa(i))
		}
		var got []string
		next := "/api/v1/jobs?projectId=" + p + "&limit=3"
		pages := 0
		for next != "" {
			pages++
			require.LessOrEqual(t, pages, 10, "pagination does not end")
			r := e.do("GET", next, e.admin, "")
			require.Equal(t, 200, r.Code, "%s", r.Body)
			var jobs []struct{ ID, ProjectID string }
			r.JSON(t, &jobs)
			assert.LessOrEqual(t, len(jobs), 3)
			for _, j := range jobs {
				assert.Equal(t, p, j.ProjectID, "the projectId filter survives paging")
				got = append(got, j.ID)
			}
			next = ""
			if link := r.Header.Get("Link"); link != "" {
				m := linkNext.FindStringSubmatch(link)
				require.NotNil(t, m, "Link header %q", link)
				u, err := url.Parse(m[1])
				require.NoError(t, err)
				assert.Equal(t, e.cfg.BaseURL, u.Scheme+"://"+u.Host, "links are absolute, on BASE_URL")
				next = u.RequestURI()
			}
		}
		assert.Equal(t, 3, pages)
		sort.Strings(want) // lists are ordered by id; ids made in one millisecond sort at random
		assert.Equal(t, want, got, "every job once, in id order")

		// Without a limit the whole list comes back as a bare array, no Link.
		r := e.do("GET", "/api/v1/jobs", e.admin, "")
		require.Equal(t, 200, r.Code)
		var all []map[string]any
		r.JSON(t, &all)
		assert.Len(t, all, 14)
		assert.Empty(t, r.Header.Get("Link"))

		// Projects page the same way.
		r = e.do("GET", "/api/v1/projects?limit=1", e.admin, "")
		require.Equal(t, 200, r.Code)
		assert.NotEmpty(t, r.Header.Get("Link"))

		for _, bad := range []string{"limit=0", "limit=1001", "limit=x", "cursor=../../etc", "cursor=" + strings.Repeat("a", 65)} {
			r := e.do("GET", "/api/v1/jobs?"+bad, e.admin, "")
			assert.Equal(t, http.StatusBadRequest, r.Code, bad)
			r.Error(t)
		}
	})
}

func TestRateLimit(t *testing.T) {
	var now time.Time
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	for _, db := range modelstest.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			db.SkipIfMissing(t)
			now = time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
			e := newEnvAt(t, db, func(c *app.Config) { c.APIRateLimit = 3 }, clock)
			reader := e.key("reader", models.PermReadJobs)
			for i := 0; i < 3; i++ {
				r := e.do("GET", "/api/v1/jobs", reader, "")
				require.Equal(t, 200, r.Code, "request %d", i+1)
				assert.Equal(t, "3", r.Header.Get("X-RateLimit-Limit"))
			}
			advance(20 * time.Second)
			r := e.do("GET", "/api/v1/jobs", reader, "")
			assert.Equal(t, http.StatusTooManyRequests, r.Code)
			assert.Contains(t, r.Error(t), "rate limit")
			assert.Equal(t, "40", r.Header.Get("Retry-After"), "seconds until the window resets")
			// Limits are per key.
			assert.Equal(t, 200, e.do("GET", "/api/v1/jobs", e.admin, "").Code)
			advance(40 * time.Second)
			assert.Equal(t, 200, e.do("GET", "/api/v1/jobs", reader, "").Code, "a new window")
			// Requests without a valid key are refused before they are counted.
			for i := 0; i < 5; i++ {
				assert.Equal(t, 401, e.do("GET", "/api/v1/jobs", "cpk_bad", "").Code)
			}
		})
	}
}

func TestRequestIDAndHealth(t *testing.T) {
	eachEnv(t, nil, func(t *testing.T, e *env) {
		seen := map[string]bool{}
		for _, c := range []struct {
			name, path, key string
			code            int
		}{
			{"health", "/healthz", "", 200},
			{"ready", "/readyz", "", 200},
			{"jobs", "/api/v1/jobs", e.admin, 200},
			{"jobs without key", "/api/v1/jobs", "", 401},
			{"unknown job", "/api/v1/jobs/nope", e.admin, 404},
		} {
			e.run(t, c.name, func(t *testing.T) {
				r := e.do("GET", c.path, c.key, "")
				assert.Equal(t, c.code, r.Code, c.path)
				id := r.Header.Get("X-Request-Id")
				assert.NotEmpty(t, id, "%s has an X-Request-Id", c.path)
				assert.False(t, seen[id], "request ids are unique")
				seen[id] = true
			})
		}
		r := e.do("GET", "/healthz", "", "")
		assert.JSONEq(t, `{"status":"ok"}`, string(r.Body))
		// A request id the client sends is kept.
		r = e.do("GET", "/healthz", "", "", "X-Request-Id", "abc-123")
		assert.Equal(t, "abc-123", r.Header.Get("X-Request-Id"))

		// With the database gone: /healthz stays up, /readyz and the API say 503
		// without leaking the driver's text.
		require.NoError(t, models.Close(e.store.DB()))
		assert.Equal(t, 200, e.do("GET", "/healthz", "", "").Code)
		r = e.do("GET", "/readyz", "", "")
		assert.Equal(t, http.StatusServiceUnavailable, r.Code)
		r = e.do("GET", "/api/v1/jobs", e.admin, "")
		assert.Equal(t, http.StatusServiceUnavailable, r.Code, "%s", r.Body)
		msg := r.Error(t)
		assert.NotContains(t, msg, "sql")
		assert.NotContains(t, msg, "closed")
	})
}

func TestAPIKeysEndpoint(t *testing.T) {
	eachEnv(t, nil, func(t *testing.T, e *env) {
		r := e.do("POST", "/api/v1/api-keys", e.admin, `{"name": "ci", "permissions": ["read:jobs", "write:jobs"]}`)
		require.Equal(t, http.StatusCreated, r.Code, "%s", r.Body)
		var created struct {
			ID, Key, Prefix string
			Permissions     []string
		}
		r.JSON(t, &created)
		assert.Regexp(t, `^cpk_[0-9A-Za-z]{32}$`, created.Key)
		assert.Equal(t, created.Key[:12], created.Prefix)
		assert.Equal(t, []string{"read:jobs", "write:jobs"}, created.Permissions)
		assert.Equal(t, 200, e.do("GET", "/api/v1/jobs", created.Key, "").Code, "the new key works")

		// The list never shows a secret or a hash.
		r = e.do("GET", "/api/v1/api-keys", e.admin, "")
		require.Equal(t, 200, r.Code)
		assert.NotContains(t, string(r.Body), created.Key)
		assert.NotContains(t, string(r.Body), created.Key[12:])
		assert.NotContains(t, string(r.Body), `"hash"`)
		var list []map[string]any
		r.JSON(t, &list)
		assert.Len(t, list, 2)
		for _, k := range list {
			assert.NotContains(t, k, "key")
		}
		// The hash stored is not the key.
		var stored models.APIKey
		require.NoError(t, e.store.DB().Where("id = ?", created.ID).Take(&stored).Error)
		assert.NotContains(t, stored.Hash, created.Key[12:])

		// Revoke: the key stops working at once.
		r = e.do("DELETE", "/api/v1/api-keys/"+created.ID, e.admin, "")
		require.Equal(t, 200, r.Code, "%s", r.Body)
		r = e.do("GET", "/api/v1/jobs", created.Key, "")
		assert.Equal(t, 401, r.Code)
		assert.Contains(t, r.Error(t), "revoked")

		for _, bad := range []string{`{"name": "", "permissions": ["*"]}`, `{"name": "x", "permissions": ["root"]}`,
			`{"name": "x", "permissions": []}`, `{"name": "x", "permissions": [1]}`, `{"name": "x", "permissions": 5}`, `{"name": "a\u0000b", "permissions": ["*"]}`} {
			before := e.counts()
			r := e.do("POST", "/api/v1/api-keys", e.admin, bad)
			assert.Equal(t, 400, r.Code, "%s: %s", bad, r.Body)
			r.Error(t)
			assert.Equal(t, before, e.counts())
		}
	})
}

func TestLastUsedAtIsRecorded(t *testing.T) {
	eachEnv(t, nil, func(t *testing.T, e *env) {
		key := e.key("used", models.PermReadJobs)
		k, err := e.store.APIKeyByPrefix(models.KeyPrefix(key))
		require.NoError(t, err)
		require.Nil(t, k.LastUsedAt)
		require.Equal(t, 200, e.do("GET", "/api/v1/jobs", key, "").Code)
		// The write happens off the request path; wait for it.
		require.Eventually(t, func() bool {
			k, err := e.store.APIKeyByPrefix(models.KeyPrefix(key))
			return err == nil && k.LastUsedAt != nil
		}, 5*time.Second, 10*time.Millisecond)
	})
}

// TestPUTKeepsConcurrentCounterUpdates: a PUT rewrites the whole job row, so
// it must not write back counters that the ping writer or the checker
// changed while it ran (a lost update). Another transaction holds the row,
// updated but not committed, while the PUT starts.
func TestPUTKeepsConcurrentCounterUpdates(t *testing.T) {
	eachEnv(t, nil, func(t *testing.T, e *env) {
		p := e.project("P")
		id := e.job(p, "J")
		tx := e.store.DB().Begin()
		require.NoError(t, tx.Error)
		require.NoError(t, tx.Exec("UPDATE jobs SET ping_count = 5, last_status = 'success' WHERE id = ?", id).Error)

		done := make(chan response, 1)
		go func() {
			req := httptest.NewRequest("PUT", "/api/v1/jobs/"+id, strings.NewReader(`{"name": "Renamed"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-API-Key", e.admin)
			res, err := e.app.Test(req, -1)
			if err != nil {
				done <- response{Code: -1, Body: []byte(err.Error())}
				return
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body) // a short read shows up as a wrong body below
			done <- response{Code: res.StatusCode, Body: b}
		}()
		waitBlockedBehind(t, e, tx)
		require.NoError(t, tx.Commit().Error)
		r := <-done
		require.Equal(t, 200, r.Code, "%s", r.Body)
		j := e.mustJob(id)
		assert.Equal(t, "Renamed", j.Name)
		assert.EqualValues(t, 5, j.PingCount, "the PUT must not write back a stale ping count")
		assert.Equal(t, "success", j.LastStatus)
	})
}

// TestCreateJobInProjectBeingDeleted: a project deleted while a job is being
// created in it gives the job request a 400 naming projectId (or the job is
// created and then removed with its project), never a 500.
func TestCreateJobInProjectBeingDeleted(t *testing.T) {
	eachEnv(t, nil, func(t *testing.T, e *env) {
		p := e.project("Doomed")
		tx := e.store.DB().Begin()
		require.NoError(t, tx.Error)
		require.NoError(t, tx.Exec("DELETE FROM projects WHERE id = ?", p).Error)

		done := make(chan response, 1)
		go func() {
			req := httptest.NewRequest("POST", "/api/v1/jobs", strings.NewReader(validJob(p)))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-API-Key", e.admin)
			res, err := e.app.Test(req, -1)
			if err != nil {
				done <- response{Code: -1, Body: []byte(err.Error())}
				return
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body) // a short read shows up as a wrong body below
			done <- response{Code: res.StatusCode, Body: b}
		}()
		waitBlockedBehind(t, e, tx)
		require.NoError(t, tx.Commit().Error)
		r := <-done
		assert.Equal(t, http.StatusBadRequest, r.Code, "%s", r.Body)
		assert.Contains(t, r.Error(t), "projectId")
		assert.EqualValues(t, 0, e.count("jobs"))
	})
}

// waitBlockedBehind waits until another connection is blocked behind tx
// (PostgreSQL), or gives it a moment to start waiting for the write lock tx
// holds (SQLite, where waiting cannot be observed; the outcome is the same
// either way, the wait only makes the race likely).
func waitBlockedBehind(t *testing.T, e *env, tx *gorm.DB) {
	t.Helper()
	if e.db.Name != "postgres" {
		time.Sleep(100 * time.Millisecond)
		return
	}
	var pid int
	require.NoError(t, tx.Raw("SELECT pg_backend_pid()").Scan(&pid).Error)
	require.Eventually(t, func() bool {
		var n int
		err := e.store.DB().Raw("SELECT count(*) FROM pg_stat_activity WHERE ? = ANY(pg_blocking_pids(pid))", pid).Scan(&n).Error
		return err == nil && n > 0
	}, 10*time.Second, 5*time.Millisecond)
}

// TestUpdateProjectBeingDeleted: a PUT racing a DELETE of the same project
// must not bring the project back.
func TestUpdateProjectBeingDeleted(t *testing.T) {
	eachEnv(t, nil, func(t *testing.T, e *env) {
		p := e.project("Doomed")
		tx := e.store.DB().Begin()
		require.NoError(t, tx.Error)
		require.NoError(t, tx.Exec("DELETE FROM projects WHERE id = ?", p).Error)

		done := make(chan response, 1)
		go func() {
			req := httptest.NewRequest("PUT", "/api/v1/projects/"+p, strings.NewReader(`{"name": "Renamed"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-API-Key", e.admin)
			res, err := e.app.Test(req, -1)
			if err != nil {
				done <- response{Code: -1, Body: []byte(err.Error())}
				return
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body) // a short read shows up as a wrong body below
			done <- response{Code: res.StatusCode, Body: b}
		}()
		waitBlockedBehind(t, e, tx)
		require.NoError(t, tx.Commit().Error)
		r := <-done
		assert.Equal(t, http.StatusNotFound, r.Code, "%s", r.Body)
		assert.EqualValues(t, 0, e.count("projects"), "the deleted project stays deleted")
	})
}

// TestBodyBeyondServerLimit: a body over the server-wide limit is refused
// before any middleware runs; the answer is still the JSON 413 with a
// request id. The request announces the size and sends no body: the server
// answers from the Content-Length alone, and a client still uploading when
// it closes could lose the answer to a reset.
func TestBodyBeyondServerLimit(t *testing.T) {
	e := newEnv(t, sqliteOnly(t), nil)
	base := e.listen(t)
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))
	_, err = fmt.Fprintf(conn, "POST /api/v1/projects HTTP/1.1\r\nHost: x\r\nX-API-Key: %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n", e.admin, app.ServerBodyLimit+1)
	require.NoError(t, err)
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	r := response{Code: res.StatusCode, Header: res.Header, Body: body}
	assert.Equal(t, http.StatusRequestEntityTooLarge, r.Code)
	assert.Contains(t, r.Error(t), "too large")
	assert.NotEmpty(t, r.Header.Get("X-Request-Id"))
	assert.EqualValues(t, 0, e.count("projects"))
}
