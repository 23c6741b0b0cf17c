package handlers

import (
	"context"
	"log/slog"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/gofiber/fiber/v2"
)

// API serves /api/v1. Build it with NewAPI and mount it with Register.
type API struct {
	store   *models.Store
	baseURL string
	log     *slog.Logger
	auth    *authenticator
	limiter *rateLimiter
	hooks   JobHooks
	// channels sends test messages for POST /channels/{id}/test (nil: 503).
	channels ChannelTester
	version  string        // the release, in the OpenAPI document
	status   StatusOptions // what GET /status reports beside the store
}

// JobHooks lets the monitoring engine hear about changes made through the
// API (to reschedule at once) without handlers depending on it. Any field may
// be nil.
type JobHooks struct {
	Changed func(job *models.Job) // created, updated, paused or resumed
	Deleted func(id string)
	// Trigger runs a job's HTTP check now and returns the stored run.
	Trigger func(ctx context.Context, job *models.Job) (*models.CheckRun, error)
}

// APIOptions configures NewAPI.
type APIOptions struct {
	Store     *models.Store
	BaseURL   string
	Log       *slog.Logger
	RateLimit int              // requests per key per minute
	Now       func() time.Time // nil: time.Now
	Hooks     JobHooks
	// Channels sends channel test messages; nil answers 503.
	Channels ChannelTester
	Version  string // the release, shown in the OpenAPI document
	Status   StatusOptions
	// Sessions, when set, lets a dashboard session call the API with its
	// role's permissions (see authenticator.session).
	Sessions *Sessions
}

// NewAPI builds the API handlers.
func NewAPI(o APIOptions) *API {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	return &API{
		store:    o.Store,
		baseURL:  o.BaseURL,
		log:      o.Log,
		auth:     &authenticator{store: o.Store, log: o.Log, now: now, touched: map[string]time.Time{}, sessions: o.Sessions},
		limiter:  newRateLimiter(o.RateLimit, now),
		hooks:    o.Hooks,
		channels: o.Channels,
		version:  o.Version,
		status:   o.Status,
	}
}

// Route is one API route and the permission it needs; Routes is the table
// that both Register and the permission-matrix test walk.
type Route struct {
	Method     string
	Path       string
	Permission string
	handler    func(a *API) fiber.Handler
}

