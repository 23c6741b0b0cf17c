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

// jobDays returns the counters of each day of w for job j.
//
// In the job's own zone, the days up to the zone's compaction watermark
// (stats_compaction) come from stats_daily (a day without a row had no
// runs) and only the later ones from the hourly buckets: a 90-day read is
// at most 90 daily rows and a day or two of hourly ones. In another zone
// (?tz=) the hourly buckets are read where they are kept (HourlyStatsKept)
// and the job's own days stand in for older ones.
func (s *Store) jobDays(j *Job, w statsWindow) ([]Counters, error) {
	out := make([]Counters, len(w.days))
	if len(w.days) == 0 {
		return out, nil
	}
	zone := w.loc.String()
	own := false
	if loc, err := LoadLocation(j.Timezone); err == nil && loc.String() == zone {
		own = true
	}
	compacted := -1 // the last day of w that compaction has done
	if own && !w.partial {
		var last []string
		if err := s.db.Raw(`SELECT day FROM stats_compaction WHERE timezone = ?`, zone).Scan(&last).Error; err != nil {
			return nil, translate(err, "last compacted day")
		}
		for i, d := range w.days {
			if len(last) == 1 && d.date <= last[0] {
				compacted = i
			}
		}
	}
	hourlyFrom := w.from
	if compacted >= 0 {
		hourlyFrom = w.days[compacted].to
	}
	rows, err := s.db.Raw(`SELECT hour, `+counterList+` FROM stats_hourly WHERE job_id = ? AND hour >= ? AND hour < ? ORDER BY hour`,
		j.ID, hourlyFrom.UTC().Truncate(time.Hour), w.to.UTC()).Rows()
	if err != nil {
		return nil, fmt.Errorf("read hourly stats of job %s: %w", j.ID, err)
	}
	hours, err := scanHours(rows)
	if err != nil {
		return nil, err
	}
	byHour := spreadOverDays(hours, w)
	hasHours := make([]bool, len(w.days))
	for i := range byHour {
		hasHours[i] = byHour[i].Runs() > 0
		if i > compacted {
			out[i] = byHour[i]
		}
	}
	if w.partial {
		return out, nil // the last 24 hours read hourly buckets only
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
	for drows.Next() {
		var date, tz string
		var c Counters
		if err := drows.Scan(append([]any{&date, &tz}, c.dest()...)...); err != nil {
			return nil, fmt.Errorf("read daily stats: %w", err)
		}
		i, ok := index[date]
		switch {
		case !ok:
		case i <= compacted: // compacted in this zone (or, if the job moved zones, the nearest there is)
			out[i] = c
		case !own && !hasHours[i]: // another zone, and the hourly buckets are gone
			out[i] = c
		}
	}
	if err := drows.Err(); err != nil {
		return nil, fmt.Errorf("read daily stats: %w", err)
	}
	return out, nil
}

// projectHours returns the hourly buckets in [from, to) summed over every
// project, or of one (projectID not "").
func (s *Store) projectHours(projectID string, from, to time.Time) ([]hourRow, error) {
	q := `SELECT hour, ` + counterSums("") + ` FROM project_stats_hourly WHERE hour >= ? AND hour < ?`
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
