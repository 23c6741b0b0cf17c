package app

import (
	"time"

	"github.com/cronpulse/cronpulse/checker"
	"github.com/cronpulse/cronpulse/handlers"
	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/notifier"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the service's own Prometheus metrics, served on /metrics:
// process and Go runtime, pings, ping batches, checks, watchdog ticks,
// flips, notifications, and (read from the store at scrape time) the
// outbox's depth and the jobs by status. Nothing here names a job. They live
// in a registry of their own (not the library's global one), so that each
// service, and each test, counts apart. A nil *Metrics counts nothing.
type Metrics struct {
	// Registry holds every collector below; /metrics serves it.
	Registry *prometheus.Registry

	pings         *prometheus.CounterVec
	pingBatch     prometheus.Histogram
	checks        *prometheus.CounterVec
	checkDuration prometheus.Histogram
	watchdogTick  prometheus.Histogram
	flips         *prometheus.CounterVec
	notifications *prometheus.CounterVec
}

// The components tell the metrics what they do through interfaces of their
// own.
var (
	_ handlers.PingMetrics = (*Metrics)(nil)
	_ checker.Metrics      = (*Metrics)(nil)
	_ notifier.Metrics     = (*Metrics)(nil)
)

// NewMetrics builds the metrics and their registry; the store's counts are
// read from store on every scrape.
func NewMetrics(store *models.Store) *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		pings: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cronpulse_pings_received_total",
			Help: "Pings stored, by kind (an exit-status ping counts as success or fail)."}, []string{"kind"}),
		pingBatch: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "cronpulse_ping_batch_size",
			Help:    "Pings committed together by the ping writer, per batch.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 10)}), // 1 … 512, the largest batch
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cronpulse_checks_total",
			Help: "HTTP checks run, scheduled or triggered, by result."}, []string{"result"}),
		checkDuration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "cronpulse_check_duration_seconds",
			Help:    "How long HTTP checks took, from the request to the end of the body.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}}),
		watchdogTick: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "cronpulse_watchdog_tick_duration_seconds",
			Help:    "How long heartbeat watchdog ticks took.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}}),
		flips: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cronpulse_flips_total",
			Help: "Alerting status changes written by this process, by the status flipped to."}, []string{"to"}),
		notifications: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cronpulse_notifications_total",
			Help: "Notification delivery attempts, by channel kind and outcome (sent, retry, failed)."}, []string{"kind", "outcome"}),
	}
	// Every label value known in advance starts at 0, so that rates and
	// alerts see the series before the first event.
	for _, k := range []string{models.PingSuccess, models.PingStart, models.PingFail, models.PingLog} {
		m.pings.WithLabelValues(k)
	}
	for _, r := range []string{models.RunSuccess, models.RunFailure, models.RunTimeout, models.RunError} {
		m.checks.WithLabelValues(r)
	}
	for _, to := range []string{models.StatusUp, models.StatusDown} {
		m.flips.WithLabelValues(to)
	}
	for _, k := range models.ChannelKinds {
		for _, o := range []string{notifier.OutcomeSent, notifier.OutcomeRetry, notifier.OutcomeFailed} {
			m.notifications.WithLabelValues(k, o)
		}
	}
	m.Registry.MustRegister(
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewGoCollector(),
		m.pings, m.pingBatch, m.checks, m.checkDuration, m.watchdogTick, m.flips, m.notifications,
		newStoreCollector(store),
	)
	return m
}

// PingReceived counts a stored ping (handlers.PingMetrics).
func (m *Metrics) PingReceived(kind string) {
	if m != nil {
		m.pings.WithLabelValues(kind).Inc()
	}
}

// PingBatch observes a ping writer batch (pingwriter.Options.OnBatch).
func (m *Metrics) PingBatch(pings int, _ time.Duration) {
	if m != nil {
		m.pingBatch.Observe(float64(pings))
	}
}

// CheckDone counts an HTTP check and observes its duration
// (checker.Metrics).
func (m *Metrics) CheckDone(result string, took time.Duration) {
	if m != nil {
		m.checks.WithLabelValues(result).Inc()
		m.checkDuration.Observe(took.Seconds())
	}
}

// WatchdogTick observes a watchdog tick's duration (checker.Metrics).
func (m *Metrics) WatchdogTick(took time.Duration) {
	if m != nil {
		m.watchdogTick.Observe(took.Seconds())
	}
}

// FlipTo counts a flip by the status it flipped to
// (models.FlipListener.FlipTo).
func (m *Metrics) FlipTo(status string) {
	if m != nil {
		m.flips.WithLabelValues(status).Inc()
	}
}

// NotificationDone counts a delivery's outcome (notifier.Metrics).
func (m *Metrics) NotificationDone(kind, outcome string) {
	if m != nil {
		m.notifications.WithLabelValues(kind, outcome).Inc()
	}
}

// FlipListener returns l (the notifier's listener, or nil) with the flip
// counter added: the store tells one listener of its flips.
func (m *Metrics) FlipListener(l *models.FlipListener) *models.FlipListener {
	if m == nil {
		return l
	}
	out := models.FlipListener{}
	if l != nil {
		out = *l
	}
	out.FlipTo = m.FlipTo
	return &out
}

// storeCollector reads the gauges that live in the database at scrape
// time, one GROUP BY query each: the outbox by state and the jobs by
// status. They count every instance's rows, so with several instances on
// one database they are the same on each.
type storeCollector struct {
	store        *models.Store
	outbox, jobs *prometheus.Desc
}

func newStoreCollector(store *models.Store) *storeCollector {
	return &storeCollector{
		store: store,
		outbox: prometheus.NewDesc("cronpulse_outbox_notifications",
			"Notifications in the outbox by state: pending (to send or retry) and failed (given up).", []string{"state"}, nil),
		jobs: prometheus.NewDesc("cronpulse_jobs", "Jobs by status.", []string{"status"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.outbox
	ch <- c.jobs
}

// Collect implements prometheus.Collector. A failed query is reported to
// the scrape (and logged by the handler); the other metrics are still
// served.
func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	if pending, failed, err := c.store.OutboxCounts(); err != nil {
		ch <- prometheus.NewInvalidMetric(c.outbox, err)
	} else {
		ch <- prometheus.MustNewConstMetric(c.outbox, prometheus.GaugeValue, float64(pending), models.NotifyPending)
		ch <- prometheus.MustNewConstMetric(c.outbox, prometheus.GaugeValue, float64(failed), models.NotifyFailed)
	}
	if counts, err := c.store.JobStatusCounts(""); err != nil {
		ch <- prometheus.NewInvalidMetric(c.jobs, err)
	} else {
		for status, n := range counts {
			ch <- prometheus.MustNewConstMetric(c.jobs, prometheus.GaugeValue, float64(n), status)
		}
	}
}
