package models

import (
	"strings"
	"time"
	"unicode/utf8"
)

// Ping kinds. An exit-status ping is stored as success (0) or fail (any
// other code) with ExitStatus set.
const (
	PingSuccess = "success"
	PingStart   = "start"
	PingFail    = "fail"
	PingLog     = "log"
)

// Ping is one heartbeat received from a job.
type Ping struct {
	ID         int64     `json:"id" gorm:"primaryKey"`
	JobID      string    `json:"jobId"`
	N          int64     `json:"n" gorm:"column:n"`
	Kind       string    `json:"kind"`
	ExitStatus *int      `json:"exitStatus"`
	RID        string    `json:"rid" gorm:"column:rid"`
	Body       string    `json:"-"`
	BodySize   int       `json:"bodySize"`
	Method     string    `json:"method"`
	RemoteAddr string    `json:"remoteAddr"`
	UserAgent  string    `json:"userAgent"`
	DurationMs *int64    `json:"durationMs"`
	CreatedAt  time.Time `json:"createdAt"`
}

// CleanPingBody makes a received body storable: cut to limit bytes (at a
// character boundary), invalid UTF-8 replaced and NUL bytes dropped (neither
// fits a PostgreSQL text column). It returns the text to store.
func CleanPingBody(b []byte, limit int) string {
	if len(b) > limit {
		b = b[:limit]
		// Drop a character cut in half at the end.
		for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
			if utf8.RuneStart(b[i]) {
				if !utf8.FullRune(b[i:]) {
					b = b[:i]
				}
				break
			}
		}
	}
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	if len(s) > limit { // replacement characters can make it longer again
		s = strings.ToValidUTF8(s[:limit], "")
	}
	return s
}

// SuccessPingTimes returns when the newest success pings of a job arrived,
// newest first, at most limit of them (for SuggestSchedule). It reads the
// pings index on (job_id, n) backwards and only the created_at column.
func (s *Store) SuccessPingTimes(jobID string, limit int) ([]time.Time, error) {
	var out []time.Time
	err := s.db.Model(&Ping{}).Where("job_id = ? AND kind = ?", jobID, PingSuccess).
		Order("n DESC").Limit(limit).Pluck("created_at", &out).Error
	if err != nil {
		return nil, translate(err, "success pings of job "+jobID)
	}
	return out, nil
}
