package models

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// RunItem is one entry of a job's history: a check run or a ping.
type RunItem struct {
	Type  string    `json:"type"` // "check" or "ping"
	Check *CheckRun `json:"check,omitempty"`
	Ping  *Ping     `json:"ping,omitempty"`
	At    time.Time `json:"createdAt"`
}

// key orders items newest first; at equal times pings come before checks,
// then higher ids first.
func (r RunItem) key() (time.Time, int, int64) {
	if r.Ping != nil {
		return r.At, 0, r.Ping.ID
	}
	return r.At, 1, r.Check.ID
}

// Cursor encodes the item's position for the next page.
func (r RunItem) Cursor() string {
	t, rank, id := r.key()
	return fmt.Sprintf("%d_%d_%d", t.UnixMicro(), rank, id)
}

// RunFilter selects part of a job's history.
type RunFilter struct {
	JobID  string
	Type   string    // "", "check" or "ping"
	Status string    // "", or a check result / ping outcome (success, failure, timeout, error, start, log)
	Since  time.Time // zero: no lower bound
	Cursor string    // from RunItem.Cursor
	Limit  int
}

// ParseRunCursor checks a cursor's shape.
func ParseRunCursor(c string) (t time.Time, rank int, id int64, err error) {
	parts := strings.Split(c, "_")
	if len(parts) != 3 {
		return t, 0, 0, invalid("cursor", "not a cursor returned by this API")
	}
	us, err1 := strconv.ParseInt(parts[0], 10, 64)
	r, err2 := strconv.Atoi(parts[1])
	id, err3 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || (r != 0 && r != 1) {
		return t, 0, 0, invalid("cursor", "not a cursor returned by this API")
	}
	return time.UnixMicro(us).UTC(), r, id, nil
}

// Runs returns a job's check runs and pings merged, newest first.
func (s *Store) Runs(f RunFilter) ([]RunItem, error) {
	var ct time.Time
	var crank int
	var cid int64
	if f.Cursor != "" {
		var err error
		if ct, crank, cid, err = ParseRunCursor(f.Cursor); err != nil {
			return nil, err
		}
	}
	var items []RunItem
	if f.Type == "" || f.Type == "ping" {
		q := s.db.Model(&Ping{}).Omit("body").Where("job_id = ?", f.JobID)
		q = pageAfter(q, f, ct, crank, cid, 0)
		switch f.Status {
		case "":
		case RunSuccess:
			q = q.Where("kind = ?", PingSuccess)
		case RunFailure:
			q = q.Where("kind = ?", PingFail)
		case PingStart, PingLog:
			q = q.Where("kind = ?", f.Status)
		default:
			q = q.Where("1 = 0")
		}
		var pings []Ping
		if err := q.Order("created_at DESC, id DESC").Limit(f.Limit).Find(&pings).Error; err != nil {
			return nil, translate(err, "list pings")
		}
		for i := range pings {
			items = append(items, RunItem{Type: "ping", Ping: &pings[i], At: pings[i].CreatedAt})
		}
	}
	if f.Type == "" || f.Type == "check" {
		q := s.db.Model(&CheckRun{}).Where("job_id = ?", f.JobID)
		q = pageAfter(q, f, ct, crank, cid, 1)
		switch f.Status {
		case "":
		case RunSuccess, RunFailure, RunTimeout, RunError:
			q = q.Where("result = ?", f.Status)
		default:
			q = q.Where("1 = 0")
		}
		var runs []CheckRun
		if err := q.Order("created_at DESC, id DESC").Limit(f.Limit).Find(&runs).Error; err != nil {
			return nil, translate(err, "list check runs")
		}
		for i := range runs {
			items = append(items, RunItem{Type: "check", Check: &runs[i], At: runs[i].CreatedAt})
		}
	}
	sort.Slice(items, func(i, j int) bool {
		ti, ri, ii := items[i].key()
		tj, rj, ij := items[j].key()
		if !ti.Equal(tj) {
			return ti.After(tj)
		}
		if ri != rj {
			return ri < rj
		}
		return ii > ij
	})
	if len(items) > f.Limit {
		items = items[:f.Limit]
	}
	return items, nil
}

// pageAfter keeps the rows of one table (rank 0 pings, 1 checks) that come
// after the cursor in RunItem order, and after f.Since.
func pageAfter(q *gorm.DB, f RunFilter, t time.Time, rank int, id int64, tableRank int) *gorm.DB {
	if !f.Since.IsZero() {
		q = q.Where("created_at >= ?", f.Since.UTC())
	}
	if f.Cursor == "" {
		return q
	}
	switch {
	case tableRank < rank: // this table's rows at time t came before the cursor
		return q.Where("created_at < ?", t)
	case tableRank > rank: // all of this table's rows at time t come after it
		return q.Where("created_at <= ?", t)
	default:
		return q.Where("created_at < ? OR (created_at = ? AND id < ?)", t, t, id)
	}
}

// PingBody returns the stored body of a job's n-th ping.
func (s *Store) PingBody(jobID string, n int64) (string, error) {
	var p Ping
	err := s.db.Select("body").Where("job_id = ? AND n = ?", jobID, n).Take(&p).Error
	if err != nil {
		return "", translate(err, fmt.Sprintf("ping %d", n))
	}
	return p.Body, nil
}
