package models

import (
	"database/sql"
	"fmt"
	"time"
)

// hourRow is one hourly bucket as read.
type hourRow struct {
	hour time.Time
	c    Counters
}

// scanHours reads rows of (hour, counters), and closes them.
func scanHours(rows *sql.Rows) ([]hourRow, error) {
	defer rows.Close()
	var out []hourRow
	for rows.Next() {
		var r hourRow
		if err := rows.Scan(append([]any{&r.hour}, r.c.dest()...)...); err != nil {
			return nil, fmt.Errorf("read bucket: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read buckets: %w", err)
	}
	return out, nil
}

// spreadOverDays adds each hourly bucket to the day of w it starts in
// (buckets outside w's days are left out).
func spreadOverDays(hours []hourRow, w statsWindow) []Counters {
	out := make([]Counters, len(w.days))
	i := 0
	for _, h := range hours {
		for i < len(w.days) && !h.hour.Before(w.days[i].to) {
			i++
		}
		if i == len(w.days) {
			break
		}
		if h.hour.Before(w.days[i].from.Truncate(time.Hour)) {
			continue
		}
		out[i].Merge(&h.c)
	}
	return out
}

// jobDays returns the counters of each day of w for job j: a day
// compacted in w's time zone from stats_daily, any other from the hourly
// buckets, and a day whose hourly buckets are gone (kept for a shorter time)
// from stats_daily even if it was compacted in another zone (the job's
// zone changed, or ?tz= asked for another).
func (s *Store) jobDays(j *Job, w statsWindow) ([]Counters, error) {
	rows, err := s.db.Raw(`SELECT hour, `+counterList+` FROM stats_hourly WHERE job_id = ? AND hour >= ? AND hour < ? ORDER BY hour`,
		j.ID, w.from.UTC().Truncate(time.Hour), w.to.UTC()).Rows()
	if err != nil {
		return nil, fmt.Errorf("read hourly stats of job %s: %w", j.ID, err)
	}
	hours, err := scanHours(rows)
	if err != nil {
		return nil, err
	}
	out := spreadOverDays(hours, w)
	if len(w.days) < 2 {
		return out, nil // a 24-hour window reads hourly buckets only
	}
	hasHours := make([]bool, len(w.days))
	di := 0
	for _, h := range hours {
		for di < len(w.days) && !h.hour.Before(w.days[di].to) {
			di++
		}
		if di < len(w.days) {
			hasHours[di] = true
		}
	}
	drows, err := s.db.Raw(`SELECT day, timezone, `+counterList+` FROM stats_daily WHERE job_id = ? AND day >= ? AND day <= ?`,
		j.ID, w.days[0].date, w.days[len(w.days)-1].date).Rows()
	if err != nil {
		return nil, fmt.Errorf("read daily stats of job %s: %w", j.ID, err)
	}
	defer drows.Close()
	index := make(map[string]int, len(w.days))
	for i, d := range w.days {
		index[d.date] = i
	}
	zone := w.loc.String()
	for drows.Next() {
		var date, tz string
		var c Counters
		if err := drows.Scan(append([]any{&date, &tz}, c.dest()...)...); err != nil {
			return nil, fmt.Errorf("read daily stats: %w", err)
		}
		i, ok := index[date]
		if !ok || (tz != zone && hasHours[i]) {
			continue
		}
		out[i] = c
	}
	if err := drows.Err(); err != nil {
		return nil, fmt.Errorf("read daily stats: %w", err)
	}
	return out, nil
}

// projectHours returns the hourly buckets in [from, to) summed over every
// project, or of one (projectID not "").
func (s *Store) projectHours(projectID string, from, to time.Time) ([]hourRow, error) {
	sums := ""
	for _, c := range counterColumns {
		fn := "sum"
		if c.Name == "dur_max" {
			fn = "max"
		}
		sums += fmt.Sprintf(", %s(%s)", fn, c.Name)
	}
	q := `SELECT hour` + sums + ` FROM project_stats_hourly WHERE hour >= ? AND hour < ?`
	args := []any{from.UTC().Truncate(time.Hour), to.UTC()}
	if projectID != "" {
		q += ` AND project_id = ?`
		args = append(args, projectID)
	}
	rows, err := s.db.Raw(q+` GROUP BY hour ORDER BY hour`, args...).Rows()
	if err != nil {
		return nil, fmt.Errorf("read project stats: %w", err)
	}
	return scanHours(rows)
}
