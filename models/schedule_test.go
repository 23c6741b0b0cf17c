package models_test

import (
	"errors"
	"testing"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func schedUTC(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err) // test tables are constants
	}
	return t.UTC()
}

func TestScheduleNext(t *testing.T) {
	cases := []struct {
		name, expr, tz, from string
		want                 []string // the next ticks, UTC
	}{
		{"every 5 minutes", "*/5 * * * *", "", "2024-01-30T12:02:10Z", []string{"2024-01-30T12:05:00Z", "2024-01-30T12:10:00Z"}},
		{"exactly on a tick moves on", "*/5 * * * *", "", "2024-01-30T12:05:00Z", []string{"2024-01-30T12:10:00Z"}},
		{"hourly at minute 0", "0 * * * *", "UTC", "2024-01-30T12:00:00.5Z", []string{"2024-01-30T13:00:00Z", "2024-01-30T14:00:00Z"}},
		{"weekdays at 9", "0 9 * * 1-5", "", "2024-03-01T10:00:00Z", []string{"2024-03-04T09:00:00Z", "2024-03-05T09:00:00Z"}},
		{"named days and months", "30 6 * JAN,FEB SUN", "", "2024-01-30T00:00:00Z", []string{"2024-02-04T06:30:00Z"}},
		{"dom or dow when both restricted", "0 0 1 * 1", "", "2024-01-30T00:00:00Z", []string{"2024-02-01T00:00:00Z", "2024-02-05T00:00:00Z"}},
		{"sunday as 7", "0 12 * * 7", "", "2024-01-30T00:00:00Z", []string{"2024-02-04T12:00:00Z"}},
		{"leap day", "0 0 29 2 *", "", "2024-03-01T00:00:00Z", []string{"2028-02-29T00:00:00Z"}},
		{"end of year", "59 23 31 12 *", "", "2024-12-31T23:59:00Z", []string{"2025-12-31T23:59:00Z"}},
		{"@hourly", "@hourly", "", "2024-01-30T12:02:00Z", []string{"2024-01-30T13:00:00Z"}},
		{"@daily", "@daily", "", "2024-01-30T12:02:00Z", []string{"2024-01-31T00:00:00Z"}},
		{"@midnight", "@midnight", "", "2024-01-30T12:02:00Z", []string{"2024-01-31T00:00:00Z"}},
		{"@weekly", "@weekly", "", "2024-01-30T12:02:00Z", []string{"2024-02-04T00:00:00Z"}},
		{"@monthly", "@monthly", "", "2024-01-30T12:02:00Z", []string{"2024-02-01T00:00:00Z", "2024-03-01T00:00:00Z"}},
		{"@yearly", "@yearly", "", "2024-01-30T12:02:00Z", []string{"2025-01-01T00:00:00Z"}},
		{"@annually", "@annually", "", "2024-01-30T12:02:00Z", []string{"2025-01-01T00:00:00Z"}},
		{"@every 10s is the minimum", "@every 10s", "", "2024-01-30T12:00:00Z", []string{"2024-01-30T12:00:10Z", "2024-01-30T12:00:20Z"}},
		{"@every 1h30m", "@every 1h30m", "Europe/Berlin", "2024-01-30T12:00:00Z", []string{"2024-01-30T13:30:00Z"}},
		{"daily 9:00 Tokyo", "0 9 * * *", "Asia/Tokyo", "2023-12-31T23:00:00Z", []string{"2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z"}},
		{"midnight Kathmandu (+5:45)", "0 0 * * *", "Asia/Kathmandu", "2024-01-01T00:00:00Z", []string{"2024-01-01T18:15:00Z"}},
		{"@daily in New York", "@daily", "America/New_York", "2024-01-30T12:00:00Z", []string{"2024-01-31T05:00:00Z"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := models.ParseSchedule(c.expr, c.tz)
			require.NoError(t, err)
			got := s.NextN(schedUTC(c.from), len(c.want))
			var gotS []string
			for _, g := range got {
				assert.Equal(t, time.UTC, g.Location(), "Next returns UTC")
				gotS = append(gotS, g.Format(time.RFC3339))
			}
			assert.Equal(t, c.want, gotS)
		})
	}
}

