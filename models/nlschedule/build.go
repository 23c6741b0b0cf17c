package nlschedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cronpulse/cronpulse/models"
)

// build turns what was read into one schedule expression, or says why the
// pieces do not make one.
func (p *parser) build() (string, error) {
	unit, n := p.unit, p.n
	switch {
	case unit == "second" && n%60 == 0:
		unit, n = "minute", n/60
	case unit == "month" && n == 12:
		unit, n = "year", 1
	}
	if unit == "minute" && n%60 == 0 {
		unit, n = "hour", n/60
	}
	if unit == "hour" && n == 24 && p.minute < 0 && p.window == nil {
		unit, n = "day", 1
	}
	if unit == "" && p.minute >= 0 && len(p.times) == 0 {
		p.assume(0.9) // ":15" alone: every hour at minute 15
		unit, n = "hour", 1
	}
	if p.doms != 0 && p.dows != 0 {
		return "", textError("cannot combine days of the month with days of the week: cron would run on either")
	}
	if unit == "second" || unit == "minute" || unit == "hour" {
		return p.subDaily(unit, n)
	}
	switch {
	case p.window != nil:
		return "", textError(`a time range needs an interval, as in "every 15 minutes from 9am to 5pm"`)
	case p.minute >= 0:
		return "", textError("a minute past the hour needs an hourly schedule, or a time such as 9:15")
	}
	month := setText(p.months, 1, 12)
	dom := ""
	switch unit {
	case "day":
		if n > 1 {
			if p.doms != 0 || p.dows != 0 || n > 31 {
				return "", textError("cannot read every %d days with other days named: cron counts days within a month", n)
			}
			p.assume(0.8) // */n restarts on the 1st of every month
			dom = "*/" + strconv.Itoa(n)
		}
	case "week":
		if n > 1 || p.doms != 0 {
			return "", textError("cron cannot count weeks: name the days (\"every monday\") or use hours (\"every 336 hours\")")
		}
		if p.dows == 0 {
			p.assume(0.8) // weekly is Sunday, as cron's @weekly
			p.dows = 1
		}
	case "month", "year":
		if p.dows != 0 {
			return "", textError("cannot combine a day of the week with a monthly schedule: cron has no first Monday of the month")
		}
		if unit == "year" && n > 1 || unit == "month" && (12%n != 0 || p.months != 0 && n > 1) {
			return "", textError("cannot read every %d %ss: cron counts months within a year (every 2, 3, 4 or 6 months)", n, unit)
		}
		if unit == "month" && n > 1 {
			month = "*/" + strconv.Itoa(n)
		}
		if unit == "year" && p.months == 0 {
			p.assume(0.85) // yearly is 1 January
			p.months, month = 1<<1, "1"
		}
		if p.doms == 0 {
			p.assume(0.85) // monthly is the 1st
			p.doms = 1 << 1
		}
	}
	if dom == "" {
		dom = setText(p.doms, 1, 31)
	}
	minute, hour, err := p.timesOfDay()
	if err != nil {
		return "", err
	}
	return strings.Join([]string{minute, hour, dom, month, setText(p.dows, 0, 6)}, " "), nil
}

// timesOfDay writes the minute and hour fields of a daily-or-longer
// schedule. With no time named it runs at 00:00, twice a day at 09:00 and
// 21:00. One cron line holds one minute pattern, so the times must share
// their minute.
func (p *parser) timesOfDay() (string, string, error) {
	if len(p.times) == 0 {
		if p.twice {
			p.assume(0.65)
			return "0", "9,21", nil
		}
		p.assume(0.85)
		return "0", "0", nil
	}
	if p.twice && len(p.times) != 2 {
		return "", "", textError(`"twice" needs two times, not %d`, len(p.times))
	}
	var hours uint64
	first := p.times[0]
	for _, c := range p.times {
		if c.m != first.m {
			return "", "", textError("%02d:%02d and %02d:%02d differ in the minute, which one schedule cannot hold: use two jobs", first.h, first.m, c.h, c.m)
		}
		hours |= 1 << uint(c.h)
	}
	return strconv.Itoa(first.m), setText(hours, 0, 23), nil
}

// subDaily writes schedules of seconds, minutes and hours. Intervals that
// divide the hour (or the day) become cron steps, aligned to the clock;
// others become "@every", which cannot be limited to days or hours.
func (p *parser) subDaily(unit string, n int) (string, error) {
	if len(p.times) > 0 || p.twice {
		return "", textError("cannot combine every %d %ss with times of day", n, unit)
	}
	if unit == "minute" && p.minute >= 0 {
		return "", textError("cannot combine every %d minutes with a minute past the hour", n)
	}
	limited := p.dows != 0 || p.doms != 0 || p.months != 0 || p.window != nil
	days := " " + strings.Join([]string{setText(p.doms, 1, 31), setText(p.months, 1, 12), setText(p.dows, 0, 6)}, " ")
	var every time.Duration
	switch {
	case unit == "second":
		if d := time.Duration(n) * time.Second; d < models.MinEvery {
			return "", textError("every %s is too often: the shortest interval is %s", d, models.MinEvery)
		}
		every = time.Duration(n) * time.Second
	case unit == "minute" && 60%n == 0:
		hour := "*"
		if p.window != nil {
			// Minute steps stop before the window's end: 9 to 17 runs
			// 09:00 … 16:45.
			hour = rangeText(p.window[0], p.window[1]-1)
		}
		return step("*", n) + " " + hour + days, nil
	case unit == "minute":
		every = time.Duration(n) * time.Minute
	case unit == "hour" && 24%n == 0:
		minute := max(p.minute, 0)
		hour := "*"
		if p.window != nil {
			// Hour steps run at the window's end too: 9 to 17 runs at 17:00.
			hour = rangeText(p.window[0], p.window[1])
		}
		return strconv.Itoa(minute) + " " + step(hour, n) + days, nil
	default:
		every = time.Duration(n) * time.Hour
	}
	if limited || p.minute >= 0 {
		return "", textError("every %s cannot be limited to days, hours or a minute in cron: use an interval that divides the hour or the day", every)
	}
	return "@every " + durationText(every), nil
}

// step writes field ("*" or a range) every n: "*/15", "9-17/2"; n 1 is
// field itself.
func step(field string, n int) string {
	if n == 1 {
		return field
	}
	return field + "/" + strconv.Itoa(n)
}

// rangeText writes "9-16", or "9" for a single value.
func rangeText(a, b int) string {
	if a == b {
		return strconv.Itoa(a)
	}
	return fmt.Sprintf("%d-%d", a, b)
}

// setText writes a cron field from a bit set: "*" for none or all, runs of
// three or more as ranges ("1-5"), the rest as a list ("0,6").
func setText(bits uint64, lo, hi int) string {
	var vals []int
	for v := lo; v <= hi; v++ {
		if bits&(1<<uint(v)) > 0 {
			vals = append(vals, v)
		}
	}
	if len(vals) == 0 || len(vals) == hi-lo+1 {
		return "*"
	}
	var parts []string
	for i := 0; i < len(vals); {
		j := i
		for j+1 < len(vals) && vals[j+1] == vals[j]+1 {
			j++
		}
		if j-i >= 2 {
			parts = append(parts, rangeText(vals[i], vals[j]))
		} else {
			for k := i; k <= j; k++ {
				parts = append(parts, strconv.Itoa(vals[k]))
			}
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

// durationText writes d in its largest whole unit ("90s", "7m", "5h"), a
// form time.ParseDuration reads back.
func durationText(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return fmt.Sprintf("%ds", d/time.Second)
}
