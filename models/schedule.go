package models

import (
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
)

// MinEvery is the shortest interval an "@every" schedule may have.
const MinEvery = 10 * time.Second

// maxSearch bounds how far Next looks ahead for a matching cron tick: an
// expression such as "0 0 30 2 *" (30 February) never matches.
const maxSearch = 5 * 366 * 24 * time.Hour

// cronParser accepts the classic five fields and the @descriptors. "@every"
// is handled by ParseSchedule itself so that it can enforce MinEvery.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Schedule is a parsed job schedule bound to a time zone. It is the one place
// where schedules are understood: the API validates with it, and the checker
// and the heartbeat watchdog compute ticks with it.
type Schedule struct {
	expr  string
	every time.Duration      // > 0 for "@every <duration>"
	spec  *cron.SpecSchedule // for cron expressions and descriptors
	loc   *time.Location
}

// ParseSchedule parses expr (a 5-field cron expression, a descriptor such as
// "@hourly", or "@every <duration>") in the IANA time zone tz ("" means UTC).
func ParseSchedule(expr, tz string) (*Schedule, error) {
	loc, err := LoadLocation(tz)
	if err != nil {
		return nil, err
	}
	expr = strings.TrimSpace(expr)
	if expr == "" {
		return nil, invalid("schedule", "is required")
	}
	if strings.ContainsAny(expr, "\r\n\x00") {
		return nil, invalid("schedule", "must be a single line")
	}
	if rest, ok := strings.CutPrefix(expr, "@every "); ok {
		d, err := time.ParseDuration(strings.TrimSpace(rest))
		if err != nil {
			return nil, invalid("schedule", "@every needs a duration such as 30s, 5m or 1h30m")
		}
		if d < MinEvery {
			return nil, invalid("schedule", "@every interval must be at least %s", MinEvery)
		}
		return &Schedule{expr: expr, every: d, loc: loc}, nil
	}
	if strings.HasPrefix(expr, "CRON_TZ=") || strings.HasPrefix(expr, "TZ=") {
		return nil, invalid("schedule", "set the time zone with the timezone field, not a TZ= prefix")
	}
	if !strings.HasPrefix(expr, "@") && len(strings.Fields(expr)) != 5 {
		return nil, invalid("schedule", "must be a 5-field cron expression (minute hour day-of-month month day-of-week), a descriptor such as @hourly, or @every <duration>")
	}
	parsed, err := cronParser.Parse(sundayAsZero(expr))
	if err != nil {
		return nil, invalid("schedule", "invalid cron expression: %s", cronErrorText(err))
	}
	spec, ok := parsed.(*cron.SpecSchedule)
	if !ok {
		return nil, invalid("schedule", "unsupported schedule %q", expr)
	}
	s := &Schedule{expr: expr, spec: spec, loc: loc}
	if s.Next(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).IsZero() {
		return nil, invalid("schedule", "never matches a date")
	}
	return s, nil
}

// dowSevenRange matches a day-of-week range ending on 7 ("5-7").
var dowSevenRange = regexp.MustCompile(`^([0-7])-7$`)

// sundayAsZero rewrites a 7 in the day-of-week field of a 5-field expression
// to 0: crontab(5) accepts both for Sunday, robfig/cron only 0.
func sundayAsZero(expr string) string {
	f := strings.Fields(expr)
	if len(f) != 5 {
		return expr
	}
	parts := strings.Split(f[4], ",")
	for i, p := range parts {
		switch m := dowSevenRange.FindStringSubmatch(p); {
		case p == "7", m != nil && m[1] == "7":
			parts[i] = "0"
		case m != nil:
			parts[i] = m[1] + "-6,0"
		}
	}
	f[4] = strings.Join(parts, ",")
	return strings.Join(f, " ")
}

// cronErrorText trims robfig/cron's messages to something a user can act on.
func cronErrorText(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, ": "); i > 0 && strings.HasPrefix(msg, "failed to parse") {
		return msg[i+2:]
	}
	return msg
}

// LoadLocation resolves an IANA zone name; "" is UTC.
func LoadLocation(tz string) (*time.Location, error) {
	if tz == "" || tz == "UTC" {
		return time.UTC, nil
	}
	if strings.EqualFold(tz, "local") || strings.ContainsAny(tz, "\r\n\x00") {
		return nil, invalid("timezone", "unknown time zone %q", tz)
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, invalid("timezone", "unknown time zone %q (use an IANA name such as Europe/Berlin)", tz)
	}
	return loc, nil
}

// String returns the expression as given.
func (s *Schedule) String() string { return s.expr }

// Location returns the time zone the schedule is evaluated in.
func (s *Schedule) Location() *time.Location { return s.loc }

// Every returns the interval of an "@every" schedule and 0 for cron ones.
func (s *Schedule) Every() time.Duration { return s.every }

