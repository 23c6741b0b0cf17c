package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/cronpulse/cronpulse/checker"
	"github.com/cronpulse/cronpulse/handlers"
	"github.com/cronpulse/cronpulse/migrations"
	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/pingwriter"
	"github.com/cronpulse/cronpulse/notifier"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/gofiber/fiber/v2/middleware/requestid"
)

// Version is the release, shown in the User-Agent of checks.
var Version = "0.1.0"

// ServerBodyLimit is the largest request body the server reads at all. The
// API refuses more than 64 KiB itself (with a JSON 413); pings accept more
// and store it cut to PING_BODY_LIMIT.
const ServerBodyLimit = 4 << 20

// Deps are what the HTTP application is built from.
type Deps struct {
	Store *models.Store
	Log   *slog.Logger
	Now   func() time.Time // nil: time.Now
	Hooks handlers.JobHooks
	// PingWriter stores pings. Nil: New starts one (NewPingWriter) and
	// closes it when the Fiber app shuts down; a writer passed in is the
	// caller's to close.
	PingWriter *pingwriter.Writer
	// Engine is the running checker, reported by GET /api/v1/status; nil
	// (tests without an engine) reports running false.
	Engine *checker.Engine
	// StartedAt is when the service started; zero means when New runs.
	StartedAt time.Time
	// Metrics are served on /metrics and counted by /ping and the ping
	// writer New starts. Nil: New builds its own (NewMetrics).
	Metrics *Metrics
}

// NewPingWriter starts the ping writer of store as configured
// (PING_HISTORY).
func NewPingWriter(cfg *Config, store *models.Store, log *slog.Logger) *pingwriter.Writer {
	return newPingWriter(cfg, store, log, nil)
}

// newPingWriter is NewPingWriter observed by m's batch histogram.
func newPingWriter(cfg *Config, store *models.Store, log *slog.Logger, m *Metrics) *pingwriter.Writer {
	o := pingwriter.Options{Log: log, History: cfg.PingHistory}
	if m != nil {
		o.OnBatch = m.PingBatch
	}
	return pingwriter.New(store, o)
}

// New builds the Fiber application without listening, so tests can drive it
// with app.Test.
func New(cfg *Config, d Deps) *fiber.App {
	f := fiber.New(fiber.Config{
		AppName:               "CronPulse",
		ErrorHandler:          handlers.ErrorHandler(d.Log),
		BodyLimit:             ServerBodyLimit,
		DisableStartupMessage: true,
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          30 * time.Second,
		IdleTimeout:           120 * time.Second,
	})
	f.Use(recover.New())
	f.Use(requestid.New(requestid.Config{Header: "X-Request-Id"}))

	f.Get("/healthz", handlers.Healthz)
	f.Get("/readyz", handlers.Readyz(d.Store))
	metrics := d.Metrics
	if metrics == nil {
		metrics = NewMetrics(d.Store)
	}
	handlers.RegisterMetrics(f, handlers.MetricsOptions{Gatherer: metrics.Registry, Token: cfg.MetricsToken, Log: d.Log})

	writer := d.PingWriter
	if writer == nil {
		writer = newPingWriter(cfg, d.Store, d.Log, metrics)
		f.Hooks().OnShutdown(func() error {
			writer.Close()
			return nil
		})
	}
	sessions := handlers.NewSessions(handlers.SessionOptions{
		Store:  d.Store,
		Log:    d.Log,
		TTL:    cfg.SessionTTL,
		Secure: strings.HasPrefix(cfg.BaseURL, "https://"),
	})
	channels := notifier.NewDispatcher(NotifierConfig(cfg, d.Now))
	api := handlers.NewAPI(handlers.APIOptions{
		Store:     d.Store,
		BaseURL:   cfg.BaseURL,
		Log:       d.Log,
		RateLimit: cfg.APIRateLimit,
		Now:       d.Now,
		Hooks:     d.Hooks,
		Channels:  channels,
		Status:    statusOptions(cfg, d, writer),
		Version:   Version,
		Sessions:  sessions,
	})
	api.Register(f.Group("/api/v1"))
	handlers.RegisterPing(f, handlers.PingOptions{
		Store:     d.Store,
		Log:       d.Log,
		Now:       d.Now,
		BodyLimit: cfg.PingBodyLimit,
		RateLimit: cfg.PingRateLimit,
		Writer:    writer,
		Metrics:   metrics,
	})
	handlers.RegisterBadges(f, handlers.BadgeOptions{Store: d.Store, Now: d.Now})
	handlers.RegisterStatusPages(f, handlers.StatusPageOptions{Store: d.Store, Now: d.Now})
	// The dashboard comes last: its error pages answer whatever no route
	// before it did.
	handlers.NewWeb(handlers.WebOptions{Store: d.Store, Sessions: sessions, Log: d.Log, Now: d.Now, Hooks: d.Hooks,
		BaseURL: cfg.BaseURL, Channels: channels}).Register(f)
	return f
}

