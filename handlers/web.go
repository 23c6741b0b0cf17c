package handlers

import (
	"github.com/cronpulse/cronpulse/views"
	"github.com/gofiber/fiber/v2"
)

// RegisterWeb mounts the dashboard pages.
func RegisterWeb(f *fiber.App) {
	index, err := views.Files.ReadFile("index.html")
	if err != nil {
		panic("views: index.html missing from the embedded files: " + err.Error()) // a build defect, not a runtime condition
	}
	f.Get("/", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
		return c.Send(index)
	})
}
