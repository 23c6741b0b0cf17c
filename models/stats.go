package models

import (
	"errors"
	"math"
	"time"
)

// Stats are read from the rollups (rollup.go) and, for uptime, from flips
// and pauses (uptime.go); never from raw runs, so they outlive the capped
// history.
//
// A period of days ("7d", "30d", "90d") is that many calendar days in the
// time zone asked for, today included, up to now: dailyRuns has exactly one
// entry per day. "24h" is the last 24 hours, counted from the start of the
// hour 24 hours ago; its dailyRuns are the dates it touches. Buckets are
// hourly in UTC, so in a zone whose offset is not whole hours a day's
// edges fall to the hour.

// StatsPeriods are the periods a stats request may ask for.
var StatsPeriods = []string{"24h", "7d", "30d", "90d"}

// DefaultStatsPeriod is the period when none is asked for.
const DefaultStatsPeriod = "7d"

// statsWindow is a period made concrete: its UTC range and its days.
type statsWindow struct {
	from, to time.Time
	days     []day
	loc      *time.Location
	// partial: the window starts inside its first day (24h), so whole-day
	// rows cannot serve it.
	partial bool
}

// day is one calendar day of a window, with its UTC range.
type day struct {
	date     string // YYYY-MM-DD in the window's zone
	from, to time.Time
}

// window makes period concrete at now in loc.
func window(period string, now time.Time, loc *time.Location) (statsWindow, error) {
	w := statsWindow{to: now, loc: loc}
	local := now.In(loc)
	switch period {
	case "24h":
		w.from = now.Add(-24 * time.Hour).Truncate(time.Hour)
		w.partial = true
	case "7d", "30d", "90d":
		n := map[string]int{"7d": 7, "30d": 30, "90d": 90}[period]
		w.from = time.Date(local.Year(), local.Month(), local.Day()-(n-1), 0, 0, 0, 0, loc)
	default:
		return w, invalid("period", "must be one of 24h, 7d, 30d, 90d")
	}
	first := w.from.In(loc)
	for d := time.Date(first.Year(), first.Month(), first.Day(), 0, 0, 0, 0, loc); d.Before(now) || (!w.partial && d.Equal(now)); d = time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, loc) {
		next := time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, loc)
		w.days = append(w.days, day{date: d.Format(time.DateOnly), from: maxTime(d, w.from), to: minTime(next, now)})
	}
	return w, nil
}

// DayStats is one day of dailyRuns.
type DayStats struct {
	Date          string `json:"date"`
	Success       int64  `json:"success"`
	Failure       int64  `json:"failure"`
	Total         int64  `json:"total"`
	AvgDurationMs *int64 `json:"avgDurationMs"`
}

// JobDayStats is one day of a job's dailyRuns: with its uptime (null when
// the job did not exist or was paused all day).
type JobDayStats struct {
	DayStats
	UptimePercent *float64 `json:"uptimePercent"`
}

// JobStats is GET /jobs/{id}/stats.
type JobStats struct {
	Period          string        `json:"period"`
	Timezone        string        `json:"timezone"`
	From            time.Time     `json:"from"`
	To              time.Time     `json:"to"`
	TotalRuns       int64         `json:"totalRuns"`
	SuccessRuns     int64         `json:"successRuns"`
	FailedRuns      int64         `json:"failedRuns"`
	SuccessRate     *float64      `json:"successRate"`
	AvgDurationMs   *int64        `json:"avgDurationMs"`
	P50DurationMs   *int64        `json:"p50DurationMs"`
	P95DurationMs   *int64        `json:"p95DurationMs"`
	UptimePercent   *float64      `json:"uptimePercent"`
	DowntimeSeconds int64         `json:"downtimeSeconds"`
	Flips           int64         `json:"flips"`
	LastRunAt       *time.Time    `json:"lastRunAt"`
	DailyRuns       []JobDayStats `json:"dailyRuns"`
}

// JobStatsOf computes the stats of job id over period, with days in tz (""
// means the job's own time zone).
func (s *Store) JobStatsOf(id, period, tz string) (*JobStats, error) {
	j, err := s.Job(id)
	if err != nil {
		return nil, err
	}
	if tz == "" {
		tz = j.Timezone
	}
	loc, err := LoadLocation(tz)
	if err != nil {
		return nil, invalid("tz", "unknown time zone %q", tz)
	}
	w, err := window(period, s.Now(), loc)
	if err != nil {
		return nil, err
	}
	perDay, err := s.jobDays(j, w)
	if err != nil {
		return nil, err
	}
	tl, flips, err := s.jobTimeline(j, w.from, w.to)
	if err != nil {
		return nil, err
	}
	st := &JobStats{Period: period, Timezone: loc.String(), From: w.from, To: w.to, Flips: flips, DailyRuns: make([]JobDayStats, len(w.days))}
	var total Counters
	for i, d := range w.days {
		c := perDay[i]
		total.Merge(&c)
		down, watched := tl.within(d.from, d.to)
		st.DailyRuns[i] = JobDayStats{dayStats(d.date, &c), uptimePercent(down, watched)}
	}
	down, watched := tl.within(w.from, w.to)
	st.UptimePercent, st.DowntimeSeconds = uptimePercent(down, watched), int64(math.Round(down))
	st.TotalRuns, st.SuccessRuns, st.FailedRuns = total.Runs(), total.Success, total.Failed()
	st.SuccessRate = successRate(&total)
	st.AvgDurationMs = avgDuration(&total)
	st.P50DurationMs, st.P95DurationMs = total.Percentile(0.50), total.Percentile(0.95)
	if st.LastRunAt, err = s.lastRunAt(j); err != nil {
		return nil, err
	}
	return st, nil
}

