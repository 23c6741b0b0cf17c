package handlers

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/cronpulse/cronpulse/models"
	"github.com/gofiber/fiber/v2"
)

// MaxPageSize is the largest page a list returns, and the default for the
// CronPulse lists (/projects, /jobs): a client written against the CronPulse
// document, which knows nothing of pages, gets everything up to this size.
const MaxPageSize = 1000

var cursorPattern = regexp.MustCompile(`^[0-9a-z]{1,64}$`)

// parsePage reads ?limit= and ?cursor= (an id).
func parsePage(c *fiber.Ctx, def int) (models.Page, error) {
	p, err := parseRawPage(c, def)
	if err != nil {
		return p, err
	}
	if p.Cursor != "" && !cursorPattern.MatchString(p.Cursor) {
		return p, fiber.NewError(fiber.StatusBadRequest, "cursor: not a cursor returned by this API")
	}
	return p, nil
}

// parseRawPage reads ?limit= and takes ?cursor= as it is, for a list whose
// store checks its own cursors (a sorted job list: models.JobCursor).
func parseRawPage(c *fiber.Ctx, def int) (models.Page, error) {
	n, err := parseLimit(c, def)
	return models.Page{Limit: n, Cursor: strings.Clone(c.Query("cursor"))}, err
}

// setNextLink adds a Link header pointing at the page after cursor (the
// last item's id, or a sorted list's models.JobCursor), keeping the
// request's other query parameters. The CronPulse lists return bare
// arrays, so the cursor cannot travel in the body.
func setNextLink(c *fiber.Ctx, baseURL, cursor string, limit int) {
	q := url.Values{}
	c.Context().QueryArgs().VisitAll(func(k, v []byte) {
		q.Add(string(k), string(v))
	})
	q.Set("cursor", cursor)
	q.Set("limit", strconv.Itoa(limit))
	c.Set("Link", fmt.Sprintf("<%s%s?%s>; rel=\"next\"", baseURL, c.Path(), q.Encode()))
}
