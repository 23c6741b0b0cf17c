package notifier

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cronpulse/cronpulse/models"
)

// Webhook headers (see README "Webhook format").
const (
	HeaderEvent     = "X-CronPulse-Event"
	HeaderDelivery  = "X-CronPulse-Delivery"
	HeaderTimestamp = "X-CronPulse-Timestamp"
	HeaderSignature = "X-CronPulse-Signature"
)

// WebhookPayload is the JSON body POSTed to a generic webhook. Its shape is
// documented in the README; add fields, never rename them.
type WebhookPayload struct {
	Event          string        `json:"event"`
	NotificationID int64         `json:"notificationId"`
	Reminder       int           `json:"reminder"`
	FlipID         int64         `json:"flipId"`
	Status         string        `json:"status"`
	PreviousStatus string        `json:"previousStatus"`
	Reason         string        `json:"reason"`
	At             time.Time     `json:"at"`
	Job            WebhookJob    `json:"job"`
	Project        WebhookRef    `json:"project"`
	LastPing       *WebhookPing  `json:"lastPing"`
	LastCheck      *WebhookCheck `json:"lastCheck"`
	DownForSeconds *int64        `json:"downForSeconds"`
	DashboardURL   string        `json:"dashboardUrl"`
	Text           string        `json:"text"`
}

// WebhookJob identifies the job of a webhook payload.
type WebhookJob struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	URL  string `json:"url"`
}

// WebhookRef identifies the project of a webhook payload.
type WebhookRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// WebhookPing is the job's latest success or failure ping at the flip.
type WebhookPing struct {
	At         time.Time `json:"at"`
	Kind       string    `json:"kind"`
	ExitStatus *int      `json:"exitStatus"`
}

// WebhookCheck is the job's latest HTTP check at the flip.
type WebhookCheck struct {
	Result         string `json:"result"`
	HTTPStatus     *int   `json:"httpStatus"`
	ResponseTimeMs *int64 `json:"responseTimeMs"`
	Error          string `json:"error"`
}

// NewWebhookPayload builds the webhook body of an alert.
func NewWebhookPayload(a *Alert) *WebhookPayload {
	p := &WebhookPayload{
		Event: a.Event, NotificationID: a.NotificationID, Reminder: a.Reminder, FlipID: a.FlipID,
		Status: a.Status, PreviousStatus: a.From, Reason: a.Reason, At: a.At.UTC(),
		Job:          WebhookJob{ID: a.JobID, Name: a.JobName, URL: a.JobURL},
		Project:      WebhookRef{ID: a.ProjectID, Name: a.ProjectName},
		DashboardURL: a.DashboardURL,
		Text:         a.Title() + ": " + a.Reason,
	}
	if a.LastPingAt != nil {
		p.LastPing = &WebhookPing{At: a.LastPingAt.UTC(), Kind: a.LastPingKind, ExitStatus: a.ExitStatus}
	}
	if a.CheckResult != "" {
		p.LastCheck = &WebhookCheck{Result: a.CheckResult, HTTPStatus: a.HTTPStatus, ResponseTimeMs: a.ResponseTimeMs, Error: a.CheckError}
	}
	if a.DownFor > 0 {
		s := int64(a.DownFor.Round(time.Second) / time.Second)
		p.DownForSeconds = &s
	}
	return p
}

// Sign returns the X-CronPulse-Signature value for a body sent at
// timestamp (Unix seconds, as in X-CronPulse-Timestamp):
// "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body)). Signing the
// timestamp too lets receivers refuse replays of old deliveries.
func Sign(secret, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp))
	mac.Write([]byte("."))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// WebhookSender POSTs the JSON payload to a URL (kind webhook, config {url,
// secret}).
type WebhookSender struct {
	Client    *http.Client
	UserAgent string
	Now       func() time.Time
}

var _ Sender = (*WebhookSender)(nil)

// Send implements Sender. Any 2xx is success; 400, 401, 403, 404, 405, 410,
// 413 and 422 are permanent (the URL or the receiver's contract is wrong);
// 429 honours Retry-After; anything else is retried.
func (s *WebhookSender) Send(ctx context.Context, ch *models.Channel, a *Alert) error {
	body, err := json.Marshal(NewWebhookPayload(a))
	if err != nil {
		return Permanent(fmt.Errorf("encode webhook payload: %w", err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ch.ConfigString("url"), bytes.NewReader(body))
	if err != nil {
		return Permanent(fmt.Errorf("webhook request: %w", err))
	}
	ts := strconv.FormatInt(s.Now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", s.UserAgent)
	req.Header.Set(HeaderEvent, a.Event)
	req.Header.Set(HeaderDelivery, deliveryID(a))
	req.Header.Set(HeaderTimestamp, ts)
	if secret := ch.ConfigString("secret"); secret != "" {
		req.Header.Set(HeaderSignature, Sign(secret, ts, body))
	}
	res, err := s.Client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	defer res.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(res.Body, 300))     // only for the error text; a short read loses nothing
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 1<<20)) // drain so the connection is reused
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		return nil
	}
	e := fmt.Errorf("webhook answered HTTP %d", res.StatusCode)
	if t := strings.TrimSpace(string(snippet)); t != "" {
		e = fmt.Errorf("%w: %s", e, cut(t, 200))
	}
	switch res.StatusCode {
	case 400, 401, 403, 404, 405, 410, 413, 422:
		return Permanent(e)
	case http.StatusTooManyRequests:
		if secs, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil && secs > 0 {
			return &RetryAfterError{Err: e, After: time.Duration(secs) * time.Second}
		}
	}
	return e
}

// deliveryID identifies a delivery for receivers that deduplicate: the
// notification id (stable across retries), or a test marker.
func deliveryID(a *Alert) string {
	if a.NotificationID == 0 {
		return "test-" + strconv.FormatInt(a.At.UnixNano(), 10)
	}
	return strconv.FormatInt(a.NotificationID, 10)
}
