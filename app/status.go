package app

import (
	"time"

	"github.com/cronpulse/cronpulse/checker"
	"github.com/cronpulse/cronpulse/handlers"
	"github.com/cronpulse/cronpulse/models/pingwriter"
)

// statusOptions is what GET /api/v1/status reports beside the store: the
// version, the start time, the instance, the engine's state (copied from
// checker.Status, as handlers do not import the checker) and the ping
// writer's count.
func statusOptions(cfg *Config, d Deps, writer *pingwriter.Writer) handlers.StatusOptions {
	started := d.StartedAt
	if started.IsZero() {
		now := d.Now
		if now == nil {
			now = time.Now
		}
		started = now()
	}
	o := handlers.StatusOptions{
		Version:    Version,
		StartedAt:  started.UTC(),
		InstanceID: cfg.InstanceID,
		// pingsStored is the writer's Stats().Pings: the pings of every
		// batch it committed since this process started. A batch that
		// failed counts too (its clients were answered with an error);
		// that is rare enough not to warrant a second counter in the
		// writer.
		PingsStored: func() int64 { return writer.Stats().Pings },
	}
	if eng := d.Engine; eng != nil {
		o.Engine = func() (handlers.EngineStatus, error) {
			st, err := eng.Status()
			if err != nil {
				return handlers.EngineStatus{}, err
			}
			return engineStatus(st), nil
		}
	}
	return o
}

// engineStatus copies the checker's report into the handlers' type.
// monitorsScheduled counts the HTTP checks scheduled and the heartbeat
// jobs watched; a job that is both counts twice (it is two monitors).
func engineStatus(st checker.Status) handlers.EngineStatus {
	return handlers.EngineStatus{
		Running:             st.Running,
		TickInterval:        st.TickInterval,
		LastTickAt:          st.LastTickAt,
		NextTickAt:          st.NextTickAt,
		JobsCheckedLastTick: st.JobsCheckedLastTick,
		MonitorsScheduled:   st.ChecksScheduled + st.HeartbeatsWatched,
	}
}
