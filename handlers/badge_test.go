package handlers_test

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cronpulse/cronpulse/handlers"
	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// badgeEnv is an app on a fake clock, with a helper to move it past the
// badge cache.
type badgeEnv struct {
	*env
	mu  sync.Mutex
	now time.Time
}

func eachBadgeEnv(t *testing.T, fn func(t *testing.T, e *badgeEnv)) {
	for _, db := range modelstest.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			db.SkipIfMissing(t)
			b := &badgeEnv{now: time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)}
			b.env = newEnvAt(t, db, nil, b.clock)
			fn(t, b)
		})
	}
}

func (b *badgeEnv) clock() time.Time { b.mu.Lock(); defer b.mu.Unlock(); return b.now }

func (b *badgeEnv) advance(d time.Duration) { b.mu.Lock(); b.now = b.now.Add(d); b.mu.Unlock() }

// expire moves the clock past the badge cache.
func (b *badgeEnv) expire() { b.advance(handlers.BadgeTTL + time.Second) }

// badgeKey returns the project's badge key as the API shows it.
func (b *badgeEnv) badgeKey(projectID string) string {
	b.t.Helper()
	r := b.do("GET", "/api/v1/projects/"+projectID, b.admin, "")
	require.Equal(b.t, 200, r.Code)
	var p struct{ BadgeKey string }
	r.JSON(b.t, &p)
	require.Regexp(b.t, `^[0-9A-Za-z]{16,}$`, p.BadgeKey)
	return p.BadgeKey
}

func (b *badgeEnv) setStatus(jobID, status string) {
	b.t.Helper()
	_, err := b.store.ChangeStatus(jobID, status, "test", b.clock())
	require.NoError(b.t, err)
}

// svgBadge is what a test reads of a badge's SVG.
type svgBadge struct {
	Title string `xml:"title"`
	Rects []struct {
		Fill string `xml:"fill,attr"`
	} `xml:"g>rect"`
	Texts []string `xml:"g>text"`
}

// svg fetches a badge, requires a 200 SVG that parses as XML and returns
// its label, message and message colour.
func (b *badgeEnv) svg(path string) (label, message, color string) {
	b.t.Helper()
	r := b.do("GET", path, "", "")
	require.Equal(b.t, http.StatusOK, r.Code, "GET %s: %s", path, r.Body)
	assert.Equal(b.t, "image/svg+xml; charset=utf-8", r.Header.Get("Content-Type"))
	assert.Equal(b.t, "max-age=5", r.Header.Get("Cache-Control"))
	dec := xml.NewDecoder(bytes.NewReader(r.Body))
	for { // the whole document is well-formed
		_, err := dec.Token()
		if err != nil {
			require.Equal(b.t, "EOF", err.Error(), "SVG: %s", r.Body)
			break
		}
	}
	var s svgBadge
	require.NoError(b.t, xml.Unmarshal(r.Body, &s), "SVG: %s", r.Body)
	require.Len(b.t, s.Texts, 4, "label and message, each with its shadow")
	require.Len(b.t, s.Rects, 3)
	assert.Equal(b.t, s.Texts[1]+": "+s.Texts[3], s.Title)
	return s.Texts[1], s.Texts[3], s.Rects[1].Fill
}

// shields fetches a badge's .json and requires Shields' endpoint schema.
func (b *badgeEnv) shields(path string) (label, message, color string) {
	b.t.Helper()
	r := b.do("GET", path, "", "")
	require.Equal(b.t, http.StatusOK, r.Code, "GET %s: %s", path, r.Body)
	assert.Equal(b.t, "max-age=5", r.Header.Get("Cache-Control"))
	var m map[string]any
	r.JSON(b.t, &m)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	assert.ElementsMatch(b.t, []string{"schemaVersion", "label", "message", "color"}, keys)
	assert.Equal(b.t, float64(1), m["schemaVersion"])
	for _, k := range []string{"label", "message", "color"} {
		require.IsType(b.t, "", m[k], k)
	}
	return m["label"].(string), m["message"].(string), m["color"].(string)
}

func TestBadgeFollowsJobStatus(t *testing.T) {
	eachBadgeEnv(t, func(t *testing.T, e *badgeEnv) {
		p := e.project("P")
		id := e.job(p, "Nightly backup")
		key := e.badgeKey(p)
		cases := []struct{ status, hex, named string }{
			{models.StatusNew, "#9f9f9f", "lightgrey"},
			{models.StatusUp, "#4c1", "brightgreen"},
			{models.StatusLate, "#fe7d37", "orange"},
			{models.StatusDown, "#e05d44", "red"},
			{models.StatusPaused, "#9f9f9f", "lightgrey"},
		}
		for _, c := range cases {
			t.Run(c.status, func(t *testing.T) {
				e.setStatus(id, c.status)
				e.expire()
				label, msg, color := e.svg("/badge/" + key + "/nightly-backup.svg")
				assert.Equal(t, []string{"Nightly backup", c.status, c.hex}, []string{label, msg, color})
				label, msg, color = e.shields("/badge/" + key + "/nightly-backup.json")
				assert.Equal(t, []string{"Nightly backup", c.status, c.named}, []string{label, msg, color})
			})
		}
		r := e.do("HEAD", "/badge/"+key+"/nightly-backup.svg", "", "")
		assert.Equal(t, 200, r.Code)
	})
}

