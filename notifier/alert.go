// Package notifier delivers alerts: a worker claims due notifications from
// the outbox the store writes with every flip, and hands each to the sender
// of its channel's kind (Slack incoming webhook, Slack bot, generic webhook,
// e-mail), retrying with backoff when the receiver fails.
package notifier

import (
	"fmt"
	"strings"
	"time"

	"github.com/cronpulse/cronpulse/models"
)

// Alert events.
const (
	EventFlip     = "flip"     // a job changed status
	EventReminder = "reminder" // a job is still down
	EventTest     = "test"     // POST /channels/{id}/test
)

// Alert is what a notification says, whatever the channel: one flip of one
// job, with the facts someone needs to act on it.
type Alert struct {
	Event          string
	NotificationID int64
	Reminder       int

	JobID       string
	JobName     string
	JobURL      string // the checked URL, for HTTP checks
	ProjectID   string
	ProjectName string

	FlipID int64
	From   string
	Status string // the new status: up or down
	Reason string
	At     time.Time // when the status changed

	LastPingAt     *time.Time
	LastPingKind   string
	ExitStatus     *int
	CheckResult    string
	HTTPStatus     *int
	ResponseTimeMs *int64
	CheckError     string

	// DownFor is how long the job was down (on recovery) or has been down
	// so far (in a reminder); zero otherwise.
	DownFor time.Duration

	DashboardURL string
}

// JobLink is the dashboard address of a job: the one place its format is
// decided.
func JobLink(baseURL, jobID string) string {
	return strings.TrimRight(baseURL, "/") + "/jobs/" + jobID
}

// NewAlert builds the alert for a claimed delivery at time now.
func NewAlert(d *models.Delivery, baseURL string, now time.Time) *Alert {
	a := &Alert{
		Event:          EventFlip,
		NotificationID: d.Notification.ID,
		Reminder:       d.Notification.Reminder,
		JobID:          d.Job.ID,
		JobName:        d.Job.Name,
		JobURL:         d.Job.URL,
		ProjectID:      d.Project.ID,
		ProjectName:    d.Project.Name,
		FlipID:         d.Flip.ID,
		From:           d.Flip.FromStatus,
		Status:         d.Flip.ToStatus,
		Reason:         d.Flip.Reason,
		At:             d.Flip.CreatedAt,
		DashboardURL:   JobLink(baseURL, d.Job.ID),
	}
	if d.Notification.Reminder > 0 {
		a.Event = EventReminder
		a.DownFor = now.Sub(d.Flip.CreatedAt)
	}
	if d.DownSince != nil && d.Flip.ToStatus == models.StatusUp {
		a.DownFor = d.Flip.CreatedAt.Sub(*d.DownSince)
	}
	if p := d.LastPing; p != nil {
		at := p.CreatedAt
		a.LastPingAt, a.LastPingKind, a.ExitStatus = &at, p.Kind, p.ExitStatus
	}
	if r := d.LastRun; r != nil {
		rt := r.ResponseTimeMs
		a.CheckResult, a.HTTPStatus, a.ResponseTimeMs, a.CheckError = r.Result, r.HTTPStatus, &rt, r.Error
	}
	if a.Reason == "" {
		a.Reason = a.derivedReason()
	}
	return a
}

// testAlert is the message POST /channels/{id}/test sends.
func testAlert(ch *models.Channel, projectName, baseURL string, now time.Time) *Alert {
	return &Alert{
		Event:        EventTest,
		JobID:        "test",
		JobName:      "Test notification",
		ProjectID:    ch.ProjectID,
		ProjectName:  projectName,
		From:         models.StatusUp,
		Status:       models.StatusDown,
		Reason:       "this is a test message for channel \"" + ch.Name + "\"; no job changed status",
		At:           now,
		DashboardURL: strings.TrimRight(baseURL, "/") + "/",
	}
}

