package nlschedule

import (
	"regexp"
	"strconv"
	"strings"
)

// What a bare number means depends on what came before: after "at" it is
// an hour ("at 9 and 17"), after "the" or a month a day of the month ("on
// the 1st and 15", "january 15").
const (
	modeNone = iota
	modeTime
	modeDom
)

// maxCount bounds the numbers of an interval, so that durations cannot
// overflow.
const maxCount = 10_000

// clock is a time of day.
type clock struct{ h, m int }

// parser reads tokens, one rule at a time, into what the schedule says.
type parser struct {
	toks []token
	i    int
	mode int
	read bool // something of a schedule was read (a zone alone is not)

	unit   string // "second" … "year" for an interval, "" for none
	n      int    // the interval's count
	other  bool   // "every other" waits for its unit
	times  []clock
	minute int     // minute past the hour; -1 for none
	window *[2]int // "from 9 to 17", whole hours
	twice  bool    // "twice a day"
	dows   uint64  // bit sets, as in cron: Sunday is bit 0, day 1 bit 1,
	doms   uint64  // January bit 1
	months uint64
	zone   string
	conf   float64
}

var (
	timeRe    = regexp.MustCompile(`^(\d{1,2})(?::(\d{2}))?(am|pm)?$`)
	minuteRe  = regexp.MustCompile(`^:(\d{2})$`)
	ordinalRe = regexp.MustCompile(`^(\d{1,2})(st|nd|rd|th)$`)
	digitsRe  = regexp.MustCompile(`^\d{1,9}$`)
)

// parse reads every token or fails naming the first it cannot read.
func (p *parser) parse() error {
	for p.i < len(p.toks) {
		n, err := p.step()
		if err != nil {
			return err
		}
		if n == 0 {
			return unreadable(p.toks[p.i])
		}
		p.i += n
	}
	if p.other {
		return textError(`"other" needs a unit, as in "every other day"`)
	}
	if !p.read {
		var words []string
		for _, t := range p.toks {
			words = append(words, t.raw)
		}
		return textError(`%q says no schedule; try "every 15 minutes" or "every weekday at 9am"`, strings.Join(words, " "))
	}
	return nil
}

// w returns the word k tokens ahead (or behind), "" past either end.
func (p *parser) w(k int) string {
	if j := p.i + k; j >= 0 && j < len(p.toks) {
		return p.toks[j].word
	}
	return ""
}

// assume lowers the confidence for a guess.
func (p *parser) assume(f float64) { p.conf *= f }

// step applies the first rule that reads the current token and returns how
// many tokens it used (0: none could).
func (p *parser) step() (int, error) {
	w := p.w(0)
	if p.other && fullUnit(w) == "" {
		return 0, textError(`"every other" needs a unit, as in "every other day"`)
	}
	if n, err := p.zoneRule(); n > 0 || err != nil {
		return n, err
	}
	switch {
	case w == "at":
		p.mode = modeTime
		return 1, nil
	case w == "the":
		p.mode = modeDom
		return 1, nil
	case w == "on" && p.w(1) == "the" && p.w(2) == "hour":
		return 3, p.setMinute(0)
	case w == "on" && p.w(1) == "the" && p.w(2) == "half" && p.w(3) == "hour":
		return 4, p.setMinute(30)
	case w == "and" || w == "&":
		return 1, nil
	case fillers[w]:
		p.mode = modeNone
		return 1, nil
	case w == "other":
		p.other = true
		return 1, nil
	case w == "last":
		return 0, textError(`cannot read "last": cron has no last day of the month or last weekday`)
	}
	for _, rule := range []func() (int, error){
		p.countRule, p.fractionRule, p.rangeRule, p.timeRule, p.minuteRule,
		p.intervalRule, p.ordinalRule, p.domRule, p.dayRule, p.monthRule, p.unitRule,
	} {
		if n, err := rule(); n > 0 || err != nil {
			return n, err
		}
	}
	return 0, nil
}

// zoneRule reads an IANA name, a zone word or a city, and the "time" or
// "time zone" after it.
func (p *parser) zoneRule() (int, error) {
	zone, n := p.toks[p.i].zone, 0
	if zone != "" {
		n = 1
	}
	for k := 3; k >= 1 && n == 0; k-- {
		if p.i+k > len(p.toks) {
			continue
		}
		var words []string
		for _, t := range p.toks[p.i : p.i+k] {
			words = append(words, t.word)
		}
		phrase := strings.Join(words, " ")
		if z, ok := zoneWords[phrase]; ok {
			zone, n = z, k
			if ambiguousZones[phrase] {
				p.assume(0.85)
			}
		}
	}
	if n == 0 {
		return 0, nil
	}
	for zoneTail[p.w(n)] {
		n++
	}
	if p.zone != "" && p.zone != zone {
		return 0, textError("names two time zones (%s and %s)", p.zone, zone)
	}
	p.zone, p.mode = zone, modeNone
	return n, nil
}

// countRule reads "once a day", "twice an hour", "4 times per hour",
// "twice daily".
func (p *parser) countRule() (int, error) {
	count, k := 0, 0
	switch w := p.w(0); {
	case w == "once":
		count, k = 1, 1
	case w == "twice":
		count, k = 2, 1
	case p.w(1) == "times":
		if c, ok := number(w); ok {
			count, k = c, 2 // 0 stays "no count": "0 times a day" is unreadable
		}
	}
	if count == 0 {
		return 0, nil
	}
	switch p.w(k) {
	case "a", "an", "per", "every", "each":
		k++
	}
	unit := fullUnit(p.w(k))
	if a, ok := adverbs[p.w(k)]; ok && a.n == 1 {
		unit = a.unit
	}
	if unit == "" {
		return 0, nil
	}
	phrase := strings.Join([]string{p.toks[p.i].raw, p.w(k - 1), p.w(k)}, " ")
	return k + 1, p.perUnit(count, unit, phrase)
}

