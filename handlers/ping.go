package handlers

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"
	"github.com/google/uuid"
)

// PingOptions configures the /ping endpoint.
type PingOptions struct {
	Store     *models.Store
	Log       *slog.Logger
	Now       func() time.Time
	BodyLimit int // bytes of body kept
	RateLimit int // pings per job per minute
	// Timeout bounds how long a ping waits for its commit before it is
	// answered 503 (so the client retries); 0 means 10 seconds.
	Timeout time.Duration
	// Writer stores the pings (models/pingwriter's Writer). The app
	// builds it and closes it once HTTP has stopped.
	Writer PingWriter
	// Metrics hears of every ping accepted; nil reports nothing.
	Metrics PingMetrics
}

// PingMetrics is what /ping tells the service's metrics (app.Metrics).
type PingMetrics interface {
	// PingReceived is told of every ping stored, by its kind as stored:
	// an exit-status ping is a success (0) or a fail (anything else).
	PingReceived(kind string)
}

// noPingMetrics is the PingMetrics of an endpoint built without any.
type noPingMetrics struct{}

func (noPingMetrics) PingReceived(string) {}

// PingWriter stores a ping for the job with the given ping token and
// returns it as stored, once it is committed (see models/pingwriter).
type PingWriter interface {
	Write(ctx context.Context, token string, p models.Ping) (models.Ping, error)
}

// pinger serves /ping. Its writer commits pings in groups.
type pinger struct {
	store     *models.Store
	log       *slog.Logger
	now       func() time.Time
	writer    PingWriter
	limiter   *rateLimiter
	bodyLimit int
	limitText string
	timeout   time.Duration
	metrics   PingMetrics
}

// RegisterPing mounts the Healthchecks.io-compatible ping endpoint (SPEC §4)
// on /ping for GET, HEAD and POST.
func RegisterPing(f *fiber.App, o PingOptions) {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Metrics == nil {
		o.Metrics = noPingMetrics{}
	}
	p := &pinger{
		store:     o.Store,
		log:       o.Log,
		now:       now,
		writer:    o.Writer,
		limiter:   newRateLimiter(o.RateLimit, now),
		bodyLimit: o.BodyLimit,
		limitText: strconv.Itoa(o.BodyLimit),
		timeout:   o.Timeout,
		metrics:   o.Metrics,
	}
	for _, path := range []string{"/ping", "/ping/*"} {
		f.Get(path, p.handle) // Fiber answers HEAD through the GET route
		f.Post(path, p.handle)
	}
}

// pingTarget is a parsed ping URL.
type pingTarget struct {
	token      string // the job's ping token, or "" for the slug form
	pingKey    string
	slug       string
	kind       string
	exitStatus *int
}

// answer writes a ping response: plain text, always with Ping-Body-Limit.
func (p *pinger) answer(c *fiber.Ctx, code int, body string) error {
	c.Set("Ping-Body-Limit", p.limitText)
	c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
	return c.Status(code).SendString(body)
}

// handle serves every /ping URL form.
func (p *pinger) handle(c *fiber.Ctx) error {
	t, code, msg := parsePingPath(c.Params("*"))
	if code != 0 {
		return p.answer(c, code, msg)
	}
	rid := c.Query("rid")
	if rid != "" {
		u, err := uuid.Parse(rid)
		if err != nil || len(rid) != 36 {
			return p.answer(c, fiber.StatusBadRequest, "invalid rid: must be a UUID")
		}
		rid = u.String()
	}
	limitKey := t.token
	if limitKey == "" {
		limitKey = t.pingKey + "/" + t.slug
	}
	if ok, wait := p.limiter.allow(limitKey); !ok {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(wait/time.Second)+1))
		return p.answer(c, fiber.StatusTooManyRequests, "rate limited: too many pings for this job")
	}
	created := false
	if t.token == "" {
		var err error
		if t.token, created, err = p.slugToken(c, t); err != nil {
			return p.fail(c, err)
		}
	}
	ping := models.Ping{
		Kind:       t.kind,
		ExitStatus: t.exitStatus,
		RID:        rid,
		Body:       models.CleanPingBody(c.Body(), p.bodyLimit),
		BodySize:   len(c.Body()),
		Method:     utils.CopyString(c.Method()),
		RemoteAddr: c.IP(),
		UserAgent:  string(c.Request().Header.UserAgent()),
		CreatedAt:  p.now().UTC().Truncate(time.Microsecond),
	}
	ctx, cancel := context.WithTimeout(context.Background(), p.timeout)
	defer cancel()
	if _, err := p.writer.Write(ctx, t.token, ping); err != nil {
		return p.fail(c, err)
	}
	p.metrics.PingReceived(ping.Kind)
	if created {
		return p.answer(c, fiber.StatusCreated, "Created")
	}
	return p.answer(c, fiber.StatusOK, "OK")
}