// derivedReason explains a flip whose writer gave no reason.
func (a *Alert) derivedReason() string {
	if a.Status == models.StatusUp {
		return "recovered"
	}
	switch {
	case a.CheckResult == models.RunTimeout:
		return "the check timed out"
	case a.CheckResult == models.RunError:
		return "the check could not connect: " + a.CheckError
	case a.CheckResult == models.RunFailure && a.HTTPStatus != nil:
		return fmt.Sprintf("the check got HTTP %d", *a.HTTPStatus)
	case a.LastPingKind == models.PingFail && a.ExitStatus != nil:
		return fmt.Sprintf("the job reported failure (exit status %d)", *a.ExitStatus)
	case a.LastPingKind == models.PingFail:
		return "the job reported failure"
	default:
		return "missed heartbeat"
	}
}

// Title is the one-line summary: "DOWN: backup (Acme)".
func (a *Alert) Title() string {
	prefix := strings.ToUpper(a.Status)
	switch a.Event {
	case EventReminder:
		prefix = "Still " + prefix
	case EventTest:
		prefix = "TEST"
	}
	return fmt.Sprintf("%s: %s (%s)", prefix, a.JobName, a.ProjectName)
}

// Fact is one labelled line of an alert.
type Fact struct{ Label, Value string }

// Facts lists what the alert reports, in display order, for every channel
// that shows labelled lines (Slack fields, e-mail).
func (a *Alert) Facts() []Fact {
	facts := []Fact{
		{"Project", a.ProjectName},
		{"Status", strings.ToUpper(a.From) + " → " + strings.ToUpper(a.Status)},
		{"Reason", a.Reason},
	}
	if a.HTTPStatus != nil || a.CheckResult != "" {
		v := a.CheckResult
		if a.HTTPStatus != nil {
			v = fmt.Sprintf("HTTP %d", *a.HTTPStatus)
		}
		if a.ResponseTimeMs != nil {
			v += fmt.Sprintf(" in %d ms", *a.ResponseTimeMs)
		}
		facts = append(facts, Fact{"Last check", v})
	}
	if a.LastPingAt != nil {
		v := a.LastPingAt.UTC().Format("2006-01-02 15:04:05 UTC") + " (" + a.LastPingKind
		if a.ExitStatus != nil {
			v += fmt.Sprintf(", exit status %d", *a.ExitStatus)
		}
		facts = append(facts, Fact{"Last ping", v + ")"})
	} else if a.Event != EventTest && a.CheckResult == "" {
		facts = append(facts, Fact{"Last ping", "never"})
	}
	if a.DownFor > 0 {
		label := "Down for"
		if a.Event == EventReminder {
			label = "Down since"
			facts = append(facts, Fact{label, a.At.UTC().Format("2006-01-02 15:04 UTC") + " (" + Duration(a.DownFor) + ")"})
		} else {
			facts = append(facts, Fact{label, Duration(a.DownFor)})
		}
	}
	facts = append(facts, Fact{"When", a.At.UTC().Format("2006-01-02 15:04:05 UTC")})
	return facts
}

// Duration writes a length of time the way people say it: "1h 5m", "42s".
func Duration(d time.Duration) string {
	d = d.Round(time.Second)
	if d < time.Minute {
		return fmt.Sprintf("%ds", int(d.Seconds()))
	}
	days, d := d/(24*time.Hour), d%(24*time.Hour)
	h, d := d/time.Hour, d%time.Hour
	m, s := d/time.Minute, (d%time.Minute)/time.Second
	parts := []string{}
	if days > 0 {
		parts = append(parts, fmt.Sprintf("%dd", days))
	}
	if h > 0 {
		parts = append(parts, fmt.Sprintf("%dh", h))
	}
	if m > 0 {
		parts = append(parts, fmt.Sprintf("%dm", m))
	}
	if s > 0 && days == 0 {
		parts = append(parts, fmt.Sprintf("%ds", s))
	}
	return strings.Join(parts, " ")
}
