package nlschedule

import (
	"strconv"
	"strings"
)

// setInterval records "every n units"; a second, different one is an error.
func (p *parser) setInterval(unit string, n int) error {
	subDaily := func(u string) bool { return u == "second" || u == "minute" || u == "hour" }
	switch {
	case n < 1:
		return textError("an interval of %d %ss never runs", n, unit)
	case n > maxCount:
		return textError("an interval of %d %ss is too long", n, unit)
	case unit == "day" && n == 1 && subDaily(p.unit):
		// "every minute of every day": the day adds nothing.
	case p.unit == "day" && p.n == 1 && subDaily(unit):
		p.unit, p.n = unit, n
	case p.unit != "" && (p.unit != unit || p.n != n):
		return textError("names two intervals (%s and %s)", intervalText(p.n, p.unit), intervalText(n, unit))
	default:
		p.unit, p.n = unit, n
	}
	p.read, p.mode = true, modeNone
	return nil
}

// intervalText writes "every minute", "every 5 minutes".
func intervalText(n int, unit string) string {
	if n == 1 {
		return "every " + unit
	}
	return "every " + strconv.Itoa(n) + " " + unit + "s"
}

// setMinute records a minute past the hour.
func (p *parser) setMinute(m int) error {
	switch {
	case m > 59:
		return textError("there is no minute %d in an hour", m)
	case p.minute >= 0 && p.minute != m:
		return textError("names two minutes past the hour (%d and %d)", p.minute, m)
	}
	p.minute, p.read, p.mode = m, true, modeNone
	return nil
}

// setWindow records the hours of "from 9am to 5pm": whole hours, within
// one day.
func (p *parser) setWindow(from, to clock) error {
	switch {
	case from.m != 0 || to.m != 0:
		return textError("a time range takes whole hours (%02d:%02d to %02d:%02d)", from.h, from.m, to.h, to.m)
	case from.h >= to.h:
		return textError("the range %02d:00 to %02d:00 must end later the same day (write \"9am to 5pm\" or \"9 to 17\")", from.h, to.h)
	case p.window != nil:
		return textError("names two time ranges")
	}
	p.window, p.read, p.mode = &[2]int{from.h, to.h}, true, modeNone
	return nil
}

// addDom records a day of the month.
func (p *parser) addDom(d int) error {
	if d < 1 || d > 31 {
		return textError("there is no day %d in a month", d)
	}
	p.doms |= 1 << uint(d)
	p.read, p.mode = true, modeDom
	return nil
}

// addDows records days of the week.
func (p *parser) addDows(days ...int) {
	for _, d := range days {
		p.dows |= 1 << uint(d)
	}
	p.read, p.mode = true, modeNone
}

// number reads "15" or "fifteen".
func number(w string) (int, bool) {
	if n, ok := numberWords[w]; ok {
		return n, true
	}
	if !digitsRe.MatchString(w) {
		return 0, false
	}
	n, err := strconv.Atoi(w)
	return n, err == nil
}

// fullUnit is the unit a whole word names ("minutes", "hr"), but not the
// one-letter ones, which only follow a number ("15m").
func fullUnit(w string) string {
	if len(w) < 2 {
		return ""
	}
	return unitWords[w]
}

// dayName reads "monday", "mondays", "mon".
func dayName(w string) (int, bool) {
	if d, ok := dayWords[w]; ok {
		return d, true
	}
	d, ok := dayWords[strings.TrimSuffix(w, "s")]
	return d, ok && strings.HasSuffix(w, "s")
}

// isTo reads the word of a range.
func isTo(w string) bool {
	switch w {
	case "to", "through", "thru", "till", "until":
		return true
	}
	return false
}
