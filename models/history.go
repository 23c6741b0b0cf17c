package models

import "time"

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

// Check run results and triggers.
const (
	RunSuccess = "success"
	RunFailure = "failure"
	RunTimeout = "timeout"
	RunError   = "error"

	TriggerSchedule = "schedule"
	TriggerManual   = "manual"
)

// CheckRun is one HTTP check of a job.
type CheckRun struct {
	ID             int64      `json:"id" gorm:"primaryKey"`
	JobID          string     `json:"jobId"`
	Result         string     `json:"result"`
	HTTPStatus     *int       `json:"httpStatus" gorm:"column:http_status"`
	ResponseTimeMs int64      `json:"responseTimeMs"`
	Error          string     `json:"error"`
	Trigger        string     `json:"trigger"`
	ScheduledAt    *time.Time `json:"scheduledAt"`
	CreatedAt      time.Time  `json:"createdAt"`
}

// Flip is a change of a job's status: the alert history.
type Flip struct {
	ID         int64     `json:"id" gorm:"primaryKey"`
	JobID      string    `json:"jobId"`
	FromStatus string    `json:"fromStatus"`
	ToStatus   string    `json:"toStatus"`
	Reason     string    `json:"reason"`
	CreatedAt  time.Time `json:"createdAt"`
}

// Channel kinds.
const (
	ChannelSlackWebhook = "slack_webhook"
	ChannelSlackBot     = "slack_bot"
	ChannelWebhook      = "webhook"
	ChannelEmail        = "email"
)

// Channel is where a project's alerts go.
type Channel struct {
	ID          string     `json:"id" gorm:"primaryKey"`
	ProjectID   string     `json:"projectId"`
	Name        string     `json:"name"`
	Kind        string     `json:"kind"`
	Config      JSONMap    `json:"config"`
	Enabled     bool       `json:"enabled"`
	RemindEvery int        `json:"remindEvery"`
	LastError   string     `json:"lastError"`
	LastErrorAt *time.Time `json:"lastErrorAt"`
	LastSentAt  *time.Time `json:"lastSentAt"`
	CreatedAt   time.Time  `json:"createdAt"`
	UpdatedAt   time.Time  `json:"updatedAt"`
}

// Notification states.
const (
	NotifyPending = "pending"
	NotifySent    = "sent"
	NotifyFailed  = "failed"
)

// Notification is one alert to deliver: a row of the durable outbox.
type Notification struct {
	ID            int64      `json:"id" gorm:"primaryKey"`
	ChannelID     string     `json:"channelId"`
	FlipID        int64      `json:"flipId"`
	Reminder      int        `json:"reminder"` // 0: the flip's alert; n: the n-th reminder
	State         string     `json:"state"`
	Attempts      int        `json:"attempts"`
	LastError     string     `json:"lastError"`
	NextAttemptAt time.Time  `json:"nextAttemptAt"`
	ClaimedUntil  *time.Time `json:"-"`
	SentAt        *time.Time `json:"sentAt"`
	CreatedAt     time.Time  `json:"createdAt"`
}
