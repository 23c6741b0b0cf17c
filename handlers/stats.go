package handlers

import (
	"github.com/cronpulse/cronpulse/models"
	"github.com/gofiber/fiber/v2"
)

// dataOf is the {"data": …} envelope of CronPulse's own single answers.
type dataOf[T any] struct {
	Data T `json:"data"`
}

// jobStats serves GET /jobs/:id/stats?period=&tz=: runs, success rate,
// durations, uptime and one dailyRuns entry per day, from the rollups.
func (a *API) jobStats(c *fiber.Ctx) error {
	period, err := models.ParseStatsPeriod(c.Query("period"))
	if err != nil {
		return err
	}
	st, err := a.store.JobStatsOf(c.Params("id"), period, c.Query("tz"))
	if err != nil {
		return err
	}
	return c.JSON(dataOf[*models.JobStats]{st})
}

// globalStats serves GET /stats?period=&projectId=: every job's, or one
// project's, with days in UTC.
func (a *API) globalStats(c *fiber.Ctx) error {
	period, err := models.ParseStatsPeriod(c.Query("period"))
	if err != nil {
		return err
	}
	st, err := a.store.GlobalStatsOf(period, c.Query("projectId"))
	if err != nil {
		return err
	}
	return c.JSON(dataOf[*models.GlobalStats]{st})
}
