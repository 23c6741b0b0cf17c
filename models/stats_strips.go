package models

import (
	"fmt"
	"time"
)

// The dashboard's charts read the rollups too: a 24-hour status strip per
// job of the overview (HourlyStrips), a job's response times
// (ResponseSeries), and its daily uptime (JobStatsOf's dailyRuns, which
// already has each day's uptime and runs: about eight small queries for 90
// days, 1.7 ms at 10,000 jobs in BENCHMARKS.md, Stats, so the status page
// needs nothing lighter).

// What an hour of a strip shows.
const (
	HourSuccess = "success" // it had runs, and none failed
	HourFailure = "failure" // at least one run failed
	HourNoRuns  = "none"    // no runs
	HourPaused  = "paused"  // no runs, and the job was paused for some of it
	HourBefore  = "before"  // it ended before the job was created
)

// StripHours is how many hours a strip shows: the current one and the 23
// before it.
const StripHours = 24

// stripChunk bounds the job ids of one query (bind parameters are finite).
const stripChunk = 500

// HourCell is one hour of a job's strip.
type HourCell struct {
	Hour   time.Time // its start, in UTC
	Runs   int64
	Failed int64
	State  string // HourSuccess, HourFailure, HourNoRuns, HourPaused or HourBefore
}

// StripStart is the first hour of the strips read at now.
func StripStart(now time.Time) time.Time {
	return now.UTC().Truncate(time.Hour).Add(-(StripHours - 1) * time.Hour)
}