// dayStats is the dailyRuns entry of c.
func dayStats(date string, c *Counters) DayStats {
	return DayStats{Date: date, Success: c.Success, Failure: c.Failed(), Total: c.Runs(), AvgDurationMs: avgDuration(c)}
}

// successRate is the share of successful runs in percent, one decimal;
// nil without runs.
func successRate(c *Counters) *float64 {
	if c.Runs() == 0 {
		return nil
	}
	return round(100*float64(c.Success)/float64(c.Runs()), 1)
}

// avgDuration is the mean duration in whole milliseconds; nil without
// durations.
func avgDuration(c *Counters) *int64 {
	if c.DurCount == 0 {
		return nil
	}
	v := int64(math.Round(float64(c.DurSum) / float64(c.DurCount)))
	return &v
}

// Percentile estimates the q-quantile (0 < q ≤ 1) of the durations from
// the histogram, interpolating within the bucket it falls in and never
// past the longest duration; nil without durations.
func (c *Counters) Percentile(q float64) *int64 {
	var n int64
	for _, h := range c.Hist {
		n += h
	}
	if n == 0 {
		return nil
	}
	rank := math.Ceil(q * float64(n))
	var seen int64
	for i, h := range c.Hist {
		if h == 0 || float64(seen+h) < rank {
			seen += h
			continue
		}
		lo, hi := int64(0), c.DurMax
		if i > 0 {
			lo = DurationBuckets[i-1]
		}
		if i < len(DurationBuckets) {
			hi = min(DurationBuckets[i], c.DurMax)
		}
		v := lo + int64(math.Round(float64(hi-lo)*(rank-float64(seen))/float64(h)))
		v = min(max(v, lo), max(hi, lo), c.DurMax)
		return &v
	}
	return nil
}

func round(v float64, decimals int) *float64 {
	p := math.Pow(10, float64(decimals))
	r := math.Round(v*p) / p
	return &r
}

// lastRunAt is when j last ran: its last check, or its last success or
// failure ping (found through the newest pings, not a scan).
func (s *Store) lastRunAt(j *Job) (*time.Time, error) {
	if j.IsCheck() && !j.Heartbeat {
		return j.LastActivityAt, nil
	}
	var at []time.Time
	err := s.db.Raw(`SELECT created_at FROM pings WHERE job_id = ? AND kind IN ('success', 'fail') ORDER BY n DESC LIMIT 1`, j.ID).Scan(&at).Error
	if err != nil {
		return nil, translate(err, "last run of job "+j.ID)
	}
	if len(at) == 0 {
		return j.LastPingAt, nil // its pings are pruned: the last success then
	}
	t := at[0].UTC()
	return &t, nil
}

// GlobalStats is GET /stats: all jobs, or one project's.
type GlobalStats struct {
	Period        string           `json:"period"`
	ProjectID     *string          `json:"projectId"`
	TotalJobs     int64            `json:"totalJobs"`
	ActiveJobs    int64            `json:"activeJobs"`
	PausedJobs    int64            `json:"pausedJobs"`
	JobsByStatus  map[string]int64 `json:"jobsByStatus"`
	RunsInPeriod  int64            `json:"runsInPeriod"`
	SuccessRuns   int64            `json:"successRuns"`
	FailedRuns    int64            `json:"failedRuns"`
	SuccessRate   *float64         `json:"successRate"`
	AvgDurationMs *int64           `json:"avgDurationMs"`
	P95DurationMs *int64           `json:"p95DurationMs"`
	DailyRuns     []DayStats       `json:"dailyRuns"`
}

// GlobalStatsOf computes the stats of every job, or of the project's
// (projectID not ""), over period, with days in UTC.
func (s *Store) GlobalStatsOf(period, projectID string) (*GlobalStats, error) {
	w, err := window(period, s.Now(), time.UTC)
	if err != nil {
		return nil, err
	}
	st := &GlobalStats{Period: period, DailyRuns: make([]DayStats, len(w.days))}
	if projectID != "" {
		if _, err := s.Project(projectID); err != nil {
			if errors.Is(err, ErrNotFound) {
				return nil, invalid("projectId", "project %q does not exist", projectID)
			}
			return nil, err
		}
		st.ProjectID = &projectID
	}
	// Pausing a job sets its status to paused, so paused jobs are that
	// status.
	if st.JobsByStatus, err = s.JobStatusCounts(projectID); err != nil {
		return nil, err
	}
	for status, n := range st.JobsByStatus {
		st.TotalJobs += n
		if status == StatusPaused {
			st.PausedJobs += n
		} else {
			st.ActiveJobs += n
		}
	}
	hours, err := s.projectHours(projectID, w.from, w.to)
	if err != nil {
		return nil, err
	}
	perDay := spreadOverDays(hours, w)
	var total Counters
	for i, d := range w.days {
		total.Merge(&perDay[i])
		st.DailyRuns[i] = dayStats(d.date, &perDay[i])
	}
	st.RunsInPeriod, st.SuccessRuns, st.FailedRuns = total.Runs(), total.Success, total.Failed()
	st.SuccessRate, st.AvgDurationMs, st.P95DurationMs = successRate(&total), avgDuration(&total), total.Percentile(0.95)
	return st, nil
}

// ParseStatsPeriod checks a period parameter ("" is the default).
func ParseStatsPeriod(p string) (string, error) {
	if p == "" {
		return DefaultStatsPeriod, nil
	}
	for _, ok := range StatsPeriods {
		if p == ok {
			return p, nil
		}
	}
	return "", invalid("period", "must be one of 24h, 7d, 30d, 90d, not %q", p)
}
