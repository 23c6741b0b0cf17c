package models

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// The describer reads the parsed bit sets rather than the expression's text,
// so every expression that parses gets a description, and spellings that
// mean the same thing ("1-5", "MON-FRI", "@daily", "0 0 * * *") read the
// same. It writes sentences such as "At 09:00, Monday through Friday
// (America/Los_Angeles)", "Every 15 minutes" and "At 00:00 on day 1 of the
// month"; the zone is named unless it is UTC, and never for "@every", whose
// ticks do not depend on it.

var weekdayNames = []string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}

// mondayFirst orders days of the week for reading: weekends come last.
var mondayFirst = []int{1, 2, 3, 4, 5, 6, 0}

// describeEvery describes an "@every" interval in its largest whole unit:
// "Every 30 seconds", "Every 90 minutes", "Every hour".
func describeEvery(d time.Duration) string {
	for _, u := range []struct {
		d    time.Duration
		name string
	}{{time.Hour, "hour"}, {time.Minute, "minute"}, {time.Second, "second"}} {
		if d%u.d == 0 {
			return "Every " + count(int(d/u.d), u.name)
		}
	}
	return "Every " + d.String()
}

// describeSpec describes a cron schedule, in loc unless loc is UTC.
func describeSpec(sp *cron.SpecSchedule, loc *time.Location) string {
	mins, hours := bitsIn(sp.Minute, 0, 59), bitsIn(sp.Hour, 0, 23)
	doms, months, dows := bitsIn(sp.Dom, 1, 31), bitsIn(sp.Month, 1, 12), bitsIn(sp.Dow, 0, 6)
	when, isTimes := describeTimes(mins, hours)
	days := describeDays(doms, dows, sp.Dom&starBit > 0 || sp.Dow&starBit > 0)
	if days == "" && isTimes {
		days = ", every day"
	}
	out := when + days
	if len(months) < 12 {
		out += ", " + describeMonths(months)
	}
	if loc != time.UTC {
		out += " (" + loc.String() + ")"
	}
	return out
}

// describeTimes describes the minute and hour fields; isTimes tells whether
// it named times of day ("At 09:00 and 17:00").
func describeTimes(mins, hours []int) (string, bool) {
	minStep, hourStep := stepOf(mins, 0, 59), stepOf(hours, 0, 23)
	var lead string // the minutes, when they are not single times of day
	switch {
	case minStep == 1:
		lead = "Every minute"
	case minStep > 1:
		lead = "Every " + count(minStep, "minute")
	case len(mins) == 1:
		lead = "At minute " + strconv.Itoa(mins[0])
	default:
		lead = "At minutes " + joinAnd(itoas(mins))
	}
	switch {
	case hourStep == 1 && minStep > 0:
		return lead, false
	case hourStep == 1 && len(mins) == 1 && mins[0] == 0:
		return "Every hour", false
	case hourStep == 1:
		return "Every hour at " + strings.TrimPrefix(lead, "At "), false
	case hourStep > 1 && len(mins) == 1 && mins[0] == 0:
		return "Every " + count(hourStep, "hour"), false
	case hourStep > 1 && minStep == 0:
		return "Every " + count(hourStep, "hour") + " at " + strings.TrimPrefix(lead, "At "), false
	case hourStep > 1:
		return lead + ", in every " + ordinal(hourStep) + " hour", false
	case len(mins) == 1 && len(hours) >= 3 && len(ranges(hours, 0, 23)) == 1:
		return fmt.Sprintf("Every hour from %02d:%02d to %02d:%02d", hours[0], mins[0], hours[len(hours)-1], mins[0]), false
	case len(mins)*len(hours) <= 8 && (minStep == 0 || len(hours) == 1):
		var times []string
		for _, h := range hours {
			for _, m := range mins {
				times = append(times, fmt.Sprintf("%02d:%02d", h, m))
			}
		}
		return "At " + joinAnd(times), true
	}
	if r := ranges(hours, 0, 23); len(r) == 1 {
		return fmt.Sprintf("%s, between %02d:00 and %02d:59", lead, r[0][0], r[0][1]), false
	}
	return lead + ", in hours " + joinAnd(itoas(hours)), false
}

