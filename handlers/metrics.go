package handlers

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// MetricsOptions configures the /metrics endpoint.
type MetricsOptions struct {
	// Gatherer holds the service's metrics (app.Metrics' registry).
	Gatherer prometheus.Gatherer
	// Token (METRICS_TOKEN), when set, must come as Authorization: Bearer.
	Token string
	Log   *slog.Logger
}

// RegisterMetrics mounts /metrics: the service's own metrics in the
// Prometheus exposition format. Like Healthchecks' and Gatus' metrics it
// names no job (per-job series are on the API, GET /api/v1/metrics), so it
// may be left open; with a token it answers 401 to a request without it.
func RegisterMetrics(f *fiber.App, o MetricsOptions) {
	serve := exposition(o.Gatherer, o.Log)
	want := sha256.Sum256([]byte(o.Token))
	f.Get("/metrics", func(c *fiber.Ctx) error {
		if o.Token != "" {
			// Hashing both sides makes the comparison constant-time in the
			// token's length too.
			got := sha256.Sum256([]byte(bearer(c)))
			if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
				c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="metrics"`)
				return fiber.NewError(fiber.StatusUnauthorized, "missing or wrong metrics token: send Authorization: Bearer <METRICS_TOKEN>")
			}
		}
		return serve(c)
	})
}

// exposition serves g's metrics in the format the scraper asks for, with
// client_golang's own handler. A collector's failure (the database
// unreachable at scrape time) is logged and the rest is still served.
func exposition(g prometheus.Gatherer, log *slog.Logger) fiber.Handler {
	return adaptor.HTTPHandler(promhttp.HandlerFor(g, promhttp.HandlerOpts{
		ErrorLog:      promLogger{log},
		ErrorHandling: promhttp.ContinueOnError,
	}))
}

// promLogger adapts slog to promhttp's logger.
type promLogger struct{ log *slog.Logger }

func (l promLogger) Println(v ...any) {
	l.log.Error("metrics scrape", slog.String("error", fmt.Sprint(v...)))
}
