package checker

import "time"

// Metrics is what the engine tells the service's metrics (app.Metrics in
// production). Options.Metrics nil reports nothing.
type Metrics interface {
	// CheckDone is told of every HTTP check run, scheduled or triggered:
	// its result (models.RunSuccess …) and how long the check took.
	CheckDone(result string, took time.Duration)
	// WatchdogTick is told how long a heartbeat watchdog tick took.
	WatchdogTick(took time.Duration)
}

// noMetrics is the Metrics of an engine built without any.
type noMetrics struct{}

func (noMetrics) CheckDone(string, time.Duration) {}
func (noMetrics) WatchdogTick(time.Duration)      {}
