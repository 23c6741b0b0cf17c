package nlschedule

import (
	"strconv"
)

// rangeRule reads "from 9am to 5pm" and "between 9 and 17".
func (p *parser) rangeRule() (int, error) {
	if p.w(0) != "from" && p.w(0) != "between" {
		return 0, nil
	}
	from, n, _, err := p.timeAt(1, true)
	if err != nil || n == 0 {
		return 0, err
	}
	k := 1 + n
	if !isTo(p.w(k)) && p.w(k) != "and" {
		return 0, nil
	}
	to, m, _, err := p.timeAt(k+1, true)
	if err != nil || m == 0 {
		return 0, err
	}
	return k + 1 + m, p.setWindow(from, to)
}

// timeRule reads a time of day ("9am", "18:30", "noon", "at 9"), or a
// window written without "from" ("9am-5pm").
func (p *parser) timeRule() (int, error) {
	c, n, guess, err := p.timeAt(0, p.mode == modeTime)
	if err != nil || n == 0 {
		return 0, err
	}
	if isTo(p.w(n)) {
		if to, m, _, err := p.timeAt(n+1, true); err != nil || m > 0 {
			if err != nil {
				return 0, err
			}
			return n + 1 + m, p.setWindow(c, to)
		}
	}
	if guess {
		p.assume(0.9)
	}
	p.times = append(p.times, c)
	p.mode, p.read = modeTime, true
	return n, nil
}

// timeAt reads a time of day k tokens ahead and returns it, how many
// tokens it used (0: none there), and whether the hour was a guess
// between morning and evening (a bare 1 to 11 is taken as 24-hour).
// bare lets a plain number be an hour.
func (p *parser) timeAt(k int, bare bool) (clock, int, bool, error) {
	w := p.w(k)
	switch w {
	case "noon", "midday":
		return clock{12, 0}, 1, false, nil
	case "midnight":
		return clock{0, 0}, 1, false, nil
	}
	m := timeRe.FindStringSubmatch(w)
	if m == nil {
		return clock{}, 0, false, nil
	}
	n, suffix := 1, m[3]
	if suffix == "" {
		switch next := p.w(k + 1); {
		case next == "am" || next == "pm":
			suffix, n = next, 2
		case next == "in" && p.w(k+2) == "the" && p.w(k+3) == "morning":
			suffix, n = "am", 4
		case next == "in" && p.w(k+2) == "the" && (p.w(k+3) == "afternoon" || p.w(k+3) == "evening"):
			suffix, n = "pm", 4
		case next == "at" && p.w(k+2) == "night":
			suffix, n = "pm", 3
		}
	}
	oclock := p.w(k+n) == "oclock"
	if oclock {
		n++
	}
	if m[2] == "" && suffix == "" && !oclock {
		// A plain number is an hour only where one is expected, and
		// not when it counts something ("at 15 minutes past the hour").
		if next := p.w(k + 1); !bare || unitWords[next] != "" || next == "past" || next == "after" || next == "times" {
			return clock{}, 0, false, nil
		}
	}
	h, _ := strconv.Atoi(m[1])
	mi := 0
	if m[2] != "" {
		mi, _ = strconv.Atoi(m[2])
	}
	shown := p.toks[p.i+k].raw
	if m[3] == "" && suffix != "" {
		shown += " " + suffix
	}
	bad := textError("%q is not a time of day", shown)
	if suffix != "" {
		if h < 1 || h > 12 || mi > 59 {
			return clock{}, 0, false, bad
		}
		h %= 12
		if suffix == "pm" {
			h += 12
		}
		return clock{h, mi}, n, false, nil
	}
	if h > 23 || mi > 59 {
		return clock{}, 0, false, bad
	}
	return clock{h, mi}, n, h >= 1 && h <= 11 && m[1][0] != '0', nil
}

// minuteRule reads a minute past the hour: ":15", "minute 15", "15 past
// the hour", "15 minutes past every hour".
func (p *parser) minuteRule() (int, error) {
	w := p.w(0)
	if m := minuteRe.FindStringSubmatch(w); m != nil {
		mi, _ := strconv.Atoi(m[1])
		return 1, p.setMinute(mi)
	}
	if w == "minute" {
		if mi, ok := number(p.w(1)); ok {
			return 2, p.setMinute(mi)
		}
		return 0, nil
	}
	mi, ok := number(w)
	if !ok {
		return 0, nil
	}
	k := 1
	if fullUnit(p.w(k)) == "minute" {
		k++
	}
	if p.w(k) != "past" && p.w(k) != "after" {
		return 0, nil
	}
	k++
	switch p.w(k) {
	case "the", "every", "each":
		k++
	}
	if p.w(k) != "hour" {
		return 0, nil
	}
	if err := p.setMinute(mi); err != nil {
		return 0, err
	}
	return k + 1, p.setInterval("hour", 1) // past the hour: every hour
}
