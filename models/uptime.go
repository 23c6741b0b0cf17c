package models

import (
	"slices"
	"time"
)

// Uptime comes from flips, not from runs: a job is down from a flip to
// down until a flip back up, and neither up nor down while paused. A pause
// also ends a stretch of downtime: a job resumed is "new" again, and only
// a later flip makes it down. Time before the job existed counts for
// nothing.

// segment is a stretch of a job's history in one state.
type segment struct {
	from, to time.Time
	down     bool
	paused   bool
}

// timeline is a job's states over a window, in order, without gaps.
type timeline []segment

// within returns the seconds down and the seconds watched (not paused) of
// tl inside [from, to).
func (tl timeline) within(from, to time.Time) (down, watched float64) {
	for _, s := range tl {
		a, b := maxTime(s.from, from), minTime(s.to, to)
		if !a.Before(b) || s.paused {
			continue
		}
		d := b.Sub(a).Seconds()
		watched += d
		if s.down {
			down += d
		}
	}
	return down, watched
}

// uptimePercent is the share of watched time not down, in percent with two
// decimals; nil when nothing was watched.
func uptimePercent(down, watched float64) *float64 {
	if watched <= 0 {
		return nil
	}
	return round(100*(1-down/watched), 2)
}

// jobTimeline builds the timeline of job j over [from, to): from its
// flips (the last one before from sets the state at from) and its pauses.
// It also returns how many flips fall inside the window.
func (s *Store) jobTimeline(j *Job, from, to time.Time) (timeline, int64, error) {
	start := maxTime(from, j.CreatedAt)
	if !start.Before(to) {
		return nil, 0, nil
	}
	// One query for the flips of the window and the last ones before it
	// (they say whether the job was down when the window opened), one for
	// the pauses overlapping the window and the last one before it.
	var flips, before []Flip
	err := s.db.Where("job_id = ? AND created_at < ? AND created_at >= COALESCE((SELECT max(created_at) FROM flips WHERE job_id = ? AND created_at < ?), ?)",
		j.ID, to.UTC(), j.ID, start.UTC(), start.UTC()).Order("created_at, id").Find(&flips).Error
	if err != nil {
		return nil, 0, translate(err, "flips of the window")
	}
	i := slices.IndexFunc(flips, func(f Flip) bool { return !f.CreatedAt.Before(start) })
	if i < 0 {
		i = len(flips)
	}
	if i > 0 {
		before, flips = flips[i-1:i], flips[i:]
	}
	pauses, lastPause, err := s.pausesAround(j.ID, start, to)
	if err != nil {
		return nil, 0, err
	}
	down := len(before) == 1 && before[0].ToStatus == StatusDown
	if down && lastPause != nil && !lastPause.PausedAt.Before(before[0].CreatedAt) {
		// A pause after that flip ended the downtime, even if it was over
		// before the window: a resumed job is new, and only a flip makes
		// it down again.
		down = false
	}
	type event struct {
		at   time.Time
		kind int // 0 flip down, 1 flip up, 2 pause, 3 resume
	}
	var events []event
	for _, f := range flips {
		k := 1
		if f.ToStatus == StatusDown {
			k = 0
		}
		events = append(events, event{f.CreatedAt, k})
	}
	paused := false
	for _, p := range pauses {
		if p.PausedAt.After(start) {
			events = append(events, event{p.PausedAt, 2})
		} else {
			paused = true // the window starts inside this pause
			down = false
		}
		if p.ResumedAt != nil && p.ResumedAt.Before(to) {
			events = append(events, event{*p.ResumedAt, 3})
		}
	}
	slices.SortStableFunc(events, func(a, b event) int { return a.at.Compare(b.at) })
	var tl timeline
	at := start
	for _, e := range events {
		t := maxTime(e.at, start)
		if t.After(at) {
			tl = append(tl, segment{from: at, to: t, down: down, paused: paused})
			at = t
		}
		switch e.kind {
		case 0:
			down = true
		case 1:
			down = false
		case 2:
			paused, down = true, false
		case 3:
			paused, down = false, false
		}
	}
	if to.After(at) {
		tl = append(tl, segment{from: at, to: to, down: down, paused: paused})
	}
	return tl, int64(len(flips)), nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
