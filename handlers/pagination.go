package handlers

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"

	"github.com/cronpulse/cronpulse/models"
	"github.com/gofiber/fiber/v2"
)

// MaxPageSize is the largest page a list returns, and the default for the
// CronPulse lists (/projects, /jobs): a client written against the CronPulse
// document, which knows nothing of pages, gets everything up to this size.
const MaxPageSize = 1000

var cursorPattern = regexp.MustCompile(`^[0-9a-z]{1,64}$`)

// parsePage reads ?limit= and ?cursor=.
func parsePage(c *fiber.Ctx, def int) (models.Page, error) {
	p := models.Page{Limit: def, Cursor: c.Query("cursor")}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxPageSize {
			return p, fiber.NewError(fiber.StatusBadRequest, fmt.Sprintf("limit: must be a whole number from 1 to %d", MaxPageSize))
		}
		p.Limit = n
	}
	if p.Cursor != "" && !cursorPattern.MatchString(p.Cursor) {
		return p, fiber.NewError(fiber.StatusBadRequest, "cursor: not a cursor returned by this API")
	}
	return p, nil
}

// setNextLink adds a Link header pointing at the page after lastID, keeping
// the request's other query parameters. The CronPulse lists return bare
// arrays, so the cursor cannot travel in the body.
func setNextLink(c *fiber.Ctx, baseURL, lastID string, limit int) {
	q := url.Values{}
	c.Context().QueryArgs().VisitAll(func(k, v []byte) {
		q.Add(string(k), string(v))
	})
	q.Set("cursor", lastID)
	q.Set("limit", strconv.Itoa(limit))
	c.Set("Link", fmt.Sprintf("<%s%s?%s>; rel=\"next\"", baseURL, c.Path(), q.Encode()))
}
