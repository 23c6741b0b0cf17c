package handlers

import (
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/gofiber/fiber/v2"
)

// scheduleCheck is the answer of GET /schedules/validate.
type scheduleCheck struct {
	Valid       bool        `json:"valid"`
	Error       *string     `json:"error"`
	NextRuns    []time.Time `json:"nextRuns"`
	Description string      `json:"description,omitempty"`
}

// validateSchedule previews a schedule: valid or why not, and the next five
// ticks in the given time zone.
func (a *API) validateSchedule(c *fiber.Ctx) error {
	s, err := models.ParseSchedule(c.Query("schedule"), c.Query("timezone"))
	if err != nil {
		msg := err.Error()
		return c.JSON(scheduleCheck{Valid: false, Error: &msg, NextRuns: []time.Time{}})
	}
	next := s.NextN(a.store.Now(), 5)
	for i := range next {
		next[i] = next[i].In(s.Location())
	}
	return c.JSON(scheduleCheck{Valid: true, NextRuns: next, Description: s.Describe()})
}