// Next returns the first tick strictly after t, in UTC, or the zero time if
// there is none within five years.
//
// Cron fields are matched against the wall clock of the schedule's zone, one
// minute at a time but skipping whole months, days and hours that cannot
// match. A wall time that does not exist (the hour skipped when clocks spring
// forward) maps to the instant Go's time.Date gives it, one hour later, so a
// 02:30 job still runs once on that day; a wall time that happens twice (the
// hour repeated when clocks fall back) runs only the first time, because the
// second instant's wall clock is not after the first run's.
func (s *Schedule) Next(t time.Time) time.Time {
	if s.every > 0 {
		return t.Add(s.every).UTC()
	}
	local := t.In(s.loc)
	w := time.Date(local.Year(), local.Month(), local.Day(), local.Hour(), local.Minute(), 0, 0, time.UTC).Add(time.Minute)
	end := w.Add(maxSearch)
	sp := s.spec
	for w.Before(end) {
		if sp.Month&(1<<uint(w.Month())) == 0 {
			w = time.Date(w.Year(), w.Month()+1, 1, 0, 0, 0, 0, time.UTC)
			continue
		}
		if !dayMatches(sp, w) {
			w = time.Date(w.Year(), w.Month(), w.Day()+1, 0, 0, 0, 0, time.UTC)
			continue
		}
		if sp.Hour&(1<<uint(w.Hour())) == 0 {
			w = w.Truncate(time.Hour).Add(time.Hour)
			continue
		}
		if sp.Minute&(1<<uint(w.Minute())) == 0 {
			w = w.Add(time.Minute)
			continue
		}
		abs := time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), 0, 0, s.loc)
		if lw := abs.In(s.loc); lw.Hour() != w.Hour() || lw.Minute() != w.Minute() {
			// The wall time does not exist (clocks sprang forward). Go's
			// time.Date may place it before the gap (01:30 EST for 02:30 in
			// New York); take the offset in force before the gap instead,
			// which lands after it (03:30 EDT), as documented above.
			_, off := time.Date(w.Year(), w.Month(), w.Day()-1, w.Hour(), w.Minute(), 0, 0, s.loc).Zone()
			abs = w.Add(-time.Duration(off) * time.Second)
		}
		abs = s.firstOccurrence(abs, t)
		if abs.After(t) {
			return abs.UTC()
		}
		w = w.Add(time.Minute)
	}
	return time.Time{}
}

// firstOccurrence returns the earliest instant after t whose wall clock in
// the schedule's zone reads the same as abs's. A wall time that happens twice
// (the hour repeated when clocks fall back) thus runs the first time: Go's
// time.Date picks the first occurrence west of Greenwich but the second one
// east of it (Berlin's 02:30 on the last Sunday of October).
func (s *Schedule) firstOccurrence(abs, t time.Time) time.Time {
	_, now := abs.In(s.loc).Zone()
	_, before := abs.Add(-24 * time.Hour).In(s.loc).Zone()
	if before <= now {
		return abs
	}
	earlier := abs.Add(-time.Duration(before-now) * time.Second)
	a, e := abs.In(s.loc), earlier.In(s.loc)
	if e.Day() == a.Day() && e.Hour() == a.Hour() && e.Minute() == a.Minute() && earlier.After(t) {
		return earlier
	}
	return abs
}

// NextN returns the next n ticks after t.
func (s *Schedule) NextN(t time.Time, n int) []time.Time {
	out := make([]time.Time, 0, n)
	for len(out) < n {
		t = s.Next(t)
		if t.IsZero() {
			break
		}
		out = append(out, t)
	}
	return out
}

// starBit marks a field written as "*" in robfig/cron's bit sets.
const starBit = 1 << 63

// dayMatches applies cron's day rule: when both day-of-month and day-of-week
// are restricted, either may match; otherwise both must.
func dayMatches(s *cron.SpecSchedule, w time.Time) bool {
	dom := s.Dom&(1<<uint(w.Day())) > 0
	dow := s.Dow&(1<<uint(w.Weekday())) > 0
	if s.Dom&starBit > 0 || s.Dow&starBit > 0 {
		return dom && dow
	}
	return dom || dow
}

// Describe returns a short English description of the schedule, such as
// "At 09:00, Monday through Friday (America/Los_Angeles)" (see describe.go).
func (s *Schedule) Describe() string {
	if s.every > 0 {
		return describeEvery(s.every)
	}
	return describeSpec(s.spec, s.loc)
}

// ScheduleCache holds parsed schedules by (expression, time zone): most
// jobs share a few, and the ping writer, the watchdog and every job read
// need one. It is safe for concurrent use; the zero value is empty and
// ready.
type ScheduleCache struct {
	mu sync.Mutex
	m  map[[2]string]*Schedule
}

// scheduleCacheMax bounds the cache; when full it is emptied.
const scheduleCacheMax = 10_000

// Get returns the parsed schedule of expr in tz, or nil when it does not
// parse (a stored job always has a valid one).
func (c *ScheduleCache) Get(expr, tz string) *Schedule {
	k := [2]string{expr, tz}
	c.mu.Lock()
	s, ok := c.m[k]
	c.mu.Unlock()
	if ok {
		return s
	}
	s, err := ParseSchedule(expr, tz)
	if err != nil {
		s = nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= scheduleCacheMax {
		c.m = map[[2]string]*Schedule{}
	}
	c.m[k] = s
	return s
}