// perUnit turns "count times a unit" into an interval. Twice a day is
// 09:00 and 21:00 (see the package doc); other counts must divide the unit
// evenly.
func (p *parser) perUnit(count int, unit, phrase string) error {
	switch {
	case count == 1:
		return p.setInterval(unit, 1)
	case unit == "day" && count == 2:
		p.twice = true
		return p.setInterval("day", 1)
	case unit == "day" && 24%count == 0:
		p.assume(0.8)
		return p.setInterval("hour", 24/count)
	case unit == "hour" && 60%count == 0:
		return p.setInterval("minute", 60/count)
	case unit == "minute" && 60%count == 0:
		return p.setInterval("second", 60/count)
	}
	return textError("cannot read %q: name the times or the days instead", phrase)
}

// fractionRule reads "half an hour", "quarter hour", "half-hourly".
func (p *parser) fractionRule() (int, error) {
	mins := map[string]int{"half": 30, "quarter": 15}[p.w(0)]
	if mins == 0 {
		return 0, nil
	}
	k := 1
	if p.w(k) == "of" {
		k++
	}
	if p.w(k) == "an" {
		k++
	}
	if p.w(k) != "hour" && p.w(k) != "hourly" {
		return 0, nil
	}
	return k + 1, p.setInterval("minute", mins)
}

// intervalRule reads "15 minutes", "2 hours", "30s", "every 3 days".
func (p *parser) intervalRule() (int, error) {
	n, ok := number(p.w(0))
	unit := unitWords[p.w(1)]
	if !ok || unit == "" {
		return 0, nil
	}
	return 2, p.setInterval(unit, n)
}

// ordinalRule reads "1st", "the 15th", "first day of every month", and
// "every 2nd day" (an interval).
func (p *parser) ordinalRule() (int, error) {
	d, ok := ordinalWords[p.w(0)]
	if m := ordinalRe.FindStringSubmatch(p.w(0)); m != nil {
		d, _ = strconv.Atoi(m[1])
		ok = true
	}
	_, beforeDay := dayName(p.w(1))
	if !ok || p.w(0) == "second" && !beforeDay && p.w(1) != "day" && p.w(1) != "of" && fullUnit(p.w(1)) == "" {
		return 0, nil // "every second" is the unit
	}
	if beforeDay {
		return 0, textError("cannot read %q: cron has no first, second … weekday of the month", p.toks[p.i].raw+" "+p.toks[p.i+1].raw)
	}
	if prev := p.w(-1); (prev == "every" || prev == "each") && fullUnit(p.w(1)) != "" {
		return 2, p.setInterval(fullUnit(p.w(1)), d)
	}
	n := 1
	if p.w(1) == "day" {
		n = 2
	}
	return n, p.addDom(d)
}

// domRule reads a bare number as a day of the month: "day 15", "on the
// 15", "january 15", "15 january".
func (p *parser) domRule() (int, error) {
	w := p.w(0)
	if (w == "day" || w == "days") && digitsRe.MatchString(p.w(1)) {
		p.mode = modeDom
		return 1, nil
	}
	d, ok := number(w)
	if !ok {
		return 0, nil
	}
	if _, month := monthWords[p.w(1)]; p.mode != modeDom && !month {
		return 0, nil
	}
	return 1, p.addDom(d)
}

// dayRule reads days of the week, sets of them and ranges: "mondays",
// "weekdays", "business days", "mon-fri", "monday through friday".
func (p *parser) dayRule() (int, error) {
	w := p.w(0)
	if set, ok := daySetWords[strings.TrimSuffix(w, "s")]; ok {
		p.addDows(set...)
		return 1, nil
	}
	if (w == "business" || w == "working") && (p.w(1) == "day" || p.w(1) == "days") {
		p.addDows(1, 2, 3, 4, 5)
		return 2, nil
	}
	from, ok := dayName(w)
	if !ok {
		return 0, nil
	}
	if to, ok := dayName(p.w(2)); ok && isTo(p.w(1)) {
		for d := from; ; d = (d + 1) % 7 {
			p.addDows(d)
			if d == to {
				break
			}
		}
		return 3, nil
	}
	p.addDows(from)
	return 1, nil
}

// monthRule reads month names and ranges of them: "in january", "jan-mar".
func (p *parser) monthRule() (int, error) {
	from, ok := monthWords[p.w(0)]
	if !ok {
		return 0, nil
	}
	n := 1
	to := from
	if t, ok := monthWords[p.w(2)]; ok && isTo(p.w(1)) {
		if t < from {
			return 0, textError("the months %s to %s run backwards", p.toks[p.i].raw, p.toks[p.i+2].raw)
		}
		to, n = t, 3
	}
	for m := from; m <= to; m++ {
		p.months |= 1 << uint(m)
	}
	p.read, p.mode = true, modeDom
	return n, nil
}

// unitRule reads a unit alone ("every hour", "every other day") and the
// one-word intervals ("hourly", "weekly", "quarterly").
func (p *parser) unitRule() (int, error) {
	if a, ok := adverbs[p.w(0)]; ok {
		return 1, p.setInterval(a.unit, a.n)
	}
	unit := fullUnit(p.w(0))
	if unit == "" {
		return 0, nil
	}
	n := 1
	if p.other {
		n, p.other = 2, false
	}
	return 1, p.setInterval(unit, n)
}
