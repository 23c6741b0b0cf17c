package handlers_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cronpulse/cronpulse/app"
	"github.com/cronpulse/cronpulse/handlers"
	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	rowRe  = regexp.MustCompile(`<tr data-job-id="([^"]+)" data-status="([^"]+)">`)
	nextRe = regexp.MustCompile(`<a href="([^"]+)" rel="next">`)
)

// rowsOf returns the job ids and statuses of a page's rows, in order.
func rowsOf(body []byte) (ids, statuses []string) {
	for _, m := range rowRe.FindAllSubmatch(body, -1) {
		ids = append(ids, string(m[1]))
		statuses = append(statuses, string(m[2]))
	}
	return ids, statuses
}

// copies inserts n paused copies of job id, fast (one batch insert).
func (e *env) copies(id string, n int) {
	e.t.Helper()
	j, err := e.store.Job(id)
	require.NoError(e.t, err)
	jobs := make([]models.Job, n)
	for i := range jobs {
		c := *j
		c.ID = fmt.Sprintf("%s%05d", j.ID[:20], i)
		c.Name = fmt.Sprintf("copy %05d", i)
		c.PingToken = uuid.NewString()
		c.Slug = fmt.Sprintf("copy-%05d", i)
		c.Paused, c.Status = true, models.StatusPaused
		jobs[i] = c
	}
	require.NoError(e.t, e.store.DB().CreateInBatches(jobs, 200).Error)
}

func TestWebOverview(t *testing.T) {
	eachEnv(t, nil, func(t *testing.T, e *env) {
		f := newFilterFixture(t, e) // Alpha down, Beta up, Gamma late, Delta new, Epsilon paused, Zeta up
		xss := e.job(f.p2, `<script>alert(1)</script>`)
		b, _ := e.as(models.RoleViewer)
		name := map[string]string{xss: "xss"}
		for n, id := range f.ids {
			name[id] = n
		}
		names := func(ids []string) []string {
			out := make([]string, len(ids))
			for i, id := range ids {
				out[i] = name[id]
			}
			return out
		}

		e.run(t, "down and late first, counts, title, escaping", func(t *testing.T) {
			r := b.get("/")
			require.Equal(t, http.StatusOK, r.Code)
			ids, statuses := rowsOf(r.Body)
			assert.Equal(t, []string{"down", "late", "up", "up", "new", "new", "paused"}, statuses)
			assert.Equal(t, "Alpha backup", name[ids[0]])
			body := string(r.Body)
			assert.Contains(t, body, "<title>(1 down) CronPulse</title>")
			assert.Contains(t, body, `>up 2</a> · <a href="/?status=down" class="st st-down">down 1</a> · `)
			assert.Contains(t, body, `>new 2</a>`)
			assert.Contains(t, body, "&lt;script&gt;alert(1)&lt;/script&gt;")
			assert.NotContains(t, body, "<script>alert(1)")
			assert.Contains(t, body, `<a href="/jobs/`+f.ids["Gamma"]+`">Gamma</a>`)
			assert.Contains(t, body, ">Web shop</td>", "the project's name")
			assert.Contains(t, body, `<a class="tag" href="/?tag=nightly">nightly</a>`)
			assert.Contains(t, body, "✕</span> down", "status is a symbol and a word")
		})

		cases := []struct {
			query string
			want  []string
		}{
			{"status=down", []string{"Alpha backup"}},
			{"status=up,late&sort=name", []string{"Beta api", "Gamma", "Zeta"}},
			{"project=" + f.p2 + "&sort=name", []string{"xss", "Gamma", "Zeta"}},
			{"tag=db&tag=nightly&sort=name", []string{"Alpha backup", "Epsilon"}},
			{"q=API&sort=name", []string{"Beta api"}},
			{"q=100%25_&sort=name", []string{"Delta 100%_off"}},
			{"sort=lastActivityAt&status=up,down,late", []string{"Beta api", "Zeta", "Gamma", "Alpha backup"}},
			{"sort=created&status=up", f.byID("Beta api", "Zeta")},
		}
		for _, tc := range cases {
			e.run(t, tc.query, func(t *testing.T) {
				r := b.get("/?" + tc.query)
				require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
				ids, _ := rowsOf(r.Body)
				got := names(ids)
				if strings.HasPrefix(tc.query, "project=") {
					assert.ElementsMatch(t, tc.want, got) // the collation orders "<" differently per database
					return
				}
				assert.Equal(t, tc.want, got)
			})
		}

		e.run(t, "project counts and a bad filter", func(t *testing.T) {
			body := string(b.get("/?project=" + f.p2).Body)
			assert.Contains(t, body, ">up 1</a>", "counts of the project: Zeta")
			assert.Contains(t, body, "<title>(1 down) CronPulse</title>", "the title counts every project")
			r := b.get("/?status=bogus")
			assert.Equal(t, http.StatusBadRequest, r.Code)
			assert.Contains(t, string(r.Body), "status: &#34;bogus&#34; is not one of")
		})

		e.run(t, "partial refresh", func(t *testing.T) {
			full := b.get("/?sort=name")
			part := b.get("/?sort=name", "X-Partial", "rows")
			require.Equal(t, http.StatusOK, part.Code)
			assert.Equal(t, "rows", part.Header.Get("X-Partial"))
			assert.Contains(t, part.Header.Get("Vary"), "X-Partial")
			body := string(part.Body)
			assert.NotContains(t, body, "<html")
			assert.Contains(t, body, `<div id="live" data-title="(1 down) CronPulse">`)
			assert.Contains(t, body, `<p id="counts"`)
			assert.Contains(t, body, `<tbody id="rows">`)
			fullIDs, _ := rowsOf(full.Body)
			partIDs, _ := rowsOf(part.Body)
			assert.Equal(t, fullIDs, partIDs, "the same rows in the same order")

			_, err := e.store.ChangeStatus(f.ids["Zeta"], models.StatusDown, "test", time.Now())
			require.NoError(t, err)
			part = b.get("/?sort=name", "X-Partial", "rows")
			assert.Contains(t, string(part.Body), `data-title="(2 down) CronPulse"`)
			assert.Contains(t, string(part.Body), `data-job-id="`+f.ids["Zeta"]+`" data-status="down"`)
		})

		e.run(t, "pages of 50 with the keyset cursor", func(t *testing.T) {
			e.copies(f.ids["Epsilon"], 1100)
			r := b.get("/")
			body := string(r.Body)
			assert.Contains(t, body, ">paused 1,101</a>", "thousands separators")
			seen := map[string]bool{}
			pages := 0
			next := "/?status=paused"
			for next != "" {
				r := b.get(strings.ReplaceAll(next, "&amp;", "&"))
				require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
				ids, statuses := rowsOf(r.Body)
				require.LessOrEqual(t, len(ids), 50)
				for i, id := range ids {
					assert.False(t, seen[id], "page %d repeats %s", pages, id)
					seen[id] = true
					assert.Equal(t, "paused", statuses[i])
				}
				pages++
				next = ""
				if m := nextRe.FindStringSubmatch(string(r.Body)); m != nil {
					next = m[1]
					assert.Contains(t, next, "status=paused", "the next page keeps the filter")
				}
				if pages > 1 {
					assert.Contains(t, string(r.Body), `<a href="/?status=paused">First page</a>`)
				}
			}
			assert.Len(t, seen, 1101)
			assert.Equal(t, 23, pages)
		})
	})
}

