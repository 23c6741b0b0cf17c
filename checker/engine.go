// Package checker is the monitoring engine: it schedules HTTP checks with
// gocron, runs them, watches heartbeat deadlines, and moves jobs between
// statuses, writing a Flip for every alerting change.
package checker

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/jonboulle/clockwork"
)

// Options configures the engine.
type Options struct {
	Store Store // a *models.Store in production
	Log   *slog.Logger
	// Clock drives the scheduler and every "now" of the engine; tests pass a
	// clockwork.FakeClock. nil means the real clock.
	Clock clockwork.Clock

	Concurrency  int  // HTTP checks in flight at once
	PerHost      int  // HTTP checks in flight per host
	AllowPrivate bool // may checks reach loopback and private addresses
	CheckHistory int  // check runs kept per job
	PingHistory  int  // pings kept per job
	// StatsRetention is how long stats rollups are kept (STATS_RETENTION);
	// 0 means DefaultStatsRetention.
	StatsRetention time.Duration
	UserAgent      string
	// Metrics hears of checks and watchdog ticks; nil reports nothing.
	Metrics Metrics
}

// Engine runs the scheduler. Create it with New, then Start and Stop.
type Engine struct {
	opt   Options
	store Store
	log   *slog.Logger
	clock clockwork.Clock
	sched gocron.Scheduler
	check checkState // HTTP checks (checks.go)
	// running is true between a successful Start and Stop (Status).
	running atomic.Bool
}

// New builds an engine; nothing runs until Start.
func New(o Options) (*Engine, error) {
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	if o.Metrics == nil {
		o.Metrics = noMetrics{}
	}
	s, err := gocron.NewScheduler(
		gocron.WithClock(o.Clock),
		gocron.WithLocation(time.UTC),
		gocron.WithLogger(gocronLogger{o.Log}),
	)
	if err != nil {
		return nil, fmt.Errorf("create scheduler: %w", err)
	}
	return &Engine{opt: o, store: o.Store, log: o.Log, clock: o.Clock, sched: s}, nil
}

// now reads the engine's clock in UTC at the precision the databases keep.
func (e *Engine) now() time.Time {
	return e.clock.Now().UTC().Truncate(time.Microsecond)
}

// Start registers the engine's work with the scheduler and starts it.
func (e *Engine) Start(ctx context.Context) error {
	if err := e.startWatchdog(ctx); err != nil {
		return err
	}
	if err := e.startChecks(ctx); err != nil {
		return err
	}
	if err := e.startStats(); err != nil {
		return err
	}
	e.sched.Start()
	e.running.Store(true)
	return nil
}

// Stop stops scheduling new work and waits for running work to finish.
func (e *Engine) Stop() error {
	e.running.Store(false)
	if err := e.sched.Shutdown(); err != nil {
		return fmt.Errorf("stop scheduler: %w", err)
	}
	e.stopChecks()
	return nil
}

// gocronLogger adapts slog to gocron's logger interface. gocron's messages
// already start with "gocron: "; its Info messages (scheduler created,
// started) are lifecycle chatter, logged at Debug.
type gocronLogger struct{ log *slog.Logger }

func (l gocronLogger) Debug(msg string, args ...any) { l.log.Debug(msg, args...) }
func (l gocronLogger) Info(msg string, args ...any)  { l.log.Debug(msg, args...) }
func (l gocronLogger) Warn(msg string, args ...any)  { l.log.Warn(msg, args...) }
func (l gocronLogger) Error(msg string, args ...any) { l.log.Error(msg, args...) }
