package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// filterFixture is a set of jobs that every job filter tells apart: two
// projects, each status, tags, names, slugs and URLs to search, and
// activity times with a tie.
type filterFixture struct {
	p1, p2 string
	ids    map[string]string // name → id
}

func newFilterFixture(t *testing.T, e *env) filterFixture {
	t.Helper()
	f := filterFixture{p1: e.project("Web shop"), p2: e.project("Data"), ids: map[string]string{}}
	t0 := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	jobs := []struct {
		name, project, url, tags, status string
		activity                         *time.Time
	}{
		{"Alpha backup", f.p1, "https://example.com/a", `["db","nightly"]`, models.StatusDown, ptr(t0)},
		{"Beta api", f.p1, "https://api.example.net/x", `["api"]`, models.StatusUp, ptr(t0.Add(2 * time.Hour))},
		{"Gamma", f.p2, "https://example.com/g", `["db"]`, models.StatusLate, ptr(t0.Add(time.Hour))},
		{"Delta 100%_off", f.p1, "https://example.com/d", `[]`, models.StatusNew, nil},
		{"Epsilon", f.p1, "https://example.com/e", `["db","nightly"]`, models.StatusPaused, nil},
		{"Zeta", f.p2, "https://example.com/z", `["nightly"]`, models.StatusUp, ptr(t0.Add(2 * time.Hour))},
	}
	for _, j := range jobs {
		id := e.mustCreate("/jobs", fmt.Sprintf(`{"name": %q, "projectId": %q, "url": %q, "method": "GET", "schedule": "@hourly", "tags": %s}`,
			j.name, j.project, j.url, j.tags))
		f.ids[j.name] = id
		if j.status == models.StatusPaused {
			require.Equal(t, 200, e.do("POST", "/api/v1/jobs/"+id+"/pause", e.admin, "").Code)
		} else if j.status != models.StatusNew {
			_, err := e.store.ChangeStatus(id, j.status, "test", t0)
			require.NoError(t, err)
		}
		if j.activity != nil {
			require.NoError(t, e.store.DB().Exec("UPDATE jobs SET last_activity_at = ? WHERE id = ?", j.activity.UTC(), id).Error)
		}
	}
	return f
}

// byID orders names by their jobs' ids.
func (f filterFixture) byID(names ...string) []string {
	out := slices.Clone(names)
	slices.SortFunc(out, func(a, b string) int { return strings.Compare(f.ids[a], f.ids[b]) })
	return out
}

func ptr[T any](v T) *T { return &v }

// listNames lists the jobs a GET returns, by name, in order.
func listNames(t *testing.T, e *env, query string) []string {
	t.Helper()
	r := e.do("GET", "/api/v1/jobs?"+query, e.admin, "")
	require.Equal(t, http.StatusOK, r.Code, "?%s: %s", query, r.Body)
	var jobs []struct{ Name string }
	r.JSON(t, &jobs)
	out := []string{}
	for _, j := range jobs {
		out = append(out, j.Name)
	}
	return out
}

