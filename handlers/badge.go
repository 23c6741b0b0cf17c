package handlers

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/gofiber/fiber/v2"
)

// BadgeTTL is how long a badge is cached, in memory and by clients
// (Cache-Control: max-age): a badge in a busy README costs at most one
// query per TTL, and shows a change at most two TTLs late.
const BadgeTTL = 5 * time.Second

// badgeCacheSize bounds the badges kept in memory.
const badgeCacheSize = 10_000

// BadgeOptions configures the status badges.
type BadgeOptions struct {
	Store *models.Store
	Now   func() time.Time // nil: time.Now
}

// badges serves /badge. Badges need no API key: the badge key in the URL
// is the whole credential, and it lets one see statuses, nothing more.
type badges struct {
	store *models.Store
	cache *ttlCache[models.BadgeState]
}

// RegisterBadges mounts the status badges: /badge/{badgeKey}.svg (the
// project), /badge/{badgeKey}/{slug}.svg (a job) and
// /badge/{badgeKey}/tag/{tag}.svg (the jobs with a tag); .json instead of
// .svg answers in Shields.io's endpoint format.
func RegisterBadges(f *fiber.App, o BadgeOptions) {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	b := &badges{store: o.Store, cache: newBadgeCache(now, BadgeTTL, badgeCacheSize)}
	f.Get("/badge/:key/tag/:file", b.serve(models.BadgeTag))
	f.Get("/badge/:key/:file", b.serve(models.BadgeJob))
	f.Get("/badge/:file", b.serve(models.BadgeProject))
}

var errNoBadge = fiber.NewError(fiber.StatusNotFound, "badge not found")

func (b *badges) serve(kind string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		key, name := c.Params("key"), ""
		file, format, ok := badgeFile(c.Params("file"))
		if !ok {
			return errNoBadge
		}
		if kind == models.BadgeProject {
			key = file
		} else {
			name = file
		}
		// Copied: the cache keeps them past the handler.
		key, name = strings.Clone(key), strings.Clone(name)
		st, err := b.cache.get(kind+"\x00"+key+"\x00"+name, func() (models.BadgeState, error) {
			return b.store.Badge(key, kind, name)
		})
		if models.IsNotFound(err) {
			return errNoBadge
		}
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderCacheControl, "max-age="+strconv.Itoa(int(BadgeTTL/time.Second)))
		look := badgeLooks[st.Status]
		if format == "json" {
			return c.JSON(fiber.Map{"schemaVersion": 1, "label": st.Label, "message": st.Status, "color": look.named})
		}
		c.Set(fiber.HeaderContentType, "image/svg+xml; charset=utf-8")
		return c.SendString(badgeSVG(st.Label, st.Status, look.hex))
	}
}

// badgeFile splits "name.svg" or "name.json" (percent-decoded).
func badgeFile(file string) (name, format string, ok bool) {
	i := strings.LastIndexByte(file, '.')
	if i <= 0 {
		return "", "", false
	}
	name, format = file[:i], file[i+1:]
	if format != "svg" && format != "json" {
		return "", "", false
	}
	name, err := url.PathUnescape(name)
	return name, format, err == nil && name != ""
}

// badgeLook is a status's colour: hex in the SVG, a Shields colour name in
// the JSON.
type badgeLook struct{ hex, named string }

var badgeLooks = map[string]badgeLook{
	models.StatusUp:     {"#4c1", "brightgreen"},
	models.StatusLate:   {"#fe7d37", "orange"},
	models.StatusDown:   {"#e05d44", "red"},
	models.StatusNew:    {"#9f9f9f", "lightgrey"},
	models.StatusPaused: {"#9f9f9f", "lightgrey"},
}

// ttlCache keeps each value (a badge's state, a status page) for ttl, and
// loads each at most once at a time: requests that miss while it loads
// wait for that load.
type ttlCache[T any] struct {
	mu      sync.Mutex
	now     func() time.Time
	ttl     time.Duration
	max     int
	entries map[string]*ttlEntry[T]
}

// ttlEntry is one cached value. Its fields are written before ready is
// closed and only read after.
type ttlEntry[T any] struct {
	ready   chan struct{}
	state   T
	err     error
	expires time.Time
}

var errBadgeLoad = errors.New("cache load did not finish")

func newTTLCache[T any](now func() time.Time, ttl time.Duration, max int) *ttlCache[T] {
	return &ttlCache[T]{now: now, ttl: ttl, max: max, entries: map[string]*ttlEntry[T]{}}
}

func newBadgeCache(now func() time.Time, ttl time.Duration, max int) *ttlCache[models.BadgeState] {
	return newTTLCache[models.BadgeState](now, ttl, max)
}

// get returns the cached value under key, or loads it. Unknown keys are
// cached too (a stream of requests for one is one query per ttl); other
// errors are not.
func (c *ttlCache[T]) get(key string, load func() (T, error)) (T, error) {
	c.mu.Lock()
	if e := c.entries[key]; e != nil {
		select {
		case <-e.ready:
			if c.now().Before(e.expires) {
				c.mu.Unlock()
				return e.state, e.err
			}
		default:
			c.mu.Unlock()
			<-e.ready
			return e.state, e.err
		}
	}
	if len(c.entries) >= c.max {
		c.evict()
	}
	e := &ttlEntry[T]{ready: make(chan struct{}), err: errBadgeLoad}
	c.entries[key] = e
	c.mu.Unlock()

	defer close(e.ready) // also if load panics: waiters then see errBadgeLoad
	e.state, e.err = load()
	if e.err == nil || models.IsNotFound(e.err) {
		e.expires = c.now().Add(c.ttl)
	}
	return e.state, e.err
}

// evict drops the expired entries, and all finished ones if that is not
// enough room. The caller holds mu.
func (c *ttlCache[T]) evict() {
	now := c.now()
	for k, e := range c.entries {
		select {
		case <-e.ready:
			if !now.Before(e.expires) {
				delete(c.entries, k)
			}
		default:
		}
	}
	if len(c.entries) < c.max {
		return
	}
	for k, e := range c.entries {
		select {
		case <-e.ready:
			delete(c.entries, k)
		default:
		}
	}
}
