package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cronpulse/cronpulse/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParseScheduleEndpoint: POST /schedules/parse answers the exact
// fields, its description is the one GET /schedules/validate gives, and
// the schedule it returns, posted as a job, is accepted.
func TestParseScheduleEndpoint(t *testing.T) {
	cases := []struct {
		name, body string
		want       map[string]any
	}{
		{"weekdays in a named zone", `{"text": "every weekday at 9am Pacific"}`, map[string]any{
			"schedule":      map[string]any{"type": "cron", "expression": "0 9 * * 1-5", "timezone": "America/Los_Angeles"},
			"humanReadable": "At 09:00, Monday through Friday (America/Los_Angeles)",
			"confidence":    0.95, "parseMethod": "rules",
		}},
		{"the default zone", `{"text": "on the 15th at 06:00", "timezone": "Europe/Berlin"}`, map[string]any{
			"schedule":      map[string]any{"type": "cron", "expression": "0 6 15 * *", "timezone": "Europe/Berlin"},
			"humanReadable": "At 06:00 on day 15 of the month (Europe/Berlin)",
			"confidence":    0.95, "parseMethod": "rules",
		}},
		{"UTC without a zone", `{"text": "every 15 minutes"}`, map[string]any{
			"schedule":      map[string]any{"type": "cron", "expression": "*/15 * * * *", "timezone": "UTC"},
			"humanReadable": "Every 15 minutes",
			"confidence":    0.95, "parseMethod": "rules",
		}},
		{"an @every interval", `{"text": "every 30 seconds"}`, map[string]any{
			"schedule":      map[string]any{"type": "every", "expression": "@every 30s", "timezone": "UTC"},
			"humanReadable": "Every 30 seconds",
			"confidence":    0.95, "parseMethod": "rules",
		}},
	}
	eachEnv(t, nil, func(t *testing.T, e *env) {
		reader := e.key("reader", models.PermReadJobs)
		project := e.project("P")
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := e.do("POST", "/api/v1/schedules/parse", reader, c.body)
				require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
				var got map[string]any
				r.JSON(t, &got)
				assert.Equal(t, c.want, got)

				sched := c.want["schedule"].(map[string]any)
				expr, tz := sched["expression"].(string), sched["timezone"].(string)
				var check map[string]any
				v := e.do("GET", "/api/v1/schedules/validate?schedule="+url.QueryEscape(expr)+"&timezone="+url.QueryEscape(tz), reader, "")
				require.Equal(t, http.StatusOK, v.Code)
				v.JSON(t, &check)
				assert.Equal(t, c.want["humanReadable"], check["description"], "one describer for both")

				id := e.mustCreate("/jobs", `{"name": "parsed", "projectId": `+quote(project)+
					`, "heartbeat": true, "schedule": `+quote(expr)+`, "timezone": `+quote(tz)+`}`)
				j := e.mustJob(id)
				assert.Equal(t, expr, j.Schedule)
				assert.Equal(t, tz, j.Timezone)
			})
		}
	})
}

// TestParseScheduleRefuses: unreadable text and a bad zone are 400s naming
// the field; a key without read:jobs gets 403.
func TestParseScheduleRefuses(t *testing.T) {
	cases := []struct {
		name, body string
		code       int
		contains   string
	}{
		{"unreadable word", `{"text": "sometimes"}`, 400, `text: cannot read "sometimes"`},
		{"ambiguous text", `{"text": "every"}`, 400, "text: "},
		{"bad time", `{"text": "at 25:00"}`, 400, "25:00"},
		{"bad default zone", `{"text": "every day at 9am", "timezone": "Mars/Olympus_Mons"}`, 400, "timezone: unknown time zone"},
		{"empty text", `{"text": ""}`, 400, "text: is required"},
		{"no text", `{}`, 400, "text: is required"},
		{"over-long text", `{"text": "every day ` + strings.Repeat("and ", 60) + `at 9am"}`, 400, "text: must be at most 200 characters"},
		{"text of the wrong type", `{"text": 5}`, 400, "text"},
		{"not JSON", `every day`, 400, "JSON"},
	}
	eachEnv(t, nil, func(t *testing.T, e *env) {
		reader := e.key("reader", models.PermReadJobs)
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := e.do("POST", "/api/v1/schedules/parse", reader, c.body)
				assert.Equal(t, c.code, r.Code, "%s", r.Body)
				assert.Contains(t, r.Error(t), c.contains)
			})
		}
		t.Run("without read:jobs", func(t *testing.T) {
			r := e.do("POST", "/api/v1/schedules/parse", e.key("projects only", models.PermReadProjects), `{"text": "hourly"}`)
			assert.Equal(t, http.StatusForbidden, r.Code, "%s", r.Body)
			assert.Contains(t, r.Error(t), models.PermReadJobs)
		})
	})
}
