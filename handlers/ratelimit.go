package handlers

import (
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/gofiber/fiber/v2"
)

// rateLimiter allows each API key a number of requests per minute, counted
// in fixed one-minute windows. A fixed window is simple and cheap; its worst
// case (a burst at the end of one window and the start of the next) is two
// minutes' allowance in a short time, which is acceptable for an API limit.
type rateLimiter struct {
	perMinute int
	now       func() time.Time
	mu        sync.Mutex
	windows   map[string]*window
	lastSweep time.Time
}

type window struct {
	start time.Time
	count int
}

func newRateLimiter(perMinute int, now func() time.Time) *rateLimiter {
	return &rateLimiter{perMinute: perMinute, now: now, windows: map[string]*window{}}
}

// allow counts one request for key and reports whether it is within the
// limit, and if not, how long until the window resets.
func (r *rateLimiter) allow(key string) (bool, time.Duration) {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if now.Sub(r.lastSweep) > 2*time.Minute {
		for k, w := range r.windows {
			if now.Sub(w.start) >= time.Minute {
				delete(r.windows, k)
			}
		}
		r.lastSweep = now
	}
	w := r.windows[key]
	if w == nil || now.Sub(w.start) >= time.Minute {
		w = &window{start: now}
		r.windows[key] = w
	}
	if w.count >= r.perMinute {
		return false, w.start.Add(time.Minute).Sub(now)
	}
	w.count++
	return true, 0
}

// limit is the middleware: 429 with Retry-After (whole seconds, rounded up)
// once the key's allowance for the minute is spent.
func (r *rateLimiter) limit(c *fiber.Ctx) error {
	var id string
	switch p := callerOf(c).(type) {
	case *models.APIKey:
		id = p.ID
	case *models.User:
		id = "user:" + p.ID // a signed-in user's requests count together
	default:
		return c.Next()
	}
	ok, wait := r.allow(id)
	c.Set("X-RateLimit-Limit", strconv.Itoa(r.perMinute))
	if !ok {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		return fiber.NewError(fiber.StatusTooManyRequests, "rate limit exceeded: "+strconv.Itoa(r.perMinute)+" requests per minute per API key")
	}
	return c.Next()
}
