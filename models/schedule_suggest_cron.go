package models

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The cron reading of SuggestSchedule (see schedule_suggest.go).

// maxCoverageTicks bounds the ticks counted for the coverage of a reading.
const maxCoverageTicks = 20_000

// cronReading fits ts (sorted) to a cron expression in loc, if they cluster
// at one offset of a cron period.
func cronReading(ts []time.Time, median time.Duration, loc *time.Location, tz string) (reading, bool) {
	period, ok := cronPeriod(median)
	if !ok {
		return reading{}, false
	}
	offsets := make([]time.Duration, len(ts))
	for i, t := range ts {
		offsets[i] = wallOffset(t.In(loc), period)
	}
	center := circularMedian(offsets, period)
	devs := make([]time.Duration, len(ts))
	abs := make([]time.Duration, len(ts))
	for i, o := range offsets {
		devs[i] = wrap(o-center, period)
		abs[i] = devs[i].Abs()
	}
	band := min(period/4, max(time.Minute, 3*medianOf(abs)))
	var in []int // indexes of the pings that fit the cluster
	earliest := band
	for i, d := range devs {
		if d.Abs() <= band {
			in = append(in, i)
			earliest = min(earliest, d)
		}
	}
	if float64(len(in)) < 0.6*float64(len(ts)) {
		return reading{}, false
	}
	tick := mod(center+earliest, period)
	tick -= tick % time.Minute
	days := map[time.Weekday]bool{}
	var first time.Time
	for _, i := range in {
		at := ts[i].Add(-mod(offsets[i]-tick, period)) // the tick of this ping
		days[at.In(loc).Weekday()] = true
		if first.IsZero() {
			first = at
		}
	}
	last := ts[len(ts)-1]
	dow := "*"
	if period == 24*time.Hour && last.Sub(first) >= 6*24*time.Hour {
		dow = weekdayField(days)
	}
	expr := cronExpr(period, tick, dow)
	sched, err := ParseSchedule(expr, tz)
	if err != nil {
		return reading{}, false // cannot happen for the expressions cronExpr writes
	}
	return scheduleFit(expr, sched, ts, first, 2*band), true
}

// scheduleFit measures ts (sorted) against the ticks of sched from first
// on, as the heartbeat watchdog will: a ping fits when it comes at most
// maxLate after the latest tick before it (the schedule's own rules place
// the ticks, across DST changes too). The fit is the share of pings that
// fit times the share of ticks that got one.
func scheduleFit(expr string, sched *Schedule, ts []time.Time, first time.Time, maxLate time.Duration) reading {
	var ticks []time.Time
	for t := first.Add(-time.Second); len(ticks) < maxCoverageTicks; {
		if t = sched.Next(t); t.IsZero() || t.After(ts[len(ts)-1]) {
			break
		}
		ticks = append(ticks, t)
	}
	r := reading{expr: expr}
	hit := map[int]bool{}
	j := 0
	for _, p := range ts {
		for j+1 < len(ticks) && !ticks[j+1].After(p) {
			j++
		}
		if len(ticks) == 0 || ticks[j].After(p) || p.Sub(ticks[j]) > maxLate {
			continue
		}
		hit[j] = true
		r.late = append(r.late, p.Sub(ticks[j]))
	}
	if len(ticks) > 0 {
		r.fit = float64(len(r.late)) / float64(len(ts)) * float64(len(hit)) / float64(len(ticks))
	}
	return r
}

// wallOffset is where the wall clock w stands within a period: past the
// hour for periods under an hour, past midnight otherwise.
func wallOffset(w time.Time, period time.Duration) time.Duration {
	sec := time.Duration(w.Minute())*time.Minute + time.Duration(w.Second())*time.Second + time.Duration(w.Nanosecond())
	if period >= time.Hour {
		sec += time.Duration(w.Hour()) * time.Hour
	}
	return sec % period
}

// circularMedian is the median of offsets on a circle of length period:
// the circle is cut at the widest gap between offsets, so that a cluster
// around midnight (23:59, 00:01) stays together.
func circularMedian(offsets []time.Duration, period time.Duration) time.Duration {
	o := slices.Clone(offsets)
	slices.Sort(o)
	cut, widest := 0, o[0]+period-o[len(o)-1]
	for i := 1; i < len(o); i++ {
		if g := o[i] - o[i-1]; g > widest {
			cut, widest = i, g
		}
	}
	unwrapped := append(slices.Clone(o[cut:]), o[:cut]...)
	for i := len(o) - cut; i < len(o); i++ {
		unwrapped[i] += period
	}
	return mod(medianOf(unwrapped), period)
}

// cronExpr writes the expression ticking at offset tick of period.
func cronExpr(period, tick time.Duration, dow string) string {
	minutes := int(tick / time.Minute)
	if period < time.Hour {
		k := int(period / time.Minute)
		return stepField(minutes, k, 59) + " * * * *"
	}
	k := int(period / time.Hour)
	hour := stepField(minutes/60, k, 23)
	if period == 24*time.Hour {
		hour = strconv.Itoa(minutes / 60)
	}
	return fmt.Sprintf("%d %s * * %s", minutes%60, hour, dow)
}

// stepField is a cron field for every k-th value from start: "*", "*/k"
// or "start-last/k".
func stepField(start, k, last int) string {
	switch {
	case k == 1:
		return "*"
	case start == 0:
		return "*/" + strconv.Itoa(k)
	default:
		return fmt.Sprintf("%d-%d/%d", start, last, k)
	}
}

// weekdayField is a day-of-week field for the given days: "*" for all of
// them, ranges where they run on ("1-5", "0,6", "1,3,5").
func weekdayField(days map[time.Weekday]bool) string {
	if len(days) == 7 || len(days) == 0 {
		return "*"
	}
	var parts []string
	for d := 0; d < 7; d++ {
		if !days[time.Weekday(d)] {
			continue
		}
		end := d
		for end+1 < 7 && days[time.Weekday(end+1)] {
			end++
		}
		switch {
		case end-d >= 2:
			parts = append(parts, fmt.Sprintf("%d-%d", d, end))
		case end > d:
			parts = append(parts, strconv.Itoa(d), strconv.Itoa(end))
		default:
			parts = append(parts, strconv.Itoa(d))
		}
		d = end
	}
	return strings.Join(parts, ",")
}

// mod is d modulo period, in [0, period).
func mod(d, period time.Duration) time.Duration {
	return ((d % period) + period) % period
}

// wrap is d modulo period, in [-period/2, period/2).
func wrap(d, period time.Duration) time.Duration {
	return mod(d+period/2, period) - period/2
}

// medianOf is the median of ds (the lower middle one of an even count).
func medianOf(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

// percentile is the nearest-rank p-th percentile of ds (0 for none).
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s))*p+0.999999) - 1
	return s[min(len(s)-1, max(0, i))]
}
