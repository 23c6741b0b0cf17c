package models_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pingSeries builds ping times: for each tick, the tick plus a lateness
// drawn uniformly from [minLate, maxLate] by a seeded source.
func pingSeries(ticks []time.Time, minLate, maxLate time.Duration) []time.Time {
	rnd := rand.New(rand.NewPCG(7, 11))
	out := make([]time.Time, len(ticks))
	for i, t := range ticks {
		out[i] = t.Add(minLate + time.Duration(rnd.Int64N(int64(maxLate-minLate)+1)))
	}
	return out
}

// ticksEvery is n ticks from start, d apart.
func ticksEvery(start time.Time, d time.Duration, n int) []time.Time {
	out := make([]time.Time, n)
	for i := range out {
		out[i] = start.Add(time.Duration(i) * d)
	}
	return out
}

// dailyTicks is hh:mm on the given number of days from the date of start,
// in loc, on the weekdays keep accepts (nil: every day).
func dailyTicks(start time.Time, days, hh, mm int, loc *time.Location, keep func(time.Weekday) bool) []time.Time {
	var out []time.Time
	for d := 0; d < days; d++ {
		t := time.Date(start.Year(), start.Month(), start.Day()+d, hh, mm, 0, 0, loc)
		if keep == nil || keep(t.Weekday()) {
			out = append(out, t)
		}
	}
	return out
}

func mustLoad(t *testing.T, tz string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(tz)
	require.NoError(t, err)
	return loc
}

func TestSuggestSchedule(t *testing.T) {
	berlin, newYork := mustLoad(t, "Europe/Berlin"), mustLoad(t, "America/New_York")
	utc := func(h, m, s int) time.Time { return time.Date(2026, 3, 2, h, m, s, 0, time.UTC) }
	irregular := func() []time.Time {
		rnd := rand.New(rand.NewPCG(3, 5))
		out := []time.Time{utc(0, 0, 0)}
		for i := 0; i < 40; i++ {
			out = append(out, out[len(out)-1].Add(time.Duration(5+rnd.IntN(110))*time.Minute+time.Duration(rnd.IntN(60))*time.Second))
		}
		return out
	}
	daily2am := pingSeries(dailyTicks(utc(0, 0, 0), 14, 2, 0, time.UTC, nil), 0, 90*time.Second)
	// Confidence is the fit discounted for few pings: 5 pings give half of
	// it, 14 give 0.89, 21 or more nearly all.
	cases := []struct {
		name          string
		pings         []time.Time
		tz            string
		want          string
		minConfidence float64
		maxConfidence float64
		maxTolerance  int // minutes
	}{
		{name: "hourly at :15", pings: pingSeries(ticksEvery(utc(10, 15, 0), time.Hour, 24), 5*time.Second, 40*time.Second),
			want: "15 * * * *", minConfidence: 0.95, maxConfidence: 1, maxTolerance: 3},
		{name: "daily at 02:00 with jitter, across a DST change", tz: "Europe/Berlin",
			pings: pingSeries(dailyTicks(time.Date(2026, 3, 20, 0, 0, 0, 0, berlin), 14, 2, 0, berlin, nil), 0, 90*time.Second),
			want:  "0 2 * * *", minConfidence: 0.85, maxConfidence: 1, maxTolerance: 5},
		{name: "weekdays at 09:00", tz: "America/New_York",
			pings: pingSeries(dailyTicks(time.Date(2026, 4, 6, 0, 0, 0, 0, newYork), 21, 9, 0, newYork,
				func(d time.Weekday) bool { return d != time.Saturday && d != time.Sunday }), time.Second, 30*time.Second),
			want: "0 9 * * 1-5", minConfidence: 0.9, maxConfidence: 1, maxTolerance: 2},
		{name: "mondays, wednesdays and fridays at 06:30", tz: "UTC",
			pings: pingSeries(dailyTicks(utc(0, 0, 0), 28, 6, 30, time.UTC,
				func(d time.Weekday) bool { return d == time.Monday || d == time.Wednesday || d == time.Friday }), 0, 10*time.Second),
			want: "30 6 * * 1,3,5", minConfidence: 0.8, maxConfidence: 1, maxTolerance: 1},
		{name: "every 5 minutes", pings: pingSeries(ticksEvery(utc(12, 0, 0), 5*time.Minute, 50), 2*time.Second, 20*time.Second),
			want: "*/5 * * * *", minConfidence: 0.95, maxConfidence: 1, maxTolerance: 1},
		{name: "every 5 minutes off the clock's grid", pings: ticksEvery(utc(12, 2, 37), 5*time.Minute, 20),
			want: "2-59/5 * * * *", minConfidence: 0.95, maxConfidence: 1, maxTolerance: 2},
		{name: "every 90 minutes: no cron period", pings: pingSeries(ticksEvery(utc(0, 0, 0), 90*time.Minute, 20), 0, 20*time.Second),
			want: "@every 1h30m", minConfidence: 0.9, maxConfidence: 1, maxTolerance: 1},
		{name: "around midnight", pings: pingSeries(dailyTicks(utc(0, 0, 0), 10, 23, 59, time.UTC, nil), 10*time.Second, 80*time.Second),
			want: "59 23 * * *", minConfidence: 0.75, maxConfidence: 1, maxTolerance: 5},
		{name: "a manual run does not move the daily tick", pings: append(daily2am[:len(daily2am):len(daily2am)], utc(14, 3, 0).AddDate(0, 0, 3)),
			want: "0 2 * * *", minConfidence: 0.75, maxConfidence: 0.88, maxTolerance: 5},
		{name: "a missed day lowers the confidence", pings: append(daily2am[:5:5], daily2am[6:]...),
			want: "0 2 * * *", minConfidence: 0.75, maxConfidence: 0.88, maxTolerance: 5},
		{name: "irregular", pings: irregular(), want: "@every 59m", minConfidence: 0, maxConfidence: 0.3, maxTolerance: 43200},
		{name: "five pings: half the confidence", pings: ticksEvery(utc(3, 0, 0), time.Hour, 5),
			want: "0 * * * *", minConfidence: 0.5, maxConfidence: 0.5, maxTolerance: 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := models.SuggestSchedule(c.pings, c.tz)
			require.NoError(t, err)
			assert.Equal(t, c.want, got.Schedule)
			wantTZ := c.tz
			if wantTZ == "" {
				wantTZ = "UTC"
			}
			assert.Equal(t, wantTZ, got.Timezone)
			_, err = models.ParseSchedule(got.Schedule, got.Timezone)
			assert.NoError(t, err, "POST /jobs accepts the suggestion")
			assert.Equal(t, len(c.pings), got.BasedOnPings)
			assert.GreaterOrEqual(t, got.Confidence, c.minConfidence)
			assert.LessOrEqual(t, got.Confidence, c.maxConfidence)
			assert.GreaterOrEqual(t, got.HeartbeatTolerance, 1, "at least a minute")
			assert.LessOrEqual(t, got.HeartbeatTolerance, c.maxTolerance)
		})
	}
}

func TestSuggestScheduleNeedsFivePings(t *testing.T) {
	_, err := models.SuggestSchedule(ticksEvery(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), time.Hour, 4), "")
	assert.ErrorIs(t, err, models.ErrTooFewPings)
	assert.Contains(t, err.Error(), "at least 5")
	_, err = models.SuggestSchedule(ticksEvery(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), time.Hour, 5), "Mars/Olympus")
	assert.Error(t, err, "an unknown time zone")
}
