package pingwriter

import (
	"fmt"
	"time"

	"github.com/cronpulse/cronpulse/models"
)

// jobChange is a job touched by a batch: its row as read, and the job as
// the batch's pings leave it.
type jobChange struct {
	job        *models.Job
	countFrom  int64
	statusFrom string
	alertFrom  *time.Time // alert_at as stored
	// writeAlert tells the writer to store job.AlertAt; otherwise the
	// stored alert_at stands (see settle).
	writeAlert bool
}

func newJobChange(j *models.Job) *jobChange {
	return &jobChange{job: j, countFrom: j.PingCount, statusFrom: j.Status, alertFrom: j.AlertAt}
}

// settle decides whether the batch must store the job's new alert_at.
//
// alert_at is where the watchdog looks for due jobs, and is indexed, so
// writing it on every ping would make every ping's job update maintain an
// index (and on PostgreSQL every index: no HOT update). It only has to be
// a lower bound of the job's real next deadline: the watchdog re-derives
// the deadlines from the job's state (status, last ping, open start)
// whenever alert_at passes, and then stores the real one or acts on it. A
// success ping only moves the deadlines later, so it leaves alert_at alone;
// a change of status, or a deadline that moved earlier (a /start arming a
// hang deadline), is written.
func (c *jobChange) settle() {
	j := c.job
	if j.Status != c.statusFrom || (j.AlertAt != nil && (c.alertFrom == nil || j.AlertAt.Before(*c.alertFrom))) {
		c.writeAlert = true
		return
	}
	j.AlertAt = c.alertFrom
}

// startFinder returns the time of the latest start ping of the job with the
// given run id, and whether there is one.
type startFinder func(jobID, rid string) (time.Time, bool, error)

// batchPlan is what a batch does, computed in memory from its jobs.
type batchPlan struct {
	rows    []*models.Ping // pings to insert, N and duration set
	changed []*jobChange   // jobs to update, in the order first touched
	flips   []models.Flip  // status changes across an alerting edge
	rollups models.Rollups // the runs among the pings, by job and hour
}

// plan applies the batch's pings, in order, to the jobs they name (keyed
// by ping token; a ping whose token is not there fails with
// models.ErrNotFound). findStart looks up the start of a run in the
// database.
func (w *Writer) plan(batch []*pendingPing, jobs map[string]*jobChange, findStart startFinder) (batchPlan, error) {
	var bp batchPlan
	starts := map[string]time.Time{} // job id + rid → start time, within this batch
	touched := make(map[string]bool, len(jobs))
	for _, p := range batch {
		p.err = nil
		p.ping.ID, p.ping.N, p.ping.DurationMs = 0, 0, nil
		c := jobs[p.token]
		if c == nil {
			p.err = fmt.Errorf("job by ping token: %w", models.ErrNotFound)
			continue
		}
		j := c.job
		ping := &p.ping
		ping.JobID = j.ID
		matched, err := duration(j, ping, starts, findStart)
		if err != nil {
			return bp, err
		}
		if ping.Kind == models.PingStart && ping.RID != "" {
			starts[j.ID+"\x00"+ping.RID] = ping.CreatedAt
		}
		from, reason := models.ApplyPing(j, w.schedules.Get(j.Schedule, j.Timezone), ping, matched)
		if reason != "" {
			bp.flips = append(bp.flips, models.Flip{JobID: j.ID, FromStatus: from, ToStatus: j.Status, Reason: reason, CreatedAt: ping.CreatedAt})
		}
		bp.rows = append(bp.rows, ping)
		bp.rollups.AddPing(j, ping)
		if !touched[j.ID] {
			touched[j.ID] = true
			bp.changed = append(bp.changed, c)
		}
	}
	for _, c := range bp.changed {
		c.settle()
	}
	return bp, nil
}

// duration sets a finish ping's duration from its run's start: the start
// ping with the same run id (in this batch, or found by findStart), or,
// without a run id, the job's open start. It reports whether the start
// found is the job's latest open one.
func duration(j *models.Job, p *models.Ping, starts map[string]time.Time, findStart startFinder) (bool, error) {
	if p.Kind != models.PingSuccess && p.Kind != models.PingFail {
		return false, nil
	}
	var start time.Time
	switch {
	case p.RID != "":
		if t, ok := starts[j.ID+"\x00"+p.RID]; ok {
			start = t
			break
		}
		t, ok, err := findStart(j.ID, p.RID)
		if err != nil {
			return false, fmt.Errorf("find start of run %s: %w", p.RID, err)
		}
		if !ok {
			return false, nil
		}
		start = t
	case j.LastStartAt != nil:
		start = *j.LastStartAt
	default:
		return false, nil
	}
	d := p.CreatedAt.Sub(start).Milliseconds()
	if d < 0 {
		d = 0
	}
	p.DurationMs = &d
	return j.LastStartAt != nil && !start.Before(*j.LastStartAt), nil
}
