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

// keyLocal is the Fiber local holding the authenticated *models.APIKey.
const keyLocal = "apikey"

// authenticator checks API keys and remembers when each was last recorded
// as used.
type authenticator struct {
	store   *models.Store
	log     *slog.Logger
	now     func() time.Time
	mu      sync.Mutex
	touched map[string]time.Time // key id → last lastUsedAt write
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
// key, and stores the key in the context for the permission check.
func (a *authenticator) authenticate(c *fiber.Ctx) error {
	presented := presentedKey(c)
	if presented == "" {
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
	a.touch(key)
	return c.Next()
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

// apiKey returns the authenticated key of the request.
func apiKey(c *fiber.Ctx) *models.APIKey {
	k, _ := c.Locals(keyLocal).(*models.APIKey)
	return k
}

// need returns a middleware that answers 403 unless the key holds perm.
func need(perm string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		k := apiKey(c)
		if k == nil || !k.Can(perm) {
			return fiber.NewError(fiber.StatusForbidden, "this API key lacks the "+perm+" permission")
		}
		return c.Next()
	}
}