// hookLog records what the engine was told.
type hookLog struct {
	mu      sync.Mutex
	changed []string
	deleted []string
}

func (h *hookLog) hooks() handlers.JobHooks {
	return handlers.JobHooks{
		Changed: func(j *models.Job) { h.mu.Lock(); h.changed = append(h.changed, j.ID); h.mu.Unlock() },
		Deleted: func(id string) { h.mu.Lock(); h.deleted = append(h.deleted, id); h.mu.Unlock() },
	}
}

func (h *hookLog) take() (changed, deleted []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	changed, deleted = h.changed, h.deleted
	h.changed, h.deleted = nil, nil
	return changed, deleted
}

func TestWebBulkActions(t *testing.T) {
	modelstest.Run(t, func(t *testing.T, db modelstest.Database) {
		var h hookLog
		e := newEnvWith(t, db, nil, app.Deps{Hooks: h.hooks()})
		p1, p2 := e.project("One"), e.project("Two")
		a, bb, c := e.job(p1, "a"), e.job(p1, "b"), e.job(p2, "c")
		d := e.job(p2, "d")
		h.take() // the creations
		op, csrf := e.as(models.RoleOperator)
		paused := func(id string) bool {
			t.Helper()
			j, err := e.store.Job(id)
			require.NoError(t, err)
			return j.Paused
		}
		tags := func(id string) []string {
			t.Helper()
			j, err := e.store.Job(id)
			require.NoError(t, err)
			return j.Tags
		}

		e.run(t, "without or with a wrong _csrf: 403, nothing changes", func(t *testing.T) {
			for _, token := range []string{"", "wrong", csrf[:len(csrf)-1]} {
				r := op.post("/", form("_csrf", token, "action", "pause", "id", a))
				assert.Equal(t, http.StatusForbidden, r.Code)
				assert.Contains(t, r.Header.Get("Content-Type"), "text/html")
			}
			r := op.post("/", form("action", "delete", "confirm", "yes", "expected", "1", "id", a), "X-CSRF-Token", "wrong")
			assert.Equal(t, http.StatusForbidden, r.Code)
			assert.False(t, paused(a))
			assert.EqualValues(t, 4, e.count("jobs"))
			changed, deleted := h.take()
			assert.Empty(t, changed)
			assert.Empty(t, deleted)
		})

		e.run(t, "pause and resume checked rows", func(t *testing.T) {
			r := op.post("/", form("_csrf", csrf, "action", "pause", "id", a, "id", c, "sort", "name"))
			require.Equal(t, http.StatusSeeOther, r.Code, "%s", r.Body)
			assert.Equal(t, "/?sort=name", location(r), "back to the same view")
			assert.True(t, paused(a))
			assert.True(t, paused(c))
			assert.False(t, paused(bb))
			changed, _ := h.take()
			assert.ElementsMatch(t, []string{a, c}, changed, "the engine hears of each")
			assert.Contains(t, string(op.get("/").Body), "Paused 2 jobs.")

			r = op.post("/", form("_csrf", csrf, "action", "pause", "id", a, "id", bb))
			require.Equal(t, http.StatusSeeOther, r.Code)
			assert.Contains(t, string(op.get("/").Body), "Paused 1 job. 1 job left unchanged.")
			h.take()

			r = op.post("/", form("_csrf", csrf, "action", "resume", "id", a, "id", bb, "id", c))
			require.Equal(t, http.StatusSeeOther, r.Code)
			assert.False(t, paused(a) || paused(bb) || paused(c))
			changed, _ = h.take()
			assert.Len(t, changed, 3)
		})

		e.run(t, "tags on all jobs matching a filter", func(t *testing.T) {
			r := op.post("/", form("_csrf", csrf, "action", "tag-add", "bulk_tag", "db", "scope", "all", "project", p2))
			require.Equal(t, http.StatusSeeOther, r.Code, "%s", r.Body)
			assert.Equal(t, "/?project="+p2, location(r))
			assert.Equal(t, []string{"db"}, tags(c))
			assert.Equal(t, []string{"db"}, tags(d))
			assert.Empty(t, tags(a))
			assert.Contains(t, string(op.get("/").Body), "Added the tag “db” to 2 jobs.")
			r = op.post("/", form("_csrf", csrf, "action", "tag-remove", "bulk_tag", "db", "scope", "all", "tag", "db"))
			require.Equal(t, http.StatusSeeOther, r.Code)
			assert.Empty(t, tags(c))
			assert.Empty(t, tags(d))
			r = op.post("/", form("_csrf", csrf, "action", "tag-add", "bulk_tag", strings.Repeat("x", 51), "id", a))
			require.Equal(t, http.StatusSeeOther, r.Code)
			assert.Contains(t, string(op.get("/").Body), "tags: ")
			assert.Empty(t, tags(a), "an invalid tag changes nothing")
			h.take()
		})

		e.run(t, "delete asks first", func(t *testing.T) {
			r := op.post("/", form("_csrf", csrf, "action", "delete", "scope", "all", "project", p2))
			require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
			body := string(r.Body)
			assert.Contains(t, body, "<title>Delete 2 jobs?</title>")
			assert.Contains(t, body, "<li>c ")
			assert.Contains(t, body, "<li>d ")
			assert.NotContains(t, body, "<li>a ")
			assert.Contains(t, body, `name="confirm" value="yes"`)
			assert.Contains(t, body, `name="scope" value="all"`)
			assert.EqualValues(t, 4, e.count("jobs"), "nothing is deleted before the confirmation")

			// The filter selects another number of jobs than confirmed: ask again.
			r = op.post("/", form("_csrf", csrf, "action", "delete", "confirm", "yes", "expected", "3", "scope", "all", "project", p2))
			assert.Equal(t, http.StatusOK, r.Code)
			assert.EqualValues(t, 4, e.count("jobs"))

			r = op.post("/", form("_csrf", csrf, "action", "delete", "confirm", "yes", "expected", "2", "scope", "all", "project", p2))
			require.Equal(t, http.StatusSeeOther, r.Code, "%s", r.Body)
			assert.EqualValues(t, 2, e.count("jobs"))
			_, deleted := h.take()
			assert.ElementsMatch(t, []string{c, d}, deleted)

			r = op.post("/", form("_csrf", csrf, "action", "delete", "id", a))
			assert.Contains(t, string(r.Body), "<title>Delete 1 job?</title>")
			assert.Contains(t, string(r.Body), `name="id" value="`+a+`"`)
			r = op.post("/", form("_csrf", csrf, "action", "delete", "confirm", "yes", "expected", "1", "id", a))
			require.Equal(t, http.StatusSeeOther, r.Code)
			assert.EqualValues(t, 1, e.count("jobs"))
			assert.Contains(t, string(op.get("/").Body), "Deleted 1 job.")
		})

		e.run(t, "nothing selected", func(t *testing.T) {
			r := op.post("/", form("_csrf", csrf, "action", "pause"))
			require.Equal(t, http.StatusSeeOther, r.Code)
			assert.Contains(t, string(op.get("/").Body), "No jobs were selected")
			r = op.post("/", form("_csrf", csrf, "action", "explode", "id", bb))
			assert.Equal(t, http.StatusBadRequest, r.Code)
			assert.Contains(t, string(r.Body), "action: must be one of")
		})
	})
}