// describeDays describes the day-of-month and day-of-week fields. With
// either written as "*" both must match (and the "*" one always does);
// otherwise either may, as cron has it.
func describeDays(doms, dows []int, both bool) string {
	domText, dowText := "", ""
	if len(doms) < 31 {
		domText = " on " + describeDoms(doms)
	}
	if len(dows) < 7 {
		dowText = describeDows(dows)
	}
	switch {
	case both:
		return domText + dowText
	case domText == "" || dowText == "":
		return "" // one of them matches every day
	default:
		return domText + " or" + strings.TrimPrefix(dowText, ",")
	}
}

func describeDoms(doms []int) string {
	if k := stepOf(doms, 1, 31); k > 1 {
		return "every " + ordinal(k) + " day of the month"
	}
	if len(doms) == 1 {
		return "day " + strconv.Itoa(doms[0]) + " of the month"
	}
	var parts []string
	for _, r := range ranges(doms, 1, 31) {
		parts = append(parts, rangeText(r, strconv.Itoa))
	}
	return "days " + joinAnd(parts) + " of the month"
}

// describeDows reads days Monday first: ", Monday through Friday" for one
// run of three or more days, " on Monday and Thursday" otherwise.
func describeDows(dows []int) string {
	set := map[int]bool{}
	for _, d := range dows {
		set[d] = true
	}
	var runs [][2]int // runs of consecutive days, as indexes into mondayFirst
	for i, d := range mondayFirst {
		switch {
		case !set[d]:
		case len(runs) > 0 && runs[len(runs)-1][1] == i-1:
			runs[len(runs)-1][1] = i
		default:
			runs = append(runs, [2]int{i, i})
		}
	}
	name := func(i int) string { return weekdayNames[mondayFirst[i]] }
	if len(runs) == 1 && runs[0][1]-runs[0][0] >= 2 {
		return ", " + rangeText(runs[0], name)
	}
	var parts []string
	for _, r := range runs {
		parts = append(parts, rangeText(r, name))
	}
	return " on " + joinAnd(parts)
}

func describeMonths(months []int) string {
	name := func(m int) string { return time.Month(m).String() }
	r := ranges(months, 1, 12)
	if len(r) == 1 && r[0][0] != r[0][1] {
		return rangeText(r[0], name)
	}
	var parts []string
	for _, m := range months {
		parts = append(parts, name(m))
	}
	return "in " + joinAnd(parts)
}

// bitsIn lists the values lo..hi set in a robfig/cron bit set.
func bitsIn(bits uint64, lo, hi int) []int {
	var out []int
	for v := lo; v <= hi; v++ {
		if bits&(1<<uint(v)) > 0 {
			out = append(out, v)
		}
	}
	return out
}

// stepOf returns k when vals are lo, lo+k, lo+2k … up to the last one that
// fits below hi (1 for every value), and 0 otherwise.
func stepOf(vals []int, lo, hi int) int {
	if len(vals) < 2 || vals[0] != lo {
		return 0
	}
	k := vals[1] - vals[0]
	for i, v := range vals {
		if v != lo+i*k {
			return 0
		}
	}
	if vals[len(vals)-1]+k <= hi {
		return 0
	}
	return k
}

// ranges groups sorted values into runs of consecutive ones.
func ranges(vals []int, lo, hi int) [][2]int {
	var out [][2]int
	for _, v := range vals {
		if v < lo || v > hi {
			continue
		}
		if n := len(out); n > 0 && out[n-1][1] == v-1 {
			out[n-1][1] = v
		} else {
			out = append(out, [2]int{v, v})
		}
	}
	return out
}

// rangeText writes a run as "a", "a and b" or "a through c".
func rangeText(r [2]int, name func(int) string) string {
	switch r[1] - r[0] {
	case 0:
		return name(r[0])
	case 1:
		return name(r[0]) + " and " + name(r[1])
	default:
		return name(r[0]) + " through " + name(r[1])
	}
}

// joinAnd joins "a", "a and b", "a, b and c".
func joinAnd(parts []string) string {
	if len(parts) <= 1 {
		return strings.Join(parts, "")
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

func itoas(vals []int) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = strconv.Itoa(v)
	}
	return out
}

// count writes "minute" for 1 and "15 minutes" otherwise.
func count(n int, unit string) string {
	if n == 1 {
		return unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// ordinal writes 2nd, 3rd, 11th, 21st.
func ordinal(n int) string {
	suffix := "th"
	if n%100 < 11 || n%100 > 13 {
		switch n % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return strconv.Itoa(n) + suffix
}
