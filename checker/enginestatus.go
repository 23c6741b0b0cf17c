package checker

import (
	"fmt"
	"time"
)

// Status is what the engine knows of itself, for GET /api/v1/status. The
// "tick" is the HTTP-check dispatcher's: the gocron job that reads the due
// checks every TickInterval and starts them (checks.go). The heartbeat
// watchdog runs beside it every WatchdogInterval.
type Status struct {
	Running      bool          // between Start and Stop
	TickInterval time.Duration // dispatchEvery
	// LastTickAt is when the last tick started, on the engine's clock; nil
	// before the first. NextTickAt is when gocron will run the next one;
	// nil when the engine is not running.
	LastTickAt *time.Time
	NextTickAt *time.Time
	// JobsCheckedLastTick is how many checks the last tick started.
	JobsCheckedLastTick int
	// ChecksScheduled and HeartbeatsWatched count the monitors in the
	// database (models.Store.MonitorCounts): unpaused HTTP checks with a
	// next tick, and heartbeat jobs with an alert deadline.
	ChecksScheduled   int64
	HeartbeatsWatched int64
}

// Status reports the engine's state. It costs one query (the monitor
// counts) and a round trip to gocron's scheduler loop.
func (e *Engine) Status() (Status, error) {
	c := &e.check
	st := Status{Running: e.running.Load(), TickInterval: dispatchEvery}
	c.tickMu.Lock()
	if !c.lastTick.IsZero() {
		last := c.lastTick
		st.LastTickAt = &last
	}
	st.JobsCheckedLastTick = c.lastTickJobs
	c.tickMu.Unlock()
	if st.Running && c.dispatcher != nil {
		// gocron reschedules a job before running it, so while a tick runs
		// NextRun is already the one after.
		if next, err := c.dispatcher.NextRun(); err == nil && !next.IsZero() {
			next = next.UTC()
			st.NextTickAt = &next
		}
	}
	checks, heartbeats, err := e.store.MonitorCounts()
	if err != nil {
		return st, fmt.Errorf("engine status: %w", err)
	}
	st.ChecksScheduled, st.HeartbeatsWatched = checks, heartbeats
	return st, nil
}