// HourlyStrips returns, for each of the jobs that exists, its last
// StripHours hours at now, oldest first. It reads the hourly buckets of
// every job at once (one query per stripChunk ids, through the job's
// index), their creation times and the pauses that overlap the strip:
// three small queries for a page of 50 jobs, however many jobs there are.
func (s *Store) HourlyStrips(jobIDs []string, now time.Time) (map[string][]HourCell, error) {
	from := StripStart(now)
	to := from.Add(StripHours * time.Hour)
	out := make(map[string][]HourCell, len(jobIDs))
	for len(jobIDs) > 0 {
		chunk := jobIDs[:min(len(jobIDs), stripChunk)]
		jobIDs = jobIDs[len(chunk):]
		if err := s.hourlyStrips(chunk, from, to, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Store) hourlyStrips(ids []string, from, to time.Time, out map[string][]HourCell) error {
	var jobs []struct {
		ID        string
		CreatedAt time.Time
	}
	if err := s.db.Raw(`SELECT id, created_at FROM jobs WHERE id IN ?`, ids).Scan(&jobs).Error; err != nil {
		return translate(err, "jobs of the strips")
	}
	created := make(map[string]time.Time, len(jobs))
	for _, j := range jobs {
		created[j.ID] = j.CreatedAt
		cells := make([]HourCell, StripHours)
		for i := range cells {
			cells[i] = HourCell{Hour: from.Add(time.Duration(i) * time.Hour), State: HourNoRuns}
		}
		out[j.ID] = cells
	}
	rows, err := s.db.Raw(`SELECT job_id, hour, success, failure, timeout, error FROM stats_hourly
		WHERE job_id IN ? AND hour >= ? AND hour < ?`, ids, from, to).Rows()
	if err != nil {
		return fmt.Errorf("read the strips' hourly stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var hour time.Time
		var c Counters
		if err := rows.Scan(&id, &hour, &c.Success, &c.Failure, &c.Timeout, &c.Error); err != nil {
			return fmt.Errorf("read the strips' hourly stats: %w", err)
		}
		i := int(hour.UTC().Sub(from) / time.Hour)
		if cells := out[id]; cells != nil && i >= 0 && i < StripHours {
			cells[i].Runs, cells[i].Failed = c.Runs(), c.Failed()
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read the strips' hourly stats: %w", err)
	}
	var pauses []Pause
	if err := s.db.Where("job_id IN ? AND paused_at < ? AND (resumed_at IS NULL OR resumed_at > ?)", ids, to, from).
		Find(&pauses).Error; err != nil {
		return translate(err, "pauses of the strips")
	}
	for id, cells := range out {
		if _, mine := created[id]; !mine {
			continue // filled by another chunk
		}
		for i := range cells {
			cells[i].State = hourState(&cells[i], created[id], id, pauses)
		}
	}
	return nil
}

// hourState is what cell of job id shows: its runs first; without runs,
// whether the job existed yet, then whether it was paused in the hour.
func hourState(cell *HourCell, created time.Time, id string, pauses []Pause) string {
	end := cell.Hour.Add(time.Hour)
	switch {
	case cell.Failed > 0:
		return HourFailure
	case cell.Runs > 0:
		return HourSuccess
	case !end.After(created):
		return HourBefore
	}
	for _, p := range pauses {
		if p.JobID == id && p.PausedAt.Before(end) && (p.ResumedAt == nil || p.ResumedAt.After(cell.Hour)) {
			return HourPaused
		}
	}
	return HourNoRuns
}

// SeriesPeriods are the periods of ResponseSeries.
var SeriesPeriods = []string{"24h", "7d", "30d"}

// SeriesPoint is one bucket of a job's response-time (or run-duration)
// series: [From, To), its runs, and the mean and 95th percentile of their
// durations (nil without durations: a gap in the chart).
type SeriesPoint struct {
	From  time.Time `json:"from"`
	To    time.Time `json:"to"`
	Runs  int64     `json:"runs"`
	AvgMs *int64    `json:"avgMs"`
	P95Ms *int64    `json:"p95Ms"`
}

// ResponseSeries returns job id's durations over period at now: "24h" in
// 24 hourly points (the current hour last), "7d" in 28 points of six hours
// (UTC), "30d" in 30 daily points in the job's time zone, today last. The
// first two read hourly buckets (kept for HourlyStatsKept), the last one
// the daily rows up to the compaction watermark and the hourly buckets
// after it, as the job's stats do (jobDays).
func (s *Store) ResponseSeries(id, period string, now time.Time) ([]SeriesPoint, error) {
	j, err := s.Job(id)
	if err != nil {
		return nil, err
	}
	var w statsWindow
	switch period {
	case "24h":
		w = bucketWindow(now.UTC().Truncate(time.Hour), time.Hour, 24)
	case "7d":
		w = bucketWindow(now.UTC().Truncate(6*time.Hour), 6*time.Hour, 28)
	case "30d":
		loc, err := LoadLocation(j.Timezone)
		if err != nil {
			return nil, fmt.Errorf("time zone of job %s: %w", id, err)
		}
		if w, err = window("30d", now, loc); err != nil {
			return nil, err
		}
	default:
		return nil, invalid("period", "must be one of 24h, 7d, 30d, not %q", period)
	}
	counters, err := s.jobDays(j, w)
	if err != nil {
		return nil, err
	}
	out := make([]SeriesPoint, len(w.days))
	for i, d := range w.days {
		c := &counters[i]
		out[i] = SeriesPoint{From: d.from, To: d.to, Runs: c.Runs(), AvgMs: avgDuration(c), P95Ms: c.Percentile(0.95)}
	}
	return out, nil
}

// bucketWindow is a window of n buckets of width step, the last starting
// at last, for jobDays to read from the hourly buckets alone.
func bucketWindow(last time.Time, step time.Duration, n int) statsWindow {
	from := last.Add(-time.Duration(n-1) * step)
	w := statsWindow{from: from, to: last.Add(step), loc: time.UTC, partial: true, days: make([]day, n)}
	for i := range w.days {
		a := from.Add(time.Duration(i) * step)
		w.days[i] = day{date: a.Format(time.DateTime), from: a, to: a.Add(step)}
	}
	return w
}
