package models

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Schedule inference: GET /jobs/{id}/schedule-suggestion proposes the
// schedule a job's success pings fit, for jobs whose schedule is a guess
// (those created by a ping with ?create=1). SuggestSchedule is pure and
// deterministic; the store only supplies the ping times.
//
// Two readings of the pings compete:
//
//   - @every: the median interval, rounded to a clean unit; its fit is the
//     share of intervals within 1/30 of it (or 30s).
//   - cron: when the median is close to a period that divides an hour or a
//     day (5m, 15m, 1h, 6h, 1d …; or the pings are days apart), the pings'
//     offsets within that period on the job's wall clock are clustered
//     (circular median, inliers within 3 median deviations, at least a
//     minute). The tick is the earliest inlier floored to the minute, so that
//     no ping lands before its tick (a ping before its tick would turn the
//     job late at once). Daily ticks keep only the weekdays pinged, once the
//     pings span a week. The expression is then measured as the watchdog
//     will use it: its fit is the share of pings that come shortly after a
//     tick times the share of its ticks in the pinged span that got a ping.
//
// The cron reading wins ties: it does not drift. The tolerance is three
// times the 90th-percentile lateness of the pings that fit, at least a
// minute; the confidence is the fit, discounted for few pings.

// MinSuggestionPings is the fewest success pings a suggestion is made from.
const MinSuggestionPings = 5

// SuggestionPings is how many of a job's newest success pings are read.
const SuggestionPings = 50

// ErrTooFewPings is returned by SuggestSchedule below MinSuggestionPings.
var ErrTooFewPings = errors.New("too few success pings")

// ScheduleSuggestion is the schedule and tolerance a job's pings fit.
type ScheduleSuggestion struct {
	Schedule string `json:"schedule"`
	Timezone string `json:"timezone"`
	// HeartbeatTolerance is in minutes, like Job.HeartbeatTolerance, so that
	// the suggestion can be sent back as it is in PUT /jobs/{id}.
	HeartbeatTolerance int     `json:"heartbeatTolerance"`
	Confidence         float64 `json:"confidence"` // 0..1
	BasedOnPings       int     `json:"basedOnPings"`
}

// reading is one candidate schedule and how well the pings fit it.
type reading struct {
	expr string
	fit  float64         // 0..1
	late []time.Duration // lateness of the pings that fit
}

// SuggestSchedule infers a schedule in the time zone tz from success ping
// times (in any order).
func SuggestSchedule(pings []time.Time, tz string) (*ScheduleSuggestion, error) {
	loc, err := LoadLocation(tz)
	if err != nil {
		return nil, err
	}
	if len(pings) < MinSuggestionPings {
		return nil, fmt.Errorf("%w: %d, a suggestion needs at least %d", ErrTooFewPings, len(pings), MinSuggestionPings)
	}
	ts := slices.Clone(pings)
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	intervals := make([]time.Duration, len(ts)-1)
	for i := range intervals {
		intervals[i] = ts[i+1].Sub(ts[i])
	}
	median := medianOf(intervals)
	best := everyReading(intervals, median)
	if c, ok := cronReading(ts, median, loc, tz); ok && c.fit >= best.fit {
		best = c
	}
	tol := 3 * percentile(best.late, 0.9)
	minutes := min(43200, max(1, int(math.Ceil(tol.Minutes()))))
	n := float64(len(ts))
	size := 1 - math.Pow(2, -(n-1)/4) // 5 pings: 0.5, 9: 0.75, 21: 0.97
	if tz == "" {
		tz = "UTC"
	}
	return &ScheduleSuggestion{
		Schedule:           best.expr,
		Timezone:           tz,
		HeartbeatTolerance: minutes,
		Confidence:         math.Round(best.fit*size*100) / 100,
		BasedOnPings:       len(ts),
	}, nil
}

// everyReading is "@every <median, rounded>".
func everyReading(intervals []time.Duration, median time.Duration) reading {
	d := cleanInterval(median)
	r := reading{expr: "@every " + formatEvery(d)}
	regular := 0
	// Within 30s or 1/30 of the interval: tight enough that daily pings that
	// follow the wall clock across a DST change (23h, 25h) do not read as
	// @every 24h.
	band := max(30*time.Second, d/30)
	for _, iv := range intervals {
		if (iv - d).Abs() <= band {
			regular++
		}
		r.late = append(r.late, max(0, iv-d))
	}
	r.fit = float64(regular) / float64(len(intervals))
	return r
}

// cleanInterval rounds d to a unit that suits its size, at least MinEvery.
func cleanInterval(d time.Duration) time.Duration {
	unit := time.Hour
	switch {
	case d < 2*time.Minute:
		unit = 10 * time.Second
	case d < 2*time.Hour:
		unit = time.Minute
	case d < 48*time.Hour:
		unit = 5 * time.Minute
	}
	return max(MinEvery, d.Round(unit))
}

// formatEvery writes d as ParseDuration reads it, without zero parts
// ("1h30m", "5m", "24h").
func formatEvery(d time.Duration) string {
	var b strings.Builder
	for _, u := range []struct {
		unit time.Duration
		name string
	}{{time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if n := d / u.unit; n > 0 {
			b.WriteString(strconv.FormatInt(int64(n), 10) + u.name)
			d -= n * u.unit
		}
	}
	return b.String()
}

// cronPeriods are the periods a cron expression repeats at evenly.
var cronPeriods = []time.Duration{
	time.Minute, 2 * time.Minute, 3 * time.Minute, 4 * time.Minute, 5 * time.Minute, 6 * time.Minute,
	10 * time.Minute, 12 * time.Minute, 15 * time.Minute, 20 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 4 * time.Hour, 6 * time.Hour, 8 * time.Hour, 12 * time.Hour,
	24 * time.Hour,
}

// cronPeriod is the cron period within 10% of median; pings days apart
// (weekdays only, or Mondays and Thursdays) are read as daily ticks on
// some weekdays.
func cronPeriod(median time.Duration) (time.Duration, bool) {
	for _, p := range cronPeriods {
		if (median - p).Abs() <= p/10 {
			return p, true
		}
	}
	return 24 * time.Hour, median >= 20*time.Hour
}