func TestJobFilters(t *testing.T) {
	eachEnv(t, nil, func(t *testing.T, e *env) {
		f := newFilterFixture(t, e)
		all := []string{"Alpha backup", "Beta api", "Gamma", "Delta 100%_off", "Epsilon", "Zeta"}
		cases := []struct {
			name, query string
			want        []string // in id order unless sorted: see below
		}{
			{"nothing", "", all},
			{"one status", "status=down", []string{"Alpha backup"}},
			{"several statuses", "status=up,late", []string{"Beta api", "Gamma", "Zeta"}},
			{"paused status", "status=paused", []string{"Epsilon"}},
			{"new status", "status=new", []string{"Delta 100%_off"}},
			{"one tag", "tag=db", []string{"Alpha backup", "Gamma", "Epsilon"}},
			{"every tag must match", "tag=db&tag=nightly", []string{"Alpha backup", "Epsilon"}},
			{"unknown tag", "tag=nosuch", []string{}},
			{"q in name, any case", "q=ALPHA", []string{"Alpha backup"}},
			{"q in slug", "q=alpha-backup", []string{"Alpha backup"}},
			{"q in url", "q=api.example.net", []string{"Beta api"}},
			{"q wildcards are literal", "q=" + url.QueryEscape("100%_"), []string{"Delta 100%_off"}},
			{"q percent alone", "q=" + url.QueryEscape("%"), []string{"Delta 100%_off"}},
			{"q matches nothing", "q=nowhere", []string{}},
			{"paused", "paused=true", []string{"Epsilon"}},
			{"not paused", "paused=false", []string{"Alpha backup", "Beta api", "Gamma", "Delta 100%_off", "Zeta"}},
			{"project", "projectId=" + f.p2, []string{"Gamma", "Zeta"}},
			{"project and status", "projectId=" + f.p2 + "&status=up", []string{"Zeta"}},
			{"statuses and tag", "status=down,late&tag=db", []string{"Alpha backup", "Gamma"}},
			{"tag, q and project", "tag=nightly&q=a&projectId=" + f.p2, []string{"Zeta"}},
			{"status and q", "status=up&q=example.com", []string{"Zeta"}},
			{"sort by name", "sort=name", []string{"Alpha backup", "Beta api", "Delta 100%_off", "Epsilon", "Gamma", "Zeta"}},
			{"sort by status", "sort=status", []string{"Alpha backup", "Gamma", "Beta api", "Zeta", "Delta 100%_off", "Epsilon"}},
			{"sort by activity", "sort=lastActivityAt", []string{"Beta api", "Zeta", "Gamma", "Alpha backup", "Delta 100%_off", "Epsilon"}},
			{"sorted and filtered", "sort=lastActivityAt&tag=nightly", []string{"Zeta", "Alpha backup", "Epsilon"}},
		}
		// Sorted lists break ties by id; ids made in one millisecond sort
		// at random, so the expected orders are built from the ids.
		sorted := map[string][]string{
			"sort=name":   {"Alpha backup", "Beta api", "Delta 100%_off", "Epsilon", "Gamma", "Zeta"},
			"sort=status": append(append([]string{"Alpha backup", "Gamma"}, f.byID("Beta api", "Zeta")...), "Delta 100%_off", "Epsilon"),
			"sort=lastActivityAt": append(append(f.byID("Beta api", "Zeta"), "Gamma", "Alpha backup"),
				f.byID("Delta 100%_off", "Epsilon")...),
			"sort=lastActivityAt&tag=nightly": {"Zeta", "Alpha backup", "Epsilon"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				want, ok := sorted[c.query]
				if !ok {
					want = f.byID(c.want...)
				}
				assert.Equal(t, want, listNames(t, e, c.query))
			})
		}
	})
}

func TestJobFiltersRefuseBadInput(t *testing.T) {
	eachEnv(t, nil, func(t *testing.T, e *env) {
		p := e.project("P")
		e.job(p, "J")
		sorted := e.do("GET", "/api/v1/jobs?sort=name&limit=1", e.admin, "")
		require.Equal(t, 200, sorted.Code)
		e.job(p, "K")
		nameCursor := cursorOf(t, e.do("GET", "/api/v1/jobs?sort=name&limit=1", e.admin, ""))
		cases := []struct{ query, field string }{
			{"status=bogus", "status"},
			{"status=up,", "status"},
			{"status=UP", "status"},
			{"paused=yes", "paused"},
			{"paused=1", "paused"},
			{"sort=id", "sort"},
			{"sort=-name", "sort"},
			{"q=" + url.QueryEscape("a\nb"), "q"},
			{"q=" + strings.Repeat("x", 201), "q"},
			{"tag=" + strings.Repeat("x", 51), "tag"},
			{"sort=name&cursor=garbage", "cursor"},
			{"sort=name&cursor=n_zz_abc", "cursor"},
			{"sort=status&cursor=s_9_abc", "cursor"},
			{"sort=lastActivityAt&cursor=a_x_abc", "cursor"},
			{"sort=status&cursor=" + nameCursor, "cursor"},
			{"cursor=" + nameCursor, "cursor"}, // a sorted list's cursor is not an id
			{"sort=name&cursor=" + strings.Repeat("a", 701), "cursor"},
			{"sort=name&limit=0", "limit"},
		}
		for _, c := range cases {
			r := e.do("GET", "/api/v1/jobs?"+c.query, e.admin, "")
			assert.Equal(t, http.StatusBadRequest, r.Code, "?%s: %s", c.query, r.Body)
			if r.Code == http.StatusBadRequest {
				assert.True(t, strings.HasPrefix(r.Error(t), c.field+":"), "?%s: %q names %s", c.query, r.Error(t), c.field)
			}
		}
		r := e.do("GET", "/api/v1/projects?q="+url.QueryEscape("a\x01"), e.admin, "")
		assert.Equal(t, http.StatusBadRequest, r.Code)
		assert.Contains(t, r.Error(t), "q:")
	})
}

