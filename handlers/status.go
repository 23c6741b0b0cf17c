package handlers

import (
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"
)

// StatusOptions is what GET /status reports beside the store. app fills it:
// handlers do not depend on the checker or the ping writer.
type StatusOptions struct {
	Version    string
	StartedAt  time.Time
	InstanceID string
	// Engine reports the monitoring engine's state; nil when this process
	// runs no engine (the status then says running false).
	Engine func() (EngineStatus, error)
	// PingsStored counts the pings the ping writer stored since the
	// process started; nil counts 0.
	PingsStored func() int64
}

// EngineStatus is the monitoring engine's report of itself (app copies it
// from checker.Status).
type EngineStatus struct {
	Running             bool
	TickInterval        time.Duration
	LastTickAt          *time.Time // nil before the first tick
	NextTickAt          *time.Time
	JobsCheckedLastTick int
	MonitorsScheduled   int64 // HTTP checks scheduled plus heartbeat jobs watched
}

// statusView is the body of GET /status. The tick fields are null while no
// engine runs in this process.
type statusView struct {
	Running             bool           `json:"running"`
	Version             string         `json:"version"`
	StartedAt           time.Time      `json:"startedAt"`
	Database            string         `json:"database"`
	TickIntervalSeconds *float64       `json:"tickIntervalSeconds"`
	LastTickAt          *time.Time     `json:"lastTickAt"`
	NextTickAt          *time.Time     `json:"nextTickAt"`
	JobsCheckedLastTick *int           `json:"jobsCheckedLastTick"`
	MonitorsScheduled   int64          `json:"monitorsScheduled"`
	PingsStored         int64          `json:"pingsStored"`
	Outbox              outboxCounts   `json:"outbox"`
	Instance            statusInstance `json:"instance"`
}

type outboxCounts struct {
	Pending int64 `json:"pending"`
	Failed  int64 `json:"failed"`
}

// statusInstance names this process. There is one instance today, so it is
// always the leader; running several is a later issue.
type statusInstance struct {
	ID     string `json:"id"`
	Leader bool   `json:"leader"`
}

// getStatus serves GET /status: the engine, the ping writer and the outbox
// at a glance. It answers the object itself, not {"data": …}: it is one
// document about the service, like GET /jobs/{id} is about a job, and the
// shape the scheduler status of the Insight issue shows. It costs two
// index-only queries (monitor counts, outbox counts).
func (a *API) getStatus(c *fiber.Ctx) error {
	s := a.status
	out := statusView{
		Version:   s.Version,
		StartedAt: s.StartedAt.UTC(),
		Database:  string(a.store.Dialect()),
		Instance:  statusInstance{ID: s.InstanceID, Leader: true},
	}
	if s.Engine != nil {
		eng, err := s.Engine()
		if err != nil {
			return fmt.Errorf("status: %w", err)
		}
		if eng.Running {
			secs := eng.TickInterval.Seconds()
			jobs := eng.JobsCheckedLastTick
			out.Running = true
			out.TickIntervalSeconds = &secs
			out.LastTickAt, out.NextTickAt = eng.LastTickAt, eng.NextTickAt
			out.JobsCheckedLastTick = &jobs
			out.MonitorsScheduled = eng.MonitorsScheduled
		}
	}
	if s.PingsStored != nil {
		out.PingsStored = s.PingsStored()
	}
	pending, failed, err := a.store.OutboxCounts()
	if err != nil {
		return err
	}
	out.Outbox = outboxCounts{Pending: pending, Failed: failed}
	return c.JSON(out)
}