// Routes lists every /api/v1 route.
var Routes = []Route{
	{"GET", "/projects", models.PermReadProjects, func(a *API) fiber.Handler { return a.listProjects }},
	{"POST", "/projects", models.PermWriteProjects, func(a *API) fiber.Handler { return a.createProject }},
	{"GET", "/projects/:id", models.PermReadProjects, func(a *API) fiber.Handler { return a.getProject }},
	{"PUT", "/projects/:id", models.PermWriteProjects, func(a *API) fiber.Handler { return a.updateProject }},
	{"DELETE", "/projects/:id", models.PermWriteProjects, func(a *API) fiber.Handler { return a.deleteProject }},
	{"POST", "/projects/:id/badge-key", models.PermWriteProjects, func(a *API) fiber.Handler { return a.rotateBadgeKey }},
	{"GET", "/projects/:id/status-page", models.PermAll, func(a *API) fiber.Handler { return a.getStatusPage }},
	{"PUT", "/projects/:id/status-page", models.PermAll, func(a *API) fiber.Handler { return a.putStatusPage }},
	{"DELETE", "/projects/:id/status-page", models.PermAll, func(a *API) fiber.Handler { return a.deleteStatusPage }},

	{"GET", "/jobs", models.PermReadJobs, func(a *API) fiber.Handler { return a.listJobs }},
	{"POST", "/jobs", models.PermWriteJobs, func(a *API) fiber.Handler { return a.createJob }},
	{"GET", "/jobs/:id", models.PermReadJobs, func(a *API) fiber.Handler { return a.getJob }},
	{"PUT", "/jobs/:id", models.PermWriteJobs, func(a *API) fiber.Handler { return a.updateJob }},
	{"DELETE", "/jobs/:id", models.PermWriteJobs, func(a *API) fiber.Handler { return a.deleteJob }},
	{"POST", "/jobs/:id/trigger", models.PermWriteJobs, func(a *API) fiber.Handler { return a.trigger }},
	{"POST", "/jobs/:id/pause", models.PermWriteJobs, func(a *API) fiber.Handler { return a.setPaused(true) }},
	{"POST", "/jobs/:id/resume", models.PermWriteJobs, func(a *API) fiber.Handler { return a.setPaused(false) }},
	{"GET", "/jobs/:id/runs", models.PermReadJobs, func(a *API) fiber.Handler { return a.listRuns }},
	{"GET", "/jobs/:id/pings/:n/body", models.PermReadJobs, func(a *API) fiber.Handler { return a.pingBody }},
	{"GET", "/jobs/:id/flips", models.PermReadJobs, func(a *API) fiber.Handler { return a.listFlips }},
	{"GET", "/jobs/:id/stats", models.PermReadJobs, func(a *API) fiber.Handler { return a.jobStats }},
	{"GET", "/stats", models.PermReadJobs, func(a *API) fiber.Handler { return a.globalStats }},

	{"GET", "/schedules/validate", models.PermReadJobs, func(a *API) fiber.Handler { return a.validateSchedule }},
	{"GET", "/metrics", models.PermReadJobs, func(a *API) fiber.Handler { return a.jobMetrics }},

	// Insight: the service's status, and schedules inferred from pings.
	{"GET", "/status", models.PermReadJobs, func(a *API) fiber.Handler { return a.getStatus }},
	{"GET", "/jobs/:id/schedule-suggestion", models.PermReadJobs, func(a *API) fiber.Handler { return a.scheduleSuggestion }},
	{"POST", "/schedules/parse", models.PermReadJobs, func(a *API) fiber.Handler { return a.parseSchedule }},

	{"GET", "/channels", models.PermAll, func(a *API) fiber.Handler { return a.listChannels }},
	{"POST", "/channels", models.PermAll, func(a *API) fiber.Handler { return a.createChannel }},
	{"GET", "/channels/:id", models.PermAll, func(a *API) fiber.Handler { return a.getChannel }},
	{"PUT", "/channels/:id", models.PermAll, func(a *API) fiber.Handler { return a.updateChannel }},
	{"DELETE", "/channels/:id", models.PermAll, func(a *API) fiber.Handler { return a.deleteChannel }},
	{"POST", "/channels/:id/test", models.PermAll, func(a *API) fiber.Handler { return a.testChannel }},

	{"GET", "/api-keys", models.PermAll, func(a *API) fiber.Handler { return a.listAPIKeys }},
	{"POST", "/api-keys", models.PermAll, func(a *API) fiber.Handler { return a.createAPIKey }},
	{"DELETE", "/api-keys/:id", models.PermAll, func(a *API) fiber.Handler { return a.revokeAPIKey }},
}

// Register mounts the API on r (the /api/v1 group): body limit, then
// authentication, then the per-key rate limit, then each route's permission.
//
// GET /openapi.json comes first: it describes the API, holds no data, and
// is read by tools before they have a key.
func (a *API) Register(r fiber.Router) {
	r.Get("/openapi.json", a.openAPI())
	r.Use(limitBody, a.auth.authenticate, a.limiter.limit)
	for _, rt := range Routes {
		r.Add(rt.Method, rt.Path, need(rt.Permission), rt.handler(a))
		if rt.Method == fiber.MethodGet { // HEAD answers as GET does, without the body
			r.Add(fiber.MethodHead, rt.Path, need(rt.Permission), rt.handler(a))
		}
	}
	r.Use(func(c *fiber.Ctx) error {
		return fiber.NewError(fiber.StatusNotFound, "no such API route: "+c.Method()+" "+c.Path())
	})
}

// changed tells the engine that a job changed.
func (a *API) changed(j *models.Job) {
	if a.hooks.Changed != nil {
		a.hooks.Changed(j)
	}
}
