package models

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"
)

// The heartbeat state machine (SPEC §5). Its state lives in the job row:
// status, lastPingAt (the last success ping) and lastStartAt (an open run).
// Every deadline is derived from those, never stored on its own, so that
// the HTTP checker moving nextRunAt for a job with both a url and a
// heartbeat cannot shift a heartbeat deadline. alertAt only tells the
// watchdog when to look again, so that it reads just the jobs that are due:
// it is at or before the earliest deadline (a ping that only moves the
// deadlines later leaves it, see jobChange.settle), and a watchdog tick
// that finds nothing due there stores the real one.
//
// A brand-new job (status new, never pinged) raises no alert until its first
// ping, as on Healthchecks.io: a monitor created before its cron entry must
// not page anyone. A /start on a new job still arms the hang deadline.
//
// A paused job records its pings but never changes status; resuming it puts
// it back to new, waiting for a ping.

// heartbeatDeadlines returns the instants at which j, as it is now, would go
// late (the first schedule tick after its last success ping), down for a
// missed ping (that tick plus the tolerance) and down for a hanging run
// (its open start plus the tolerance). A nil means no such deadline.
func heartbeatDeadlines(j *Job, sched *Schedule) (lateAt, downAt, hangAt *time.Time) {
	if !j.Heartbeat || j.Paused || j.Status == StatusPaused || j.Status == StatusDown {
		return nil, nil, nil
	}
	tol := time.Duration(j.HeartbeatTolerance) * time.Minute
	if (j.Status == StatusUp || j.Status == StatusLate) && j.LastPingAt != nil && sched != nil {
		if exp := sched.Next(*j.LastPingAt); !exp.IsZero() {
			d := exp.Add(tol)
			downAt = &d
			if j.Status == StatusUp {
				lateAt = &exp
			}
		}
	}
	if j.LastStartAt != nil {
		h := j.LastStartAt.Add(tol).UTC()
		hangAt = &h
	}
	return lateAt, downAt, hangAt
}

// HeartbeatAlertAt returns the earliest heartbeat deadline of j in its
// current state, or nil when nothing can happen to it until a ping arrives.
func HeartbeatAlertAt(j *Job) *time.Time {
	sched, err := j.ParsedSchedule()
	if err != nil {
		sched = nil // a stored job always has a valid schedule; without one only the hang deadline applies
	}
	return heartbeatAlertAt(j, sched)
}

// heartbeatAlertAt is HeartbeatAlertAt with the job's schedule already
// parsed (nil if it does not parse).
func heartbeatAlertAt(j *Job, sched *Schedule) *time.Time {
	lateAt, downAt, hangAt := heartbeatDeadlines(j, sched)
	return earliest(lateAt, downAt, hangAt)
}

// earliest returns the smallest non-nil time, or nil.
func earliest(ts ...*time.Time) *time.Time {
	var out *time.Time
	for _, t := range ts {
		if t != nil && (out == nil || t.Before(*out)) {
			v := t.UTC()
			out = &v
		}
	}
	return out
}

// HeartbeatChange is what the watchdog does to a due job at one instant.
type HeartbeatChange struct {
	To         string     // new status (equal to the old one when only AlertAt moves)
	LastStatus string     // new lastStatus
	Reason     string     // why, for the flip
	AlertAt    *time.Time // the next deadline after the change
}

// EvaluateHeartbeat applies the heartbeat rules to j at now: a run open for
// longer than the tolerance is down (lastStatus timeout); a success ping
// missing for the tolerance after its expected tick is down (lastStatus
// missed); a ping missing past its expected tick is late. However many
// deadlines have passed (after a restart, say), the result is the single
// state j should be in now, so one evaluation writes at most one flip.
func EvaluateHeartbeat(j *Job, now time.Time) HeartbeatChange {
	sched, err := j.ParsedSchedule()
	if err != nil {
		sched = nil // see HeartbeatAlertAt
	}
	return evaluateHeartbeat(j, sched, now)
}

// evaluateHeartbeat is EvaluateHeartbeat with j's schedule already parsed.
func evaluateHeartbeat(j *Job, sched *Schedule, now time.Time) HeartbeatChange {
	ch := HeartbeatChange{To: j.Status, LastStatus: j.LastStatus}
	lateAt, downAt, hangAt := heartbeatDeadlines(j, sched)
	tol := j.HeartbeatTolerance
	switch {
	case hangAt != nil && !now.Before(*hangAt):
		ch.To, ch.LastStatus = StatusDown, LastTimeout
		ch.Reason = fmt.Sprintf("run started at %s did not finish within %d minutes", j.LastStartAt.UTC().Format(time.RFC3339), tol)
	case downAt != nil && !now.Before(*downAt):
		ch.To, ch.LastStatus = StatusDown, LastMissed
		ch.Reason = fmt.Sprintf("missed heartbeat: expected at %s, no ping within %d minutes", downAt.Add(-time.Duration(tol)*time.Minute).Format(time.RFC3339), tol)
	case lateAt != nil && !now.Before(*lateAt):
		ch.To = StatusLate
		ch.Reason = fmt.Sprintf("heartbeat late: expected at %s", lateAt.Format(time.RFC3339))
	}
	after := *j
	after.Status = ch.To
	ch.AlertAt = heartbeatAlertAt(&after, sched)
	return ch
}

