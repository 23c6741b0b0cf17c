package notifier

// Notification outcomes, as Metrics hears of them.
const (
	OutcomeSent   = "sent"   // delivered
	OutcomeRetry  = "retry"  // failed, will be tried again
	OutcomeFailed = "failed" // failed for good (permanent error, or given up)
)

// Metrics is what the worker tells the service's metrics (app.Metrics in
// production). WorkerOptions.Metrics nil reports nothing.
type Metrics interface {
	// NotificationDone is told of every delivery attempt's outcome
	// (OutcomeSent …) on a channel of kind (models.ChannelSlackWebhook …).
	NotificationDone(kind, outcome string)
}

// noMetrics is the Metrics of a worker built without any.
type noMetrics struct{}

func (noMetrics) NotificationDone(string, string) {}
