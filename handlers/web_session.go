package handlers

import (
	"log/slog"
	"strings"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/gofiber/fiber/v2"
)

// Cookies of the dashboard.
const (
	// SessionCookie holds a signed-in browser's session token.
	SessionCookie = "cronpulse_session"
	// preSessionCookie holds the CSRF token of the forms shown before
	// sign-in (login, setup), which the form sends back (double submit).
	preSessionCookie = "cronpulse_csrf"
)

// Fiber locals of a request's session, set by Sessions.current.
const (
	sessionLocal = "web.session"
	userLocal    = "web.user"
	sessionRead  = "web.session.read" // current has looked, found or not
)

// Sessions signs dashboard users in and out and finds the session of a
// request. The dashboard and the API share one: a browser signed in to
// the dashboard may call /api/v1 with its cookie (and X-CSRF-Token for
// unsafe methods), with its role's permissions.
type Sessions struct {
	store  *models.Store
	log    *slog.Logger
	ttl    time.Duration
	secure bool
}

// SessionOptions configures NewSessions.
type SessionOptions struct {
	Store *models.Store
	Log   *slog.Logger
	TTL   time.Duration // a session ends after this long unused (SESSION_TTL)
	// Secure marks the cookies Secure (BASE_URL is https).
	Secure bool
}

// NewSessions builds the session manager.
func NewSessions(o SessionOptions) *Sessions {
	return &Sessions{store: o.Store, log: o.Log, ttl: o.TTL, secure: o.Secure}
}

// current returns the request's session and its user, or nils when it has
// none (no cookie, an unknown or expired token). It reads the database
// once per request. A session whose expiry slid gets its cookie again, so
// that the browser keeps it as long as the server does.
func (s *Sessions) current(c *fiber.Ctx) (*models.Session, *models.User, error) {
	if c.Locals(sessionRead) != nil {
		sess, _ := c.Locals(sessionLocal).(*models.Session)
		u, _ := c.Locals(userLocal).(*models.User)
		return sess, u, nil
	}
	token := c.Cookies(SessionCookie)
	if token == "" || len(token) > 100 {
		c.Locals(sessionRead, true)
		return nil, nil, nil
	}
	token = strings.Clone(token)
	sess, u, err := s.store.SessionUser(token, s.ttl)
	switch {
	case models.IsNotFound(err):
		c.Locals(sessionRead, true)
		return nil, nil, nil
	case err != nil:
		return nil, nil, err
	}
	if sess.Slid {
		s.setCookie(c, token, sess.ExpiresAt)
	}
	c.Locals(sessionRead, true)
	c.Locals(sessionLocal, sess)
	c.Locals(userLocal, u)
	return sess, u, nil
}

// start signs u in: the session the browser had (if any) is deleted and a
// new one made (a new token at every sign-in, so a token planted before
// sign-in is worthless after it), and expired sessions are pruned.
func (s *Sessions) start(c *fiber.Ctx, u *models.User) (*models.Session, error) {
	if old := c.Cookies(SessionCookie); old != "" {
		if err := s.store.DeleteSession(strings.Clone(old)); err != nil {
			return nil, err
		}
	}
	if n, err := s.store.PruneSessions(); err != nil {
		s.log.Warn("prune expired sessions", slog.Any("error", err))
	} else if n > 0 {
		s.log.Info("pruned expired sessions", slog.Int64("count", n))
	}
	sess, token, err := s.store.CreateSession(u.ID, s.ttl)
	if err != nil {
		return nil, err
	}
	s.setCookie(c, token, sess.ExpiresAt)
	c.Locals(sessionRead, true)
	c.Locals(sessionLocal, sess)
	c.Locals(userLocal, u)
	return sess, nil
}

// end signs the request's session out: its row is deleted and the cookie
// cleared.
func (s *Sessions) end(c *fiber.Ctx) error {
	if token := c.Cookies(SessionCookie); token != "" {
		if err := s.store.DeleteSession(strings.Clone(token)); err != nil {
			return err
		}
	}
	s.setCookie(c, "", time.Unix(0, 0))
	c.Locals(sessionLocal, nil)
	c.Locals(userLocal, nil)
	return nil
}

// setCookie sets the session cookie: HttpOnly, SameSite=Lax (sent on
// top-level navigation from other sites, never on their POSTs or
// fetches), Secure when BASE_URL is https.
func (s *Sessions) setCookie(c *fiber.Ctx, value string, expires time.Time) {
	c.Cookie(&fiber.Cookie{
		Name:     SessionCookie,
		Value:    value,
		Path:     "/",
		Expires:  expires,
		HTTPOnly: true,
		Secure:   s.secure,
		SameSite: fiber.CookieSameSiteLaxMode,
	})
}