func TestTagAndProjectBadgesShowTheWorst(t *testing.T) {
	eachBadgeEnv(t, func(t *testing.T, e *badgeEnv) {
		p := e.project("Shop")
		key := e.badgeKey(p)
		empty := e.badgeKey(e.project("Empty"))
		tagged := func(name, tags string) string {
			return e.mustCreate("/jobs", `{"name":`+quote(name)+`,"projectId":`+quote(p)+
				`,"url":"https://example.com/","method":"GET","schedule":"@hourly","tags":`+tags+`}`)
		}
		a, b, c := tagged("A", `["db"]`), tagged("B", `["db","v1.2"]`), tagged("C", `[]`)
		e.setStatus(a, models.StatusUp)
		e.setStatus(b, models.StatusLate)
		e.setStatus(c, models.StatusDown)

		check := func(path, label, message string) {
			t.Helper()
			l, m, _ := e.svg(path + ".svg")
			assert.Equal(t, []string{label, message}, []string{l, m}, path+".svg")
			l, m, _ = e.shields(path + ".json")
			assert.Equal(t, []string{label, message}, []string{l, m}, path+".json")
		}
		check("/badge/"+key+"/tag/db", "db", "late")
		check("/badge/"+key+"/tag/v1.2", "v1.2", "late")
		check("/badge/"+key, "Shop", "down")
		check("/badge/"+empty, "Empty", "new")

		e.setStatus(c, models.StatusPaused)
		e.setStatus(b, models.StatusNew)
		e.expire()
		check("/badge/"+key+"/tag/db", "db", "up")
		check("/badge/"+key, "Shop", "up")
		e.setStatus(a, models.StatusPaused)
		e.expire()
		check("/badge/"+key+"/tag/db", "db", "new")
		check("/badge/"+key+"/tag/v1.2", "v1.2", "new")

		for _, path := range []string{
			"/badge/" + key + "/tag/nosuch.svg",          // no job has the tag
			"/badge/" + key + "/nosuch.svg",              // no job has the slug
			"/badge/" + key + "/tag/db.png",              // not a badge format
			"/badge/" + key + "/a.svg/more",              // no such route
			"/badge/" + strings.Repeat("x", 22) + ".svg", // no project has the key
			"/badge/" + strings.Repeat("x", 22) + "/a.json",
		} {
			r := e.do("GET", path, "", "")
			assert.Equal(t, http.StatusNotFound, r.Code, path)
		}
	})
}

func TestBadgeEscapesNames(t *testing.T) {
	eachBadgeEnv(t, func(t *testing.T, e *badgeEnv) {
		name := `<b>&"'</svg> ünïcode`
		p := e.project(name)
		label, _, _ := e.svg("/badge/" + e.badgeKey(p) + ".svg")
		assert.Equal(t, name, label)
		r := e.do("GET", "/badge/"+e.badgeKey(p)+".svg", "", "")
		assert.NotContains(t, string(r.Body), "<b>")
	})
}

func TestRotateBadgeKey(t *testing.T) {
	eachBadgeEnv(t, func(t *testing.T, e *badgeEnv) {
		p := e.project("P")
		e.job(p, "J")
		old := e.badgeKey(p)
		e.svg("/badge/" + old + "/j.svg")

		r := e.do("POST", "/api/v1/projects/"+p+"/badge-key", e.key("w", models.PermWriteProjects), "")
		require.Equal(t, 200, r.Code, "%s", r.Body)
		var got struct {
			ID, Name, BadgeKey string
			Jobs               []map[string]any
		}
		r.JSON(t, &got)
		assert.Equal(t, p, got.ID)
		assert.Equal(t, "P", got.Name)
		assert.Len(t, got.Jobs, 1)
		require.NotEqual(t, old, got.BadgeKey)
		assert.Equal(t, got.BadgeKey, e.badgeKey(p), "the new key is stored")

		e.svg("/badge/" + got.BadgeKey + "/j.svg")
		e.expire() // the old answer may be served from the cache until then
		for _, path := range []string{"/badge/" + old + "/j.svg", "/badge/" + old + ".json"} {
			assert.Equal(t, http.StatusNotFound, e.do("GET", path, "", "").Code, path)
		}

		r = e.do("POST", "/api/v1/projects/c000000000nosuchthing000/badge-key", e.admin, "")
		assert.Equal(t, http.StatusNotFound, r.Code)
		r.Error(t)
		r = e.do("GET", "/api/v1/projects", e.key("r", models.PermReadProjects), "")
		var list []map[string]any
		r.JSON(t, &list)
		require.Len(t, list, 1)
		assert.Equal(t, got.BadgeKey, list[0]["badgeKey"], "read:projects sees the badge key")
	})
}

func TestBadgeCache(t *testing.T) {
	eachBadgeEnv(t, func(t *testing.T, e *badgeEnv) {
		p := e.project("P")
		id := e.job(p, "J")
		key := e.badgeKey(p)
		e.setStatus(id, models.StatusUp)
		_, msg, _ := e.svg("/badge/" + key + "/j.svg")
		require.Equal(t, "up", msg)
		_, msg, _ = e.shields("/badge/" + key + "/j.json")
		require.Equal(t, "up", msg)

		e.setStatus(id, models.StatusDown)
		_, msg, _ = e.svg("/badge/" + key + "/j.svg")
		assert.Equal(t, "up", msg, "cached")
		e.advance(handlers.BadgeTTL - time.Second)
		_, msg, _ = e.shields("/badge/" + key + "/j.json")
		assert.Equal(t, "up", msg, "still cached")
		e.advance(time.Second)
		_, msg, _ = e.svg("/badge/" + key + "/j.svg")
		assert.Equal(t, "down", msg, "the cache time has passed")
		_, msg, _ = e.shields("/badge/" + key + "/j.json")
		assert.Equal(t, "down", msg)
	})
}
