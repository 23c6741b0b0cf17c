package handlers

import (
	"errors"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/nlschedule"
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
	return c.JSON(checkSchedule(c.Query("schedule"), c.Query("timezone"), a.store.Now()))
}

// checkSchedule is the preview of a schedule at now: valid or why not, its
// description and the next five ticks in its time zone. The validate
// endpoint answers it, and the dashboard's job page and form show it.
func checkSchedule(expr, tz string, now time.Time) scheduleCheck {
	s, err := models.ParseSchedule(expr, tz)
	if err != nil {
		msg := err.Error()
		return scheduleCheck{Valid: false, Error: &msg, NextRuns: []time.Time{}}
	}
	next := s.NextN(now, 5)
	for i := range next {
		next[i] = next[i].In(s.Location())
	}
	return scheduleCheck{Valid: true, NextRuns: next, Description: s.Describe()}
}

// scheduleSuggestion serves GET /jobs/:id/schedule-suggestion: the
// schedule and tolerance the job's newest success pings fit (see
// models.SuggestSchedule), answered as a bare object like GET /jobs/:id.
// Too few pings is a 404 saying so: there is no suggestion to show yet.
func (a *API) scheduleSuggestion(c *fiber.Ctx) error {
	j, err := a.store.Job(c.Params("id"))
	if err != nil {
		return err
	}
	pings, err := a.store.SuccessPingTimes(j.ID, models.SuggestionPings)
	if err != nil {
		return err
	}
	s, err := models.SuggestSchedule(pings, j.Timezone)
	if errors.Is(err, models.ErrTooFewPings) {
		return fiber.NewError(fiber.StatusNotFound, "no schedule suggestion for job "+j.ID+": "+err.Error())
	}
	if err != nil {
		return err
	}
	return c.JSON(s)
}

// parseRequest is the body of POST /schedules/parse.
type parseRequest struct {
	Text     string `json:"text"`
	Timezone string `json:"timezone"` // the zone when the text names none
}

// parsedSchedule is the answer of POST /schedules/parse: the schedule and
// timezone fields of a job, as the job takes them.
type parsedSchedule struct {
	Schedule struct {
		Type       string `json:"type"`
		Expression string `json:"expression"`
		Timezone   string `json:"timezone"`
	} `json:"schedule"`
	HumanReadable string  `json:"humanReadable"`
	Confidence    float64 `json:"confidence"`
	ParseMethod   string  `json:"parseMethod"`
}

// parseSchedule reads an English schedule ("every weekday at 9am Pacific")
// offline; text it cannot read is a 400 naming what it did not understand.
func (a *API) parseSchedule(c *fiber.Ctx) error {
	var req parseRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	r, err := nlschedule.Parse(req.Text, req.Timezone)
	if err != nil {
		return err
	}
	var out parsedSchedule
	out.Schedule.Type, out.Schedule.Expression, out.Schedule.Timezone = r.Type, r.Expression, r.Timezone
	out.HumanReadable, out.Confidence, out.ParseMethod = r.Description, r.Confidence, nlschedule.Method
	return c.JSON(out)
}
