package handlers

import (
	"log/slog"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/gofiber/fiber/v2"
)

// PingOptions configures the /ping endpoint.
type PingOptions struct {
	Store     *models.Store
	Log       *slog.Logger
	Now       func() time.Time
	BodyLimit int // bytes of body kept
	RateLimit int // pings per job per minute
}

// RegisterPing mounts /ping. (Filled in by the heartbeat work.)
func RegisterPing(f *fiber.App, o PingOptions) {}