func TestScheduleInvalid(t *testing.T) {
	cases := []struct {
		name, expr, tz, field string
	}{
		{"empty", "", "", "schedule"},
		{"blank", "   ", "", "schedule"},
		{"four fields", "* * * *", "", "schedule"},
		{"six fields (seconds)", "0 * * * * *", "", "schedule"},
		{"minute 60", "60 * * * *", "", "schedule"},
		{"hour 24", "0 24 * * *", "", "schedule"},
		{"day 32", "0 0 32 * *", "", "schedule"},
		{"month 13", "0 0 1 13 *", "", "schedule"},
		{"weekday 8", "0 0 * * 8", "", "schedule"},
		{"letters", "a b c d e", "", "schedule"},
		{"inverted range", "0 0 * * 5-1", "", "schedule"},
		{"zero step", "*/0 * * * *", "", "schedule"},
		{"30 February never comes", "0 0 30 2 *", "", "schedule"},
		{"31 April never comes", "0 0 31 4 *", "", "schedule"},
		{"@reboot", "@reboot", "", "schedule"},
		{"unknown descriptor", "@fortnightly", "", "schedule"},
		{"@every below 10s", "@every 9s", "", "schedule"},
		{"@every 9.9s", "@every 9900ms", "", "schedule"},
		{"@every zero", "@every 0s", "", "schedule"},
		{"@every negative", "@every -1m", "", "schedule"},
		{"@every no unit", "@every 10", "", "schedule"},
		{"@every nothing", "@every", "", "schedule"},
		{"TZ prefix", "CRON_TZ=Europe/Berlin 0 9 * * *", "", "schedule"},
		{"newline", "0 9 * * *\n0 10 * * *", "", "schedule"},
		{"NUL", "0 9 * * *\x00", "", "schedule"},
		{"unknown zone", "@daily", "Mars/Olympus_Mons", "timezone"},
		{"Local is not a zone", "@daily", "Local", "timezone"},
		{"path traversal", "@daily", "../../etc/passwd", "timezone"},
		{"zone with spaces", "@daily", "Europe/ Berlin", "timezone"},
		{"lowercase zone", "@daily", "europe/berlin", "timezone"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := models.ParseSchedule(c.expr, c.tz)
			require.Error(t, err)
			var ve *models.ValidationError
			require.True(t, errors.As(err, &ve), "a validation error, got %T %v", err, err)
			assert.Equal(t, c.field, ve.Field)
			assert.NotEmpty(t, ve.Message)
		})
	}
}

// schedTicksOn returns the ticks of expr in zone tz that fall on the given local
// calendar day.
func schedTicksOn(t *testing.T, expr, tz string, year int, month time.Month, day int) []time.Time {
	t.Helper()
	s, err := models.ParseSchedule(expr, tz)
	require.NoError(t, err)
	loc := s.Location()
	start := time.Date(year, month, day, 0, 0, 0, 0, loc).Add(-time.Nanosecond)
	end := time.Date(year, month, day+1, 0, 0, 0, 0, loc)
	var out []time.Time
	for next := s.Next(start); next.Before(end); next = s.Next(next) {
		require.True(t, next.After(start))
		out = append(out, next)
		require.Less(t, len(out), 2000, "runaway")
	}
	return out
}

func TestScheduleDST(t *testing.T) {
	cases := []struct {
		name, expr, tz string
		year           int
		month          time.Month
		day            int
		want           []string
	}{
		// New York springs forward at 02:00 on 10 March 2024: 02:30 does not
		// exist that day, and the job still runs once, an hour later in wall time.
		{"NY spring forward 02:30", "30 2 * * *", "America/New_York", 2024, 3, 10, []string{"2024-03-10T07:30:00Z"}},
		{"NY day before", "30 2 * * *", "America/New_York", 2024, 3, 9, []string{"2024-03-09T07:30:00Z"}},
		{"NY day after", "30 2 * * *", "America/New_York", 2024, 3, 11, []string{"2024-03-11T06:30:00Z"}},
		// New York falls back at 02:00 on 3 November 2024: 01:00-02:00 happens
		// twice. 02:30 happens once; 01:30 happens twice and runs once.
		{"NY fall back 02:30", "30 2 * * *", "America/New_York", 2024, 11, 3, []string{"2024-11-03T07:30:00Z"}},
		{"NY fall back 01:30", "30 1 * * *", "America/New_York", 2024, 11, 3, []string{"2024-11-03T05:30:00Z"}},
		// Berlin springs forward at 02:00 on 31 March 2024 and falls back at
		// 03:00 on 27 October 2024 (02:00-03:00 twice).
		{"Berlin spring forward 02:30", "30 2 * * *", "Europe/Berlin", 2024, 3, 31, []string{"2024-03-31T01:30:00Z"}},
		{"Berlin fall back 02:30", "30 2 * * *", "Europe/Berlin", 2024, 10, 27, []string{"2024-10-27T00:30:00Z"}},
		{"Berlin day after fall back", "30 2 * * *", "Europe/Berlin", 2024, 10, 28, []string{"2024-10-28T01:30:00Z"}},
		{"Berlin weekdays across spring forward", "30 2 * * 0", "Europe/Berlin", 2024, 3, 31, []string{"2024-03-31T01:30:00Z"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := schedTicksOn(t, c.expr, c.tz, c.year, c.month, c.day)
			var gotS []string
			for _, g := range got {
				gotS = append(gotS, g.UTC().Format(time.RFC3339))
			}
			assert.Equal(t, c.want, gotS)
		})
	}
}