// ApplyPing applies p to j in memory: counters, activity, status, and the
// next deadline; it sets p.N, the ping's serial. sched is j's parsed
// schedule (nil if it does not parse), and startMatched tells that a finish
// ping closes j's latest open start. It returns the flip reason when the
// ping changes j's status across an alerting edge (from is the status
// before), or "" otherwise. The ping writer calls it for every ping.
func ApplyPing(j *Job, sched *Schedule, p *Ping, startMatched bool) (from, reason string) {
	from = j.Status
	j.PingCount++
	p.N = j.PingCount
	at := p.CreatedAt
	j.LastActivityAt = &at
	if !j.Heartbeat || j.Paused || j.Status == StatusPaused {
		return from, ""
	}
	finish := func() {
		// A finish without a run id closes whatever run is open; one with a
		// run id closes the open run only if it is that run's start (or a
		// later one), so overlapping runs keep their own hang deadline.
		if p.RID == "" || startMatched {
			j.LastStartAt = nil
		}
	}
	switch p.Kind {
	case PingStart:
		j.LastStartAt = &at
		j.LastStatus = LastRunning
	case PingSuccess:
		finish()
		j.LastPingAt = &at
		j.Status, j.LastStatus = StatusUp, LastSuccess
		// nextRunAt is not stored: it follows from lastPingAt when the job
		// is read (Store.deriveNextRun).
		if IsFlip(from, StatusUp) {
			reason = "success ping"
			if p.ExitStatus != nil {
				reason = "exit status 0"
			}
		}
	case PingFail:
		finish()
		j.Status, j.LastStatus = StatusDown, LastFailure
		if IsFlip(from, StatusDown) {
			reason = "failure ping (/fail)"
			if p.ExitStatus != nil {
				reason = fmt.Sprintf("failure exit status %d", *p.ExitStatus)
			}
		}
	}
	j.AlertAt = heartbeatAlertAt(j, sched)
	return from, reason
}

// DueHeartbeats returns at most limit jobs whose alertAt is at or before
// now, earliest first, with the columns the heartbeat rules read (see
// PingJobColumns). It reads the alertAt index only, so its cost depends on
// how many jobs are due, not on how many exist.
func (s *Store) DueHeartbeats(now time.Time, limit int) ([]Job, error) {
	rows, err := s.db.Raw(`SELECT `+PingJobColumns+` FROM jobs WHERE alert_at <= ? ORDER BY alert_at, id LIMIT ?`, now.UTC(), limit).Rows()
	if err != nil {
		return nil, fmt.Errorf("due heartbeats: %w", err)
	}
	return ScanPingJobs(rows, limit)
}

// pgHeartbeatWriters is how many ApplyHeartbeats transactions are worth
// running at once on PostgreSQL.
const pgHeartbeatWriters = 4

// HeartbeatWriters returns how many ApplyHeartbeats calls on disjoint jobs
// are worth running at once. PostgreSQL takes concurrent writers, and a
// flip costs round trips rather than CPU there, so a few transactions in
// parallel finish sooner (each locks its rows in id order: no deadlock).
// SQLite has one writer at a time; parallel transactions would only queue
// on its lock, so it is 1.
func (s *Store) HeartbeatWriters() int {
	if s.dialect == Postgres {
		return pgHeartbeatWriters
	}
	return 1
}

// HeartbeatResult counts what ApplyHeartbeats did.
type HeartbeatResult struct {
	Updated int // jobs written (status or deadline changed)
	Flips   int // flips written
	Skipped int // jobs changed by someone else since they were read
}

