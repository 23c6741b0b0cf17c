package models

import (
	"errors"
	"sync"
	"time"
)

// Delivery is a claimed notification with everything needed to write its
// message.
type Delivery struct {
	Notification Notification
	Channel      Channel
	Flip         Flip
	Job          Job
	Project      Project
	LastPing     *Ping      // the job's latest success or failure ping at the flip, if any
	LastRun      *CheckRun  // the job's latest check run at the flip, if any
	DownSince    *time.Time // for a flip to up: when the job went down
}

// Deliveries loads the context of claimed notifications: their channels,
// flips, jobs and projects, and per flip the job's latest success/failure
// ping and check run at the time of the flip and, on a recovery, when the
// job went down. That is seven queries for the whole batch, run in
// parallel, so a batch costs about one round trip however large it is. A
// notification whose job or channel is gone is left out.
func (s *Store) Deliveries(ns []Notification) ([]Delivery, error) {
	if len(ns) == 0 {
		return nil, nil
	}
	chIDs, flipIDs := []string{}, []int64{}
	for _, n := range ns {
		chIDs = append(chIDs, n.ChannelID)
		flipIDs = append(flipIDs, n.FlipID)
	}
	var (
		chans    []Channel
		flips    []Flip
		jobs     []Job
		projects []Project
		pings    []Ping
		runs     []CheckRun
		downs    []Flip
	)
	const jobsOfFlips = `SELECT job_id FROM flips WHERE id IN ?`
	queries := []func() error{
		func() error { return translate(s.db.Where("id IN ?", chIDs).Find(&chans).Error, "load channels") },
		func() error { return translate(s.db.Where("id IN ?", flipIDs).Find(&flips).Error, "load flips") },
		func() error {
			if err := s.db.Where("id IN (?)", s.db.Raw(jobsOfFlips, flipIDs)).Find(&jobs).Error; err != nil {
				return translate(err, "load jobs")
			}
			for i := range jobs {
				s.deriveNextRun(&jobs[i])
			}
			return nil
		},
		func() error {
			return translate(s.db.Where("id IN (SELECT project_id FROM jobs WHERE id IN (?))", s.db.Raw(jobsOfFlips, flipIDs)).
				Find(&projects).Error, "load projects")
		},
		func() error {
			return translate(s.db.Omit("body").Where(`id IN (SELECT MAX(p.id) FROM flips f
				JOIN pings p ON p.job_id = f.job_id AND p.created_at <= f.created_at AND p.kind IN ?
				WHERE f.id IN ? GROUP BY f.id)`, []string{PingSuccess, PingFail}, flipIDs).Find(&pings).Error, "load last pings")
		},
		func() error {
			return translate(s.db.Where(`id IN (SELECT MAX(r.id) FROM flips f
				JOIN check_runs r ON r.job_id = f.job_id AND r.created_at <= f.created_at
				WHERE f.id IN ? GROUP BY f.id)`, flipIDs).Find(&runs).Error, "load last check runs")
		},
		func() error {
			return translate(s.db.Where(`id IN (SELECT MAX(d.id) FROM flips f
				JOIN flips d ON d.job_id = f.job_id AND d.id < f.id AND d.to_status = ?
				WHERE f.id IN ? AND f.to_status = ? GROUP BY f.id)`, StatusDown, flipIDs, StatusUp).Find(&downs).Error, "load down flips")
		},
	}
	errs := make([]error, len(queries))
	var wg sync.WaitGroup
	for i, q := range queries {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = q() }()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	chByID, flipByID := byKey(chans, func(c Channel) string { return c.ID }), byKey(flips, func(f Flip) int64 { return f.ID })
	jobByID, projByID := byKey(jobs, func(j Job) string { return j.ID }), byKey(projects, func(p Project) string { return p.ID })
	out := make([]Delivery, 0, len(ns))
	for _, n := range ns {
		ch, ok1 := chByID[n.ChannelID]
		f, ok2 := flipByID[n.FlipID]
		j, ok3 := jobByID[f.JobID]
		p, ok4 := projByID[j.ProjectID]
		if !ok1 || !ok2 || !ok3 || !ok4 {
			continue
		}
		d := Delivery{Notification: n, Channel: ch, Flip: f, Job: j, Project: p}
		// Each flip's row is the newest of its job's loaded rows that
		// qualifies for it: the batch loaded every flip's newest, so the
		// newest qualifying one among them is the right one.
		for i := range pings {
			if x := &pings[i]; x.JobID == j.ID && !x.CreatedAt.After(f.CreatedAt) && (d.LastPing == nil || x.ID > d.LastPing.ID) {
				d.LastPing = x
			}
		}
		for i := range runs {
			if x := &runs[i]; x.JobID == j.ID && !x.CreatedAt.After(f.CreatedAt) && (d.LastRun == nil || x.ID > d.LastRun.ID) {
				d.LastRun = x
			}
		}
		if f.ToStatus == StatusUp {
			var best *Flip
			for i := range downs {
				if x := &downs[i]; x.JobID == j.ID && x.ID < f.ID && (best == nil || x.ID > best.ID) {
					best = x
				}
			}
			if best != nil {
				at := best.CreatedAt
				d.DownSince = &at
			}
		}
		out = append(out, d)
	}
	return out, nil
}

func byKey[T any, K comparable](items []T, key func(T) K) map[K]T {
	m := make(map[K]T, len(items))
	for _, it := range items {
		m[key(it)] = it
	}
	return m
}