// TestScheduleMonotonicAcrossDST walks busy schedules through the DST days of
// several zones: every tick is strictly after the one before, none repeats,
// and no gap is longer than the schedule allows plus the hour DST removes.
func TestScheduleMonotonicAcrossDST(t *testing.T) {
	zones := []string{"America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Tehran", "UTC"}
	exprs := map[string]time.Duration{"*/5 * * * *": 5 * time.Minute, "0 * * * *": time.Hour, "30 2 * * *": 24 * time.Hour}
	// The windows hold every 2024 transition of these zones (New York 10 Mar
	// and 3 Nov, Berlin 31 Mar and 27 Oct, Lord Howe 7 Apr and 6 Oct).
	windows := [][2]string{{"2024-03-01T00:00:00Z", "2024-04-15T00:00:00Z"}, {"2024-09-25T00:00:00Z", "2024-11-10T00:00:00Z"}}
	for _, tz := range zones {
		for expr, period := range exprs {
			s, err := models.ParseSchedule(expr, tz)
			require.NoError(t, err)
			for _, w := range windows {
				from := schedUTC(w[0])
				prev := from
				for prev.Before(schedUTC(w[1])) {
					next := s.Next(prev)
					require.False(t, next.IsZero(), "%s %s after %s", expr, tz, prev)
					require.True(t, next.After(prev), "%s %s: %s is not after %s", expr, tz, next, prev)
					if prev != from {
						require.LessOrEqual(t, next.Sub(prev), period+time.Hour+time.Minute, "%s %s: gap after %s", expr, tz, prev)
					}
					prev = next
				}
			}
		}
	}
}

