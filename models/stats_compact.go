package models

import (
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Compaction turns a job's finished days of hourly buckets into one daily
// row in the job's time zone (stats_daily), so that a 90-day read is 90
// rows, not 2,160, and the hourly rows can go after HourlyStatsKept. It is
// idempotent: a day already compacted is left alone (ON CONFLICT DO
// NOTHING), so two processes compacting at once store each day once.

// HourlyStatsKept is how long hourly job buckets are kept: long enough
// for a 7-day period in any time zone (?tz=) to be read from them.
const HourlyStatsKept = 8 * 24 * time.Hour

// compactGrace is how long after a day's end its buckets are taken as
// final: a batch committed at midnight carries the times it was received.
const compactGrace = time.Hour

// maxCompactDays bounds the days one CompactStats call compacts per zone.
const maxCompactDays = 120

// counterSums aggregates counterColumns (of table alias prefix, "" for
// none) over a group of buckets: sums, and the maximum of dur_max.
func counterSums(prefix string) string {
	parts := make([]string, len(counterColumns))
	for i, c := range counterColumns {
		fn := "sum"
		if c.Name == "dur_max" {
			fn = "max"
		}
		parts[i] = fmt.Sprintf("%s(%s%s)", fn, prefix, c.Name)
	}
	return strings.Join(parts, ", ")
}

// dailySums aggregates a day's hourly buckets (alias h) for compaction.
var dailySums = counterSums("h.")

// CompactStats compacts every finished, not yet compacted day of every
// time zone that jobs use, and returns how many days it compacted. Zone
// names that mean the same zone ("" and "UTC") are compacted together,
// under one watermark.
func (s *Store) CompactStats(now time.Time) (int, error) {
	var names []string
	if err := s.db.Raw(`SELECT DISTINCT timezone FROM jobs`).Scan(&names).Error; err != nil {
		return 0, translate(err, "time zones of jobs")
	}
	var oldest []time.Time
	if err := s.db.Raw(`SELECT hour FROM stats_hourly ORDER BY hour LIMIT 1`).Scan(&oldest).Error; err != nil {
		return 0, translate(err, "oldest hourly bucket")
	}
	if len(oldest) == 0 {
		return 0, nil
	}
	zones := map[string][]string{} // zone → the job timezone values naming it
	var order []*time.Location
	for _, name := range names {
		loc, err := LoadLocation(name)
		if err != nil {
			continue // a stored job always has a valid zone; nothing to do for one that is not
		}
		if _, ok := zones[loc.String()]; !ok {
			order = append(order, loc)
		}
		zones[loc.String()] = append(zones[loc.String()], name)
	}
	done := 0
	for _, loc := range order {
		n, err := s.compactZone(loc, zones[loc.String()], oldest[0], now)
		done += n
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

// compactZone compacts the days in zone loc of the jobs whose timezone is
// one of names.
func (s *Store) compactZone(loc *time.Location, names []string, oldest, now time.Time) (int, error) {
	zone := loc.String()
	var last []string
	if err := s.db.Raw(`SELECT day FROM stats_compaction WHERE timezone = ?`, zone).Scan(&last).Error; err != nil {
		return 0, translate(err, "last compacted day")
	}
	o := oldest.In(loc)
	d := time.Date(o.Year(), o.Month(), o.Day(), 0, 0, 0, 0, loc)
	if len(last) == 1 {
		t, err := time.ParseInLocation(time.DateOnly, last[0], loc)
		if err == nil {
			d = maxTime(d, time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, loc))
		}
	}
	n := 0
	for ; n < maxCompactDays; n++ {
		end := time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, loc)
		if end.Add(compactGrace).After(now) {
			break
		}
		date := d.Format(time.DateOnly)
		err := s.db.Transaction(func(tx *gorm.DB) error {
			if err := tx.Exec(`INSERT INTO stats_daily (job_id, day, timezone, `+counterList+`)
				SELECT h.job_id, ?, ?, `+dailySums+` FROM stats_hourly h JOIN jobs j ON j.id = h.job_id
				WHERE j.timezone IN ? AND h.hour >= ? AND h.hour < ? GROUP BY h.job_id
				ON CONFLICT (job_id, day) DO NOTHING`, date, zone, names, d.UTC(), end.UTC()).Error; err != nil {
				return fmt.Errorf("compact %s in %s: %w", date, zone, err)
			}
			return tx.Exec(`INSERT INTO stats_compaction (timezone, day) VALUES (?, ?)
				ON CONFLICT (timezone) DO UPDATE SET day = excluded.day`, zone, date).Error
		})
		if err != nil {
			return n, err
		}
		d = end
	}
	return n, nil
}

// PruneStats deletes hourly job buckets older than HourlyStatsKept, and
// daily and project buckets older than retention.
func (s *Store) PruneStats(now time.Time, retention time.Duration) error {
	cut := now.Add(-retention).UTC()
	for _, q := range []struct {
		sql string
		arg any
	}{
		{`DELETE FROM stats_hourly WHERE hour < ?`, now.Add(-HourlyStatsKept).UTC()},
		{`DELETE FROM project_stats_hourly WHERE hour < ?`, cut},
		{`DELETE FROM stats_daily WHERE day < ?`, cut.Format(time.DateOnly)},
	} {
		if err := s.db.Exec(q.sql, q.arg).Error; err != nil {
			return fmt.Errorf("prune stats: %w", err)
		}
	}
	return nil
}