// cursorOf returns the cursor of a response's Link header.
func cursorOf(t *testing.T, r response) string {
	t.Helper()
	m := linkNext.FindStringSubmatch(r.Header.Get("Link"))
	require.NotNil(t, m, "Link header %q", r.Header.Get("Link"))
	u, err := url.Parse(m[1])
	require.NoError(t, err)
	return u.Query().Get("cursor")
}

// TestSortedFilteredPaging pages through sorted and filtered lists, with
// ties in every sort key, and checks that the pages add up to the whole
// list: nothing skipped, nothing twice.
func TestSortedFilteredPaging(t *testing.T) {
	eachEnv(t, nil, func(t *testing.T, e *env) {
		f := newFilterFixture(t, e)
		t0 := time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)
		statuses := []string{models.StatusUp, models.StatusDown, models.StatusLate, models.StatusNew}
		for i := 0; i < 16; i++ {
			id := e.mustCreate("/jobs", fmt.Sprintf(`{"name": "Dup %d", "projectId": %q, "url": "https://example.com/dup", "method": "GET", "schedule": "@hourly", "tags": ["db"]}`, i%3, f.p1))
			if st := statuses[i%4]; st != models.StatusNew {
				_, err := e.store.ChangeStatus(id, st, "test", t0)
				require.NoError(t, err)
			}
			if i%2 == 0 {
				at := t0.Add(time.Duration(i%3) * time.Minute).Add(123456789 * time.Nanosecond / 1000 * 1000)
				require.NoError(t, e.store.DB().Exec("UPDATE jobs SET last_activity_at = ? WHERE id = ?", at.UTC(), id).Error)
			}
		}
		for _, sort := range []string{"", "name", "status", "lastActivityAt"} {
			for _, filter := range []string{"", "status=up,down,late", "tag=db", "q=dup&projectId=" + f.p1, "paused=false&status=new,up"} {
				query := strings.Trim("sort="+sort+"&"+filter, "&")
				if sort == "" {
					query = filter
				}
				t.Run(query, func(t *testing.T) {
					whole := listNames(t, e, query)
					require.NotEmpty(t, whole)
					for _, limit := range []int{1, 3} {
						var got []string
						next := "/api/v1/jobs?" + query + fmt.Sprintf("&limit=%d", limit)
						for pages := 0; next != ""; pages++ {
							require.Less(t, pages, 100, "paging does not end")
							r := e.do("GET", next, e.admin, "")
							require.Equal(t, 200, r.Code, "%s: %s", next, r.Body)
							var jobs []struct{ Name string }
							r.JSON(t, &jobs)
							for _, j := range jobs {
								got = append(got, j.Name)
							}
							next = ""
							if r.Header.Get("Link") != "" {
								next = "/api/v1/jobs?" + query + fmt.Sprintf("&limit=%d&cursor=%s", limit, cursorOf(t, r))
							}
						}
						assert.Equal(t, whole, got, "limit %d", limit)
					}
				})
			}
		}
	})
}

func TestProjectQuery(t *testing.T) {
	eachEnv(t, nil, func(t *testing.T, e *env) {
		e.project("Web shop")
		e.project("Data pipeline")
		e.project("100% uptime")
		for q, want := range map[string][]string{
			"SHOP": {"Web shop"},
			"a":    {"Data pipeline"},
			"%":    {"100% uptime"},
			"":     {"Web shop", "Data pipeline", "100% uptime"},
			"none": {},
		} {
			r := e.do("GET", "/api/v1/projects?q="+url.QueryEscape(q), e.admin, "")
			require.Equal(t, 200, r.Code, "%s", r.Body)
			var ps []struct{ Name string }
			r.JSON(t, &ps)
			got := []string{}
			for _, p := range ps {
				got = append(got, p.Name)
			}
			assert.ElementsMatch(t, want, got, "q=%s", q)
		}
		r := e.do("GET", "/api/v1/projects?q=a&limit=1", e.admin, "")
		assert.Empty(t, r.Header.Get("Link"), "one match, no next page")
	})
}