func TestScheduleDescribe(t *testing.T) {
	cases := []struct {
		name, expr, tz, want string
	}{
		{"@hourly", "@hourly", "", "Every hour"},
		{"@daily", "@daily", "", "At 00:00, every day"},
		{"@midnight", "@midnight", "", "At 00:00, every day"},
		{"@weekly", "@weekly", "", "At 00:00 on Sunday"},
		{"@monthly", "@monthly", "", "At 00:00 on day 1 of the month"},
		{"@yearly", "@yearly", "", "At 00:00 on day 1 of the month, in January"},
		{"@annually in a zone", "@annually", "Europe/Berlin", "At 00:00 on day 1 of the month, in January (Europe/Berlin)"},
		{"@every seconds", "@every 30s", "", "Every 30 seconds"},
		{"@every 90s in seconds", "@every 90s", "", "Every 90 seconds"},
		{"@every 1h30m in minutes", "@every 1h30m", "", "Every 90 minutes"},
		{"@every one hour", "@every 1h", "", "Every hour"},
		{"@every one minute", "@every 60s", "", "Every minute"},
		{"@every does not name its zone", "@every 5m", "Asia/Tokyo", "Every 5 minutes"},
		{"@every fraction", "@every 10500ms", "", "Every 10.5s"},
		{"every minute", "* * * * *", "", "Every minute"},
		{"step minutes", "*/5 * * * *", "", "Every 5 minutes"},
		{"step 15 as a list", "0,15,30,45 * * * *", "", "Every 15 minutes"},
		{"step minutes in hours", "*/15 9-16 * * *", "", "Every 15 minutes, between 09:00 and 16:59"},
		{"step minutes on weekdays", "*/10 * * * 1-5", "", "Every 10 minutes, Monday through Friday"},
		{"minute past every hour", "15 * * * *", "", "Every hour at minute 15"},
		{"minutes past every hour", "0,20 * * * *", "", "Every hour at minutes 0 and 20"},
		{"step hours", "0 */2 * * *", "", "Every 2 hours"},
		{"step hours at a minute", "30 */6 * * *", "", "Every 6 hours at minute 30"},
		{"hour range with step", "0 9-17/4 * * *", "", "At 09:00, 13:00 and 17:00, every day"},
		{"daily in Berlin", "30 2 * * *", "Europe/Berlin", "At 02:30, every day (Europe/Berlin)"},
		{"two times", "0 9,17 * * *", "", "At 09:00 and 17:00, every day"},
		{"every hour in a range", "30 9-17 * * 1-5", "", "Every hour from 09:30 to 17:30, Monday through Friday"},
		{"half hours in one hour", "0,30 9 * * *", "", "At 09:00 and 09:30, every day"},
		{"many times", "0,30 9-17 * * *", "", "Every 30 minutes, between 09:00 and 17:59"},
		{"minute list in an hour range", "0,20 9-17 * * *", "", "At minutes 0 and 20, between 09:00 and 17:59"},
		{"scattered hours", "5 1,3,7,9,11,13,15,17,19 * * *", "", "At minute 5, in hours 1, 3, 7, 9, 11, 13, 15, 17 and 19"},
		{"weekdays", "0 9 * * 1-5", "America/Los_Angeles", "At 09:00, Monday through Friday (America/Los_Angeles)"},
		{"weekdays by name", "0 9 * * MON-FRI", "America/Chicago", "At 09:00, Monday through Friday (America/Chicago)"},
		{"weekend", "0 10 * * 0,6", "", "At 10:00 on Saturday and Sunday"},
		{"weekend as 6-7", "0 10 * * 6-7", "", "At 10:00 on Saturday and Sunday"},
		{"friday through sunday", "0 18 * * 5-7", "", "At 18:00, Friday through Sunday"},
		{"list of days", "0 8 * * 1,4", "", "At 08:00 on Monday and Thursday"},
		{"list and range of days", "0 8 * * 1,3-5", "", "At 08:00 on Monday and Wednesday through Friday"},
		{"one day", "0 8 * * 3", "", "At 08:00 on Wednesday"},
		{"day of month", "0 0 1 * *", "", "At 00:00 on day 1 of the month"},
		{"days of month", "0 6 1,15 * *", "", "At 06:00 on days 1 and 15 of the month"},
		{"range of days of month", "0 6 1-10 * *", "", "At 06:00 on days 1 through 10 of the month"},
		{"every other day", "0 0 */2 * *", "", "At 00:00 on every 2nd day of the month"},
		{"day of month or weekday", "0 0 1 * 1", "", "At 00:00 on day 1 of the month or on Monday"},
		{"months", "0 0 1 1,7 *", "", "At 00:00 on day 1 of the month, in January and July"},
		{"range of months", "0 0 1 JAN-MAR *", "", "At 00:00 on day 1 of the month, January through March"},
		{"quarterly", "0 0 1 */3 *", "", "At 00:00 on day 1 of the month, in January, April, July and October"},
		{"zone with offset", "0 0 * * *", "Asia/Kathmandu", "At 00:00, every day (Asia/Kathmandu)"},
		{"UTC is not named", "0 0 * * *", "UTC", "At 00:00, every day"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := models.ParseSchedule(c.expr, c.tz)
			require.NoError(t, err)
			assert.Equal(t, c.want, s.Describe())
			assert.Equal(t, c.expr, s.String())
		})
	}
}

func TestScheduleSundayAsSeven(t *testing.T) {
	for _, c := range []struct{ a, b string }{
		{"0 12 * * 7", "0 12 * * 0"},
		{"0 12 * * 5-7", "0 12 * * 0,5,6"},
		{"0 12 * * 1,7", "0 12 * * 0,1"},
		{"0 12 * * 7-7", "0 12 * * 0"},
	} {
		t.Run(c.a, func(t *testing.T) {
			a, err := models.ParseSchedule(c.a, "")
			require.NoError(t, err, c.a)
			b, err := models.ParseSchedule(c.b, "")
			require.NoError(t, err, c.b)
			from := schedUTC("2024-01-30T00:00:00Z")
			assert.Equal(t, b.NextN(from, 10), a.NextN(from, 10), c.a)
			assert.Equal(t, c.a, a.String(), "the expression is kept as written")
		})
	}
}
