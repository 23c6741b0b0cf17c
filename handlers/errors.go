// Package handlers holds the Fiber handlers: the JSON API under /api/v1, the
// ping endpoint, the dashboard, and the health probes.
package handlers

import (
	"errors"
	"log/slog"
	"strings"

	"github.com/cronpulse/cronpulse/models"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// ErrorHandler is the one place errors become responses. Client mistakes
// (fiber errors, validation errors, not found, conflict) keep their message;
// anything else is logged with the request id and answered with a generic
// message, so internal text never reaches the client.
func ErrorHandler(log *slog.Logger) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		code, msg := classify(err)
		id := requestID(c)
		if id == "" {
			// Errors raised before any middleware ran (a body over the
			// server's limit) get an id here, so every response has one.
			id = uuid.NewString()
			c.Set(fiber.HeaderXRequestID, id)
		}
		if code >= 500 {
			log.Error("request failed",
				slog.String("request_id", id),
				slog.String("method", c.Method()),
				slog.String("path", c.Path()),
				slog.Int("status", code),
				slog.Any("error", err))
		}
		if isPingPath(c.Path()) {
			c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
			return c.Status(code).SendString(strings.ToLower(msg))
		}
		return c.Status(code).JSON(fiber.Map{"error": msg})
	}
}

// classify maps an error to a status code and a message safe to show.
func classify(err error) (int, string) {
	var fe *fiber.Error
	var ve *models.ValidationError
	switch {
	case errors.As(err, &ve):
		return fiber.StatusBadRequest, ve.Error()
	case errors.Is(err, models.ErrNotFound):
		return fiber.StatusNotFound, notFoundMessage(err)
	case errors.Is(err, models.ErrConflict):
		return fiber.StatusConflict, "conflict: the record already exists"
	case errors.As(err, &fe):
		if fe.Code == fiber.StatusRequestEntityTooLarge {
			return fe.Code, "request body too large (the limit is 64 KiB)"
		}
		if fe.Code >= 500 && fe.Code != fiber.StatusServiceUnavailable {
			return fe.Code, "internal server error"
		}
		return fe.Code, fe.Message
	case models.IsUnavailable(err):
		return fiber.StatusServiceUnavailable, "database unavailable, try again shortly"
	default:
		return fiber.StatusInternalServerError, "internal server error"
	}
}

// notFoundMessage turns "job abc: not found" into "job abc not found".
func notFoundMessage(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "+models.ErrNotFound.Error()); i > 0 {
		what := msg[:i]
		if j := strings.LastIndex(what, ": "); j >= 0 {
			what = what[j+2:]
		}
		return what + " not found"
	}
	return "not found"
}

func isPingPath(p string) bool {
	return p == "/ping" || strings.HasPrefix(p, "/ping/")
}

// requestID returns the id the requestid middleware gave this request.
func requestID(c *fiber.Ctx) string {
	if id, ok := c.Locals("requestid").(string); ok {
		return id
	}
	return ""
}