// slugToken resolves the slug form to the job's ping token; with
// ?create=1 a missing job is created, and created says so.
func (p *pinger) slugToken(c *fiber.Ctx, t pingTarget) (token string, created bool, err error) {
	if create := c.Query("create"); create == "1" || create == "true" {
		j, created, err := p.store.EnsureJobBySlug(t.pingKey, t.slug)
		if err != nil {
			return "", false, err
		}
		if created {
			p.log.Info("job created by ping", slog.String("job", j.ID), slog.String("slug", t.slug))
		}
		return j.PingToken, created, nil
	}
	j, err := p.store.JobBySlug(t.pingKey, t.slug)
	if err != nil {
		return "", false, err
	}
	return j.PingToken, false, nil
}

// fail answers a ping that could not be handled: 404 for an unknown job,
// 409 for an ambiguous slug, 400 for bad input, 503 otherwise (the ping is
// not stored, so the client should retry).
func (p *pinger) fail(c *fiber.Ctx, err error) error {
	var ve *models.ValidationError
	switch {
	case errors.Is(err, models.ErrNotFound):
		return p.answer(c, fiber.StatusNotFound, "not found")
	case errors.Is(err, models.ErrAmbiguous):
		return p.answer(c, fiber.StatusConflict, "ambiguous slug: several jobs of this project have it")
	case errors.As(err, &ve):
		return p.answer(c, fiber.StatusBadRequest, "invalid "+ve.Error())
	default:
		p.log.Error("ping not stored", slog.String("request_id", requestID(c)), slog.String("path", c.Path()), slog.Any("error", err))
		return p.answer(c, fiber.StatusServiceUnavailable, "ping not stored, try again")
	}
}

// parsePingPath parses what follows /ping/: {uuid}[/action] or
// {pingKey}/{slug}[/action], where action is start, fail, log or an exit
// status 0-255. A trailing slash is allowed. On error it returns the
// status code and body to answer.
func parsePingPath(rest string) (pingTarget, int, string) {
	rest = strings.TrimSuffix(rest, "/")
	parts := strings.Split(rest, "/")
	if rest == "" || len(parts) > 3 {
		return pingTarget{}, fiber.StatusNotFound, "not found"
	}
	var t pingTarget
	var action []string
	if u, err := uuid.Parse(parts[0]); err == nil && len(parts[0]) == 36 {
		t.token = u.String()
		action = parts[1:]
		if len(action) > 1 {
			return t, fiber.StatusNotFound, "not found"
		}
	} else {
		if len(parts) == 1 {
			return t, fiber.StatusBadRequest, "invalid ping token: must be a UUID"
		}
		t.pingKey, t.slug = parts[0], parts[1]
		if t.pingKey == "" || t.slug == "" {
			return t, fiber.StatusNotFound, "not found"
		}
		action = parts[2:]
	}
	t.kind = models.PingSuccess
	if len(action) == 0 {
		return t, 0, ""
	}
	switch a := action[0]; a {
	case "start":
		t.kind = models.PingStart
	case "fail":
		t.kind = models.PingFail
	case "log":
		t.kind = models.PingLog
	case "":
		return t, fiber.StatusNotFound, "not found"
	default:
		if strings.Trim(a, "-0123456789") != "" {
			return t, fiber.StatusNotFound, "not found"
		}
		n, err := strconv.Atoi(a)
		if err != nil || n < 0 || n > 255 || len(a) > 3 {
			return t, fiber.StatusBadRequest, "invalid exit status: must be a number from 0 to 255"
		}
		t.exitStatus = &n
		if n != 0 {
			t.kind = models.PingFail
		}
	}
	return t, 0, ""
}