var applyHeartbeatsSQL = map[Dialect]string{
	SQLite: `UPDATE jobs SET status = v.st, last_status = v.ls, alert_at = v.al
		FROM (SELECT value->>0 AS id, value->>1 AS os, value->>2 AS oc, value->>3 AS st, value->>4 AS ls, value->>5 AS al,
				value->>6 AS rf, value->>7 AS oal, value->>8 AS osa, value->>9 AS sch, value->>10 AS tz,
				value->>11 AS tol, value->>12 AS pa, value->>13 AS hb
			FROM json_each(?)) AS v
		WHERE jobs.id = v.id AND jobs.status = v.os AND (v.rf OR jobs.ping_count = v.oc)
			AND jobs.alert_at IS v.oal AND jobs.last_start_at IS v.osa AND jobs.schedule = v.sch
			AND jobs.timezone = v.tz AND jobs.heartbeat_tolerance = v.tol AND jobs.paused = v.pa AND jobs.heartbeat = v.hb
		RETURNING jobs.id`,
	Postgres: `UPDATE jobs SET status = v->>3, last_status = v->>4, alert_at = (v->>5)::timestamptz
		FROM json_array_elements(?::json) AS v
		WHERE jobs.id = v->>0 AND jobs.status = v->>1 AND ((v->>6)::boolean OR jobs.ping_count = (v->>2)::bigint)
			AND jobs.alert_at IS NOT DISTINCT FROM (v->>7)::timestamptz
			AND jobs.last_start_at IS NOT DISTINCT FROM (v->>8)::timestamptz AND jobs.schedule = v->>9
			AND jobs.timezone = v->>10 AND jobs.heartbeat_tolerance = (v->>11)::integer
			AND jobs.paused = (v->>12)::boolean AND jobs.heartbeat = (v->>13)::boolean
		RETURNING jobs.id`,
}

// ApplyHeartbeats evaluates each job at now (EvaluateHeartbeat) and writes
// the results in one transaction, each status change with its flip. The
// update is a compare-and-set on what the evaluation read: if a ping, the
// HTTP checker, an API edit or another watchdog tick changed the job
// meanwhile, its row does not match and it is skipped, so a deadline
// produces its flip exactly once however many ticks race. A job whose
// status does not change (alertAt was only a lower bound, and passed: see
// jobChange.settle) just gets its real next deadline, and for that a ping
// in between that changed neither status, alertAt nor an open run does not
// matter: such a ping only moves the deadlines later, so the deadline
// computed without it is still a lower bound. Otherwise a job pinged many
// times a second would be skipped at every tick and stay first in line
// among the due jobs. All jobs go in one UPDATE (the batch as one JSON
// parameter, as the ping writer's transactional path does); on PostgreSQL
// their rows are first locked in id order, the order every writer of jobs
// locks them in, so none deadlock.
func (s *Store) ApplyHeartbeats(jobs []Job, now time.Time) (HeartbeatResult, error) {
	var res HeartbeatResult
	if len(jobs) == 0 {
		return res, nil
	}
	changes := make(map[string]HeartbeatChange, len(jobs))
	byID := make(map[string]*Job, len(jobs))
	batch := make([][]any, 0, len(jobs))
	ids := make([]string, 0, len(jobs))
	for i := range jobs {
		j := &jobs[i]
		ch := evaluateHeartbeat(j, s.schedules.Get(j.Schedule, j.Timezone), now)
		changes[j.ID], byID[j.ID] = ch, j
		refresh := ch.To == j.Status && ch.LastStatus == j.LastStatus
		batch = append(batch, []any{j.ID, j.Status, j.PingCount, ch.To, ch.LastStatus, s.BatchTime(ch.AlertAt),
			refresh, s.BatchTime(j.AlertAt), s.BatchTime(j.LastStartAt), j.Schedule, j.Timezone, j.HeartbeatTolerance, j.Paused, j.Heartbeat})
		ids = append(ids, j.ID)
	}
	slices.Sort(ids)
	arg, err := json.Marshal(batch)
	if err != nil {
		return res, fmt.Errorf("encode heartbeat batch: %w", err)
	}
	err = s.db.Transaction(func(tx *gorm.DB) error {
		res = HeartbeatResult{}
		if s.dialect == Postgres {
			if err := tx.Exec(`SELECT id FROM jobs WHERE id IN ? ORDER BY id FOR UPDATE`, ids).Error; err != nil {
				return fmt.Errorf("lock due jobs: %w", err)
			}
		}
		var updated []string
		if err := tx.Raw(applyHeartbeatsSQL[s.dialect], string(arg)).Scan(&updated).Error; err != nil {
			return fmt.Errorf("update heartbeats: %w", err)
		}
		slices.Sort(updated)
		res.Updated, res.Skipped = len(updated), len(jobs)-len(updated)
		for _, id := range updated {
			j, ch := byID[id], changes[id]
			if IsFlip(j.Status, ch.To) {
				if _, err := s.InsertFlip(tx, id, j.Status, ch.To, ch.Reason, now); err != nil {
					return err
				}
				res.Flips++
			}
		}
		return nil
	})
	if err != nil {
		return HeartbeatResult{}, err
	}
	return res, nil
}
