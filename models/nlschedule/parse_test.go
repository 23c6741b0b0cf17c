package nlschedule_test

import (
	"errors"
	"testing"

	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/nlschedule"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// parseCases are the phrasings the rules read. An empty zone means the
// default: UTC, or the case's defaultZone.
var parseCases = []struct {
	text, defaultZone string
	expr, typ, zone   string
}{
	// Intervals of seconds, minutes and hours.
	{"every 15 minutes", "", "*/15 * * * *", "cron", "UTC"},
	{"every 5 minutes", "", "*/5 * * * *", "cron", "UTC"},
	{"every minute", "", "* * * * *", "cron", "UTC"},
	{"every 1 minute", "", "* * * * *", "cron", "UTC"},
	{"every 15min", "", "*/15 * * * *", "cron", "UTC"},
	{"every fifteen minutes", "", "*/15 * * * *", "cron", "UTC"},
	{"every 7 minutes", "", "@every 7m", "every", "UTC"},
	{"every 90 minutes", "", "@every 90m", "every", "UTC"},
	{"every 2 hours", "", "0 */2 * * *", "cron", "UTC"},
	{"every 2h", "", "0 */2 * * *", "cron", "UTC"},
	{"every 5 hours", "", "@every 5h", "every", "UTC"},
	{"every 24 hours", "", "0 0 * * *", "cron", "UTC"},
	{"every 120 minutes", "", "0 */2 * * *", "cron", "UTC"},
	{"hourly", "", "0 * * * *", "cron", "UTC"},
	{"every hour", "", "0 * * * *", "cron", "UTC"},
	{"every other hour", "", "0 */2 * * *", "cron", "UTC"},
	{"every quarter hour", "", "*/15 * * * *", "cron", "UTC"},
	{"every quarter of an hour", "", "*/15 * * * *", "cron", "UTC"},
	{"every half hour", "", "*/30 * * * *", "cron", "UTC"},
	{"half-hourly", "", "*/30 * * * *", "cron", "UTC"},
	{"twice an hour", "", "*/30 * * * *", "cron", "UTC"},
	{"every 30 seconds", "", "@every 30s", "every", "UTC"},
	{"every 30s", "", "@every 30s", "every", "UTC"},
	{"every 10 seconds", "", "@every 10s", "every", "UTC"},
	{"every 90 seconds", "", "@every 90s", "every", "UTC"},
	{"every 60 seconds", "", "* * * * *", "cron", "UTC"},
	{"hourly at :15", "", "15 * * * *", "cron", "UTC"},
	{"every hour at minute 45", "", "45 * * * *", "cron", "UTC"},
	{"15 minutes past every hour", "", "15 * * * *", "cron", "UTC"},
	{"every hour on the hour", "", "0 * * * *", "cron", "UTC"},
	{"every 2 hours at :30", "", "30 */2 * * *", "cron", "UTC"},
	{"every 15 minutes on weekdays", "", "*/15 * * * 1-5", "cron", "UTC"},
	{"every minute of every day", "", "* * * * *", "cron", "UTC"},
	{"every 20 min between 8 and 18 on weekdays", "", "*/20 8-17 * * 1-5", "cron", "UTC"},
	{"every 30 minutes on the 1st", "", "*/30 * 1 * *", "cron", "UTC"},
	{"every 15 minutes from 9am to 5pm on weekdays", "", "*/15 9-16 * * 1-5", "cron", "UTC"},
	{"every hour between 9 and 17", "", "0 9-17 * * *", "cron", "UTC"},
	{"every 2 hours 8am-6pm", "", "0 8-18/2 * * *", "cron", "UTC"},
	{"4 times a day", "", "0 */6 * * *", "cron", "UTC"},

	// Times of day.
	{"at noon", "", "0 12 * * *", "cron", "UTC"},
	{"midnight", "", "0 0 * * *", "cron", "UTC"},
	{"every day at midnight", "", "0 0 * * *", "cron", "UTC"},
	{"daily at 6:30pm", "", "30 18 * * *", "cron", "UTC"},
	{"at 18:30", "", "30 18 * * *", "cron", "UTC"},
	{"9am", "", "0 9 * * *", "cron", "UTC"},
	{"every day at 9 am", "", "0 9 * * *", "cron", "UTC"},
	{"daily at 9a.m.", "", "0 9 * * *", "cron", "UTC"},
	{"at 12am", "", "0 0 * * *", "cron", "UTC"},
	{"at 12pm", "", "0 12 * * *", "cron", "UTC"},
	{"at 7 in the evening", "", "0 19 * * *", "cron", "UTC"},
	{"at 10 o'clock", "", "0 10 * * *", "cron", "UTC"},
	{"every day at 9 and 17", "", "0 9,17 * * *", "cron", "UTC"},
	{"every day at 8:15 and 20:15", "", "15 8,20 * * *", "cron", "UTC"},
	{"twice a day", "", "0 9,21 * * *", "cron", "UTC"},
	{"twice daily", "", "0 9,21 * * *", "cron", "UTC"},
	{"twice a day at 6am and 6pm", "", "0 6,18 * * *", "cron", "UTC"},
	{"once a day", "", "0 0 * * *", "cron", "UTC"},
	{"daily", "", "0 0 * * *", "cron", "UTC"},
	{"nightly at 2:30", "", "30 2 * * *", "cron", "UTC"},

	// Days of the week.
	{"weekdays at 9am", "", "0 9 * * 1-5", "cron", "UTC"},
	{"every weekday at 9am", "", "0 9 * * 1-5", "cron", "UTC"},
	{"on weekends at 10:00", "", "0 10 * * 0,6", "cron", "UTC"},
	{"every weekend", "", "0 0 * * 0,6", "cron", "UTC"},
	{"every monday and thursday", "", "0 0 * * 1,4", "cron", "UTC"},
	{"every monday and thursday at 8", "", "0 8 * * 1,4", "cron", "UTC"},
	{"mon-fri at 17:00", "", "0 17 * * 1-5", "cron", "UTC"},
	{"monday through friday at 7:45am", "", "45 7 * * 1-5", "cron", "UTC"},
	{"mon, wed, fri at noon", "", "0 12 * * 1,3,5", "cron", "UTC"},
	{"fri-sun at 20:00", "", "0 20 * * 0,5,6", "cron", "UTC"},
	{"tuesdays at 3pm", "", "0 15 * * 2", "cron", "UTC"},
	{"business days at 8:30", "", "30 8 * * 1-5", "cron", "UTC"},
	{"weekly", "", "0 0 * * 0", "cron", "UTC"},
	{"weekly on monday at 9am", "", "0 9 * * 1", "cron", "UTC"},

	// Days of the month, months.
	{"on the 1st", "", "0 0 1 * *", "cron", "UTC"},
	{"first day of every month", "", "0 0 1 * *", "cron", "UTC"},
	{"on the 15th at 06:00", "", "0 6 15 * *", "cron", "UTC"},
	{"on the 1st and 15th at noon", "", "0 12 1,15 * *", "cron", "UTC"},
	{"monthly", "", "0 0 1 * *", "cron", "UTC"},
	{"every month on the 10th at 8am", "", "0 8 10 * *", "cron", "UTC"},
	{"on day 5 of the month at 3:00", "", "0 3 5 * *", "cron", "UTC"},
	{"quarterly", "", "0 0 1 */3 *", "cron", "UTC"},
	{"yearly", "", "0 0 1 1 *", "cron", "UTC"},
	{"every year on march 3 at 9am", "", "0 9 3 3 *", "cron", "UTC"},
	{"on january 1st at midnight", "", "0 0 1 1 *", "cron", "UTC"},
	{"every other day", "", "0 0 */2 * *", "cron", "UTC"},
	{"every 2nd day at 4am", "", "0 4 */2 * *", "cron", "UTC"},

	// Time zones.
	{"every weekday at 9am Pacific", "", "0 9 * * 1-5", "cron", "America/Los_Angeles"},
	{"every day at 9am Eastern", "", "0 9 * * *", "cron", "America/New_York"},
	{"at 9am eastern standard time", "", "0 9 * * *", "cron", "America/New_York"},
	{"daily at 8 UTC", "Europe/Berlin", "0 8 * * *", "cron", "UTC"},
	{"daily at 8am Berlin time", "", "0 8 * * *", "cron", "Europe/Berlin"},
	{"every monday at 10am in Tokyo", "", "0 10 * * 1", "cron", "Asia/Tokyo"},
	{"weekdays at 9 in New York", "", "0 9 * * 1-5", "cron", "America/New_York"},
	{"every day at 7pm America/New_York", "", "0 19 * * *", "cron", "America/New_York"},
	{"at noon in america/sao_paulo", "", "0 12 * * *", "cron", "America/Sao_Paulo"},
	{"at 6:00 CET", "", "0 6 * * *", "cron", "Europe/Berlin"},
	{"every weekday at 9am", "Europe/Berlin", "0 9 * * 1-5", "cron", "Europe/Berlin"},
	{"every 15 minutes", "Asia/Kathmandu", "*/15 * * * *", "cron", "Asia/Kathmandu"},

	// Already a schedule.
	{"0 9 * * 1-5", "", "0 9 * * 1-5", "cron", "UTC"},
	{"@hourly", "", "@hourly", "cron", "UTC"},
	{"@every 1h30m", "", "@every 1h30m", "every", "UTC"},
}

func TestParse(t *testing.T) {
	for _, c := range parseCases {
		if c.expr == "" {
			continue
		}
		t.Run(c.text+"/"+c.defaultZone, func(t *testing.T) {
			r, err := nlschedule.Parse(c.text, c.defaultZone)
			require.NoError(t, err)
			assert.Equal(t, c.expr, r.Expression)
			assert.Equal(t, c.typ, r.Type)
			assert.Equal(t, c.zone, r.Timezone)
			assert.Greater(t, r.Confidence, 0.0)
			assert.LessOrEqual(t, r.Confidence, 1.0)
			assert.NotEmpty(t, r.Description)
			assert.NoError(t, jobAccepts(r.Expression, r.Timezone), "POST /jobs must accept the result")
		})
	}
}

// TestParseErrors: text that has no reading, or more than one, is a
// validation error of the field it came from, naming what was not read.
func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, text, defaultZone, field, contains string
	}{
		{"unknown word", "sometimes", "", "text", `cannot read "sometimes"`},
		{"whenever", "whenever", "", "text", `"whenever"`},
		{"empty", "", "", "text", "required"},
		{"blank", "   ", "", "text", "required"},
		{"too long", "every day at 9am " + string(make([]byte, 200)), "", "text", "at most 200"},
		{"every alone", "every", "", "text", "no schedule"},
		{"fillers only", "on the", "", "text", "no schedule"},
		{"a zone is not a schedule", "in Tokyo", "", "text", "no schedule"},
		{"hour 25", "at 25:00", "", "text", `"25:00" is not a time of day`},
		{"minute 60", "at 9:60", "", "text", "not a time of day"},
		{"13pm", "at 13pm", "", "text", "not a time of day"},
		{"day 32", "on the 32nd", "", "text", "no day 32"},
		{"day 0", "on the 0th", "", "text", "no day 0"},
		{"30 february", "on february 30th", "", "text", "never matches"},
		{"below MinEvery", "every 5 seconds", "", "text", "shortest interval is 10s"},
		{"every second", "every second", "", "text", "shortest interval"},
		{"zero interval", "every 0 minutes", "", "text", "never runs"},
		{"huge interval", "every 99999999 hours", "", "text", "too long"},
		{"two intervals", "every 5 minutes every 2 hours", "", "text", "two intervals (every 5 minutes and every 2 hours)"},
		{"negative interval", "every -5 minutes", "", "text", `cannot read "-5"`},
		{"nth weekday spelled second", "every second monday", "", "text", "cron has no first"},
		{"twice with one time", "twice a day at 9", "", "text", "two times"},
		{"not a number", "every 1.5 hours", "", "text", `cannot read "1.5"`},
		{"zero times a day", "0 times a day", "", "text", `cannot read "0"`},
		{"many times a day", "5 times a day", "", "text", "name the times"},
		{"interval and time", "every 15 minutes at 9am", "", "text", "cannot combine"},
		{"minutes that differ", "at 9:00 and 17:30", "", "text", "differ in the minute"},
		{"nth weekday", "first monday of the month", "", "text", "cron has no first"},
		{"last day", "last day of the month", "", "text", `"last"`},
		{"dom and dow", "on the 1st and on mondays", "", "text", "cannot combine days of the month"},
		{"every two weeks", "every 2 weeks", "", "text", "cannot count weeks"},
		{"twice a week", "twice a week", "", "text", "twice a week"},
		{"odd minutes limited to days", "every 7 minutes on weekdays", "", "text", "cannot be limited"},
		{"range backwards", "every hour from 5pm to 9am", "", "text", "must end later"},
		{"range without interval", "from 9 to 17", "", "text", "needs an interval"},
		{"other without unit", "every other", "", "text", "other"},
		{"two zones", "at 9am Pacific in Berlin", "", "text", "two time zones"},
		{"unknown IANA zone", "at 9am in Mars/Olympus", "", "text", "unknown time zone"},
		{"cron-like garbage", "0 9 * * 8", "", "text", `"0"`},
		{"bad default zone", "every day at 9am", "Mars/Olympus_Mons", "timezone", "unknown time zone"},
		{"Local is not a zone", "every day at 9am", "Local", "timezone", "unknown time zone"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := nlschedule.Parse(c.text, c.defaultZone)
			require.Error(t, err)
			var ve *models.ValidationError
			require.True(t, errors.As(err, &ve), "a validation error, got %T %v", err, err)
			assert.Equal(t, c.field, ve.Field)
			assert.Contains(t, err.Error(), c.contains)
		})
	}
}
