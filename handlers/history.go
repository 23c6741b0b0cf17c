package handlers

import (
	"context"
	"strconv"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/gofiber/fiber/v2"
)

// periods are the history windows the API accepts.
var periods = map[string]time.Duration{
	"24h": 24 * time.Hour,
	"7d":  7 * 24 * time.Hour,
	"30d": 30 * 24 * time.Hour,
}

// parsePeriod reads ?period=; "" means no bound.
func parsePeriod(c *fiber.Ctx, now time.Time) (time.Time, error) {
	p := c.Query("period")
	if p == "" {
		return time.Time{}, nil
	}
	d, ok := periods[p]
	if !ok {
		return time.Time{}, fiber.NewError(fiber.StatusBadRequest, "period: must be 24h, 7d or 30d")
	}
	return now.Add(-d), nil
}

// parseLimit reads ?limit= (1..MaxPageSize, default def).
func parseLimit(c *fiber.Ctx, def int) (int, error) {
	v := c.Query("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > MaxPageSize {
		return 0, fiber.NewError(fiber.StatusBadRequest, "limit: must be a whole number from 1 to 1000")
	}
	return n, nil
}

// listPage is the shape of CronPulse's own lists: the items and the cursor
// of the next page (null on the last one).
type listPage[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"nextCursor"`
}

// listRuns serves GET /jobs/:id/runs: check runs and pings, newest first.
func (a *API) listRuns(c *fiber.Ctx) error {
	job, err := a.store.Job(c.Params("id"))
	if err != nil {
		return err
	}
	since, err := parsePeriod(c, a.store.Now())
	if err != nil {
		return err
	}
	limit, err := parseLimit(c, 100)
	if err != nil {
		return err
	}
	typ := c.Query("type")
	if typ != "" && typ != "check" && typ != "ping" {
		return fiber.NewError(fiber.StatusBadRequest, "type: must be check or ping")
	}
	items, err := a.store.Runs(models.RunFilter{
		JobID: job.ID, Type: typ, Status: c.Query("status"), Since: since,
		Cursor: c.Query("cursor"), Limit: limit + 1,
	})
	if err != nil {
		return err
	}
	out := listPage[models.RunItem]{Data: items}
	if len(items) > limit {
		out.Data = items[:limit]
		next := items[limit-1].Cursor()
		out.NextCursor = &next
	}
	return c.JSON(out)
}

// pingBody serves GET /jobs/:id/pings/:n/body as text.
func (a *API) pingBody(c *fiber.Ctx) error {
	n, err := strconv.ParseInt(c.Params("n"), 10, 64)
	if err != nil || n < 1 {
		return fiber.NewError(fiber.StatusBadRequest, "n: must be a ping number (1, 2, …)")
	}
	body, err := a.store.PingBody(c.Params("id"), n)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
	return c.SendString(body)
}

// listFlips serves GET /jobs/:id/flips, newest first.
func (a *API) listFlips(c *fiber.Ctx) error {
	job, err := a.store.Job(c.Params("id"))
	if err != nil {
		return err
	}
	limit, err := parseLimit(c, 100)
	if err != nil {
		return err
	}
	var before int64
	if cur := c.Query("cursor"); cur != "" {
		if before, err = strconv.ParseInt(cur, 10, 64); err != nil || before < 1 {
			return fiber.NewError(fiber.StatusBadRequest, "cursor: not a cursor returned by this API")
		}
	}
	flips, err := a.store.Flips(job.ID, before, limit+1)
	if err != nil {
		return err
	}
	out := listPage[flipView]{}
	if len(flips) > limit {
		flips = flips[:limit]
		next := strconv.FormatInt(flips[limit-1].ID, 10)
		out.NextCursor = &next
	}
	ids := make([]int64, len(flips))
	for i := range flips {
		ids[i] = flips[i].ID
	}
	notes, err := a.store.FlipNotifications(ids) // one query for the page
	if err != nil {
		return err
	}
	out.Data = make([]flipView, len(flips))
	for i := range flips {
		out.Data[i] = flipView{Flip: flips[i], Notifications: orEmpty(notes[flips[i].ID])}
	}
	return c.JSON(out)
}

// flipView is a flip with the delivery state of its notifications.
type flipView struct {
	models.Flip
	Notifications []models.FlipNotification `json:"notifications"`
}

// setPaused serves POST /jobs/:id/pause and /resume.
func (a *API) setPaused(paused bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		j, err := a.store.UpdateJob(c.Params("id"), &models.JobRequest{Paused: &paused})
		if err != nil {
			return err
		}
		a.changed(j)
		return c.JSON(a.view(c, j))
	}
}

// trigger serves POST /jobs/:id/trigger: run the HTTP check now and return
// the run.
func (a *API) trigger(c *fiber.Ctx) error {
	j, err := a.store.Job(c.Params("id"))
	if err != nil {
		return err
	}
	if !j.IsCheck() {
		return fiber.NewError(fiber.StatusConflict, "job has no url: only HTTP checks can be triggered")
	}
	if a.hooks.Trigger == nil {
		return fiber.NewError(fiber.StatusServiceUnavailable, "the checker is not running")
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), time.Duration(j.Timeout+5)*time.Second)
	defer cancel()
	run, err := a.hooks.Trigger(ctx, j)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(run)
}
