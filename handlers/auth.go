package handlers

import (
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/gofiber/fiber/v2"
)

// touchEvery is how often a key's lastUsedAt is written: recording every
// request would add a write to every read.
const touchEvery = time.Minute

// keyLocal is the Fiber local holding the authenticated *models.APIKey;
// callerLocal holds whoever was authenticated (a key or a session's
// user), as a caller.
const (
	keyLocal    = "apikey"
	callerLocal = "caller"
)

// caller is who makes an API request: an API key, or a dashboard user
// signed in with a session cookie, who holds their role's permissions
// (models.RolePermissions). Everything the API shows or allows depends on
// Can alone, so a session sees no more than a key with the same
// permissions would.
type caller interface {
	Can(perm string) bool
}

var (
	_ caller = (*models.APIKey)(nil)
	_ caller = (*models.User)(nil)
)

// authenticator checks API keys and remembers when each was last recorded
// as used.
type authenticator struct {
	store   *models.Store
	log     *slog.Logger
	now     func() time.Time
	mu      sync.Mutex
	touched map[string]time.Time // key id → last lastUsedAt write
	// sessions, when set, authenticates requests without a key by the
	// dashboard's session cookie.
	sessions *Sessions
}

// presentedKey returns the key from X-API-Key or Authorization: Bearer.
func presentedKey(c *fiber.Ctx) string {
	if k := c.Get("X-API-Key"); k != "" {
		return strings.TrimSpace(k)
	}
	return bearer(c)
}

// bearer returns the token of an Authorization: Bearer header, or "".
func bearer(c *fiber.Ctx) string {
	auth := c.Get(fiber.HeaderAuthorization)
	if len(auth) > 7 && strings.EqualFold(auth[:7], "bearer ") {
		return strings.TrimSpace(auth[7:])
	}
	return ""
}

// authenticate answers 401 unless the request carries a valid, unrevoked
// key, or (without a key) a dashboard session, and stores the caller in
// the context for the permission check. A key wins over a cookie.
func (a *authenticator) authenticate(c *fiber.Ctx) error {
	presented := presentedKey(c)
	if presented == "" {
		if a.sessions != nil {
			if ok, err := a.session(c); err != nil || ok {
				return err
			}
		}
		return fiber.NewError(fiber.StatusUnauthorized, "missing API key: send it in the X-API-Key header")
	}
	prefix := models.KeyPrefix(presented)
	if prefix == "" {
		return fiber.NewError(fiber.StatusUnauthorized, "invalid API key")
	}
	key, err := a.store.APIKeyByPrefix(prefix)
	switch {
	case models.IsNotFound(err):
		return fiber.NewError(fiber.StatusUnauthorized, "invalid API key")
	case err != nil:
		return err
	case !key.Matches(presented):
		return fiber.NewError(fiber.StatusUnauthorized, "invalid API key")
	case key.RevokedAt != nil:
		return fiber.NewError(fiber.StatusUnauthorized, "API key has been revoked")
	}
	c.Locals(keyLocal, key)
	c.Locals(callerLocal, key)
	a.touch(key)
	return c.Next()
}

// session authenticates c by its session cookie: ok is false when there
// is no valid session (the caller answers 401). An unsafe method must
// carry the session's CSRF token in X-CSRF-Token (403 otherwise): the
// cookie travels with requests other sites make the browser send, the
// token does not.
func (a *authenticator) session(c *fiber.Ctx) (ok bool, err error) {
	sess, u, err := a.sessions.current(c)
	if err != nil || u == nil {
		return false, err
	}
	if !safeMethod(c.Method()) && !tokensEqual(c.Get(csrfHeader), sess.CSRFToken) {
		return true, fiber.NewError(fiber.StatusForbidden, "missing or wrong "+csrfHeader+": a session's "+c.Method()+" requests must carry its CSRF token")
	}
	c.Locals(callerLocal, u)
	return true, c.Next()
}

// touch records lastUsedAt at most once per touchEvery per key. The write is
// a single indexed UPDATE done off the request path.
func (a *authenticator) touch(key *models.APIKey) {
	now := a.now()
	a.mu.Lock()
	last, seen := a.touched[key.ID]
	due := !seen || now.Sub(last) >= touchEvery
	if due {
		a.touched[key.ID] = now
	}
	a.mu.Unlock()
	if !due {
		return
	}
	go func() {
		if err := a.store.TouchAPIKey(key.ID, now); err != nil {
			a.log.Warn("record api key use", slog.String("key", key.Prefix), slog.Any("error", err))
		}
	}()
}

// apiKey returns the authenticated key of the request (nil for a
// session).
func apiKey(c *fiber.Ctx) *models.APIKey {
	k, _ := c.Locals(keyLocal).(*models.APIKey)
	return k
}

// callerOf returns who was authenticated, or nil.
func callerOf(c *fiber.Ctx) caller {
	p, _ := c.Locals(callerLocal).(caller)
	return p
}

// can reports whether the request's caller holds perm.
func can(c *fiber.Ctx, perm string) bool {
	p := callerOf(c)
	return p != nil && p.Can(perm)
}

// need returns a middleware that answers 403 unless the caller holds perm.
func need(perm string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if can(c, perm) {
			return c.Next()
		}
		if u, ok := callerOf(c).(*models.User); ok {
			return fiber.NewError(fiber.StatusForbidden, "the "+u.Role+" role lacks the "+perm+" permission")
		}
		return fiber.NewError(fiber.StatusForbidden, "this API key lacks the "+perm+" permission")
	}
}