// Service is a running CronPulse: its database, store and HTTP application.
type Service struct {
	Config *Config
	Log    *slog.Logger
	Store  *models.Store
}

// Open connects to the configured database and applies pending migrations.
func Open(cfg *Config, log *slog.Logger) (*Service, error) {
	db, dialect, err := models.Open(cfg.DatabaseURL, log)
	if err != nil {
		return nil, err
	}
	if _, err := migrations.Apply(db, log); err != nil {
		_ = models.Close(db) // the migration error is the one to report
		return nil, err
	}
	return &Service{Config: cfg, Log: log, Store: models.NewStore(db, dialect, nil)}, nil
}

// Close releases the database.
func (s *Service) Close() error { return models.Close(s.Store.DB()) }

// Run serves HTTP until ctx is cancelled, then shuts down: stop accepting
// requests, let in-flight ones finish (bounded by SHUTDOWN_TIMEOUT).
func (s *Service) Run(ctx context.Context) error {
	started := time.Now()
	notifyStore, closeNotifyStore, err := s.openNotifierStore()
	if err != nil {
		return err
	}
	defer closeNotifyStore()
	metrics := NewMetrics(s.Store)
	eng, err := checker.New(checker.Options{
		Store:          s.Store,
		Log:            s.Log,
		Concurrency:    s.Config.CheckConcurrency,
		PerHost:        s.Config.CheckPerHost,
		AllowPrivate:   s.Config.CheckAllowPriv,
		CheckHistory:   s.Config.CheckHistory,
		PingHistory:    s.Config.PingHistory,
		StatsRetention: s.Config.StatsRetention,
		UserAgent:      "CronPulse/" + Version,
		Metrics:        metrics,
	})
	if err != nil {
		return err
	}
	if err := eng.Start(ctx); err != nil {
		return fmt.Errorf("start engine: %w", err)
	}
	// The notifier starts after the engine and stops after it, so that
	// flips written while the engine winds down are still sent (or left in
	// the outbox for the next start).
	notify := notifier.NewWorker(notifier.WorkerOptions{
		Store:        notifyStore,
		Dispatcher:   notifier.NewDispatcher(NotifierConfig(s.Config, nil)),
		Log:          s.Log,
		PollInterval: s.Config.NotifyPollInterval,
		Concurrency:  s.Config.NotifyConcurrency,
		RetryBase:    s.Config.NotifyRetryBase,
		Metrics:      metrics,
	})
	s.Store.SetFlipListener(metrics.FlipListener(notify.Listener()))
	notify.Start(context.Background())
	pings := newPingWriter(s.Config, s.Store, s.Log, metrics)
	f := New(s.Config, Deps{Store: s.Store, Log: s.Log, PingWriter: pings, Engine: eng, StartedAt: started, Metrics: metrics, Hooks: handlers.JobHooks{
		Changed: eng.JobChanged,
		Deleted: eng.JobDeleted,
		Trigger: eng.Trigger,
	}})
	errc := make(chan error, 1)
	go func() { errc <- f.Listen(s.Config.ListenAddr) }()
	s.Log.Info("cronpulse listening",
		slog.String("addr", s.Config.ListenAddr),
		slog.String("database", string(s.Store.Dialect())),
		slog.String("base_url", s.Config.BaseURL))
	select {
	case err := <-errc:
		pings.Close()
		return fmt.Errorf("listen on %s: %w", s.Config.ListenAddr, err)
	case <-ctx.Done():
	}
	s.Log.Info("shutting down")
	// Stop taking requests first, then commit the pings already queued (the
	// writer answers them before it stops), then let the engine finish
	// in-flight checks, so nothing the API accepted is dropped half-way.
	// The database closes after Run returns (Service.Close).
	if err := f.ShutdownWithTimeout(s.Config.ShutdownWait); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		s.Log.Warn("http shutdown", slog.Any("error", err))
	}
	pings.Close()
	engErr := eng.Stop()
	stopCtx, cancel := context.WithTimeout(context.Background(), s.Config.ShutdownWait)
	defer cancel()
	if err := notify.Stop(stopCtx); err != nil {
		s.Log.Warn("notifier shutdown: undelivered notifications stay in the outbox", slog.Any("error", err))
	}
	s.Store.SetFlipListener(nil)
	return engErr
}

// NotifierConfig is the senders' configuration: SMTP, Slack's API, links.
func NotifierConfig(cfg *Config, now func() time.Time) notifier.Config {
	return notifier.Config{
		BaseURL:     cfg.BaseURL,
		SlackAPIURL: cfg.SlackAPIURL,
		UserAgent:   "CronPulse/" + Version,
		Now:         now,
		SMTP: notifier.SMTPConfig{
			Host:     cfg.SMTPHost,
			Port:     cfg.SMTPPort,
			Username: cfg.SMTPUsername,
			Password: cfg.SMTPPassword,
			From:     cfg.SMTPFrom,
			TLS:      cfg.SMTPTLS,
		},
	}
}
