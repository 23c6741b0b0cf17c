package notifier

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/cronpulse/cronpulse/models"
)

// Sender delivers an alert to one kind of channel. A failure that retrying
// cannot fix is returned as a *PermanentError.
type Sender interface {
	Send(ctx context.Context, ch *models.Channel, a *Alert) error
}

// Config configures the senders.
type Config struct {
	BaseURL     string // for links to the dashboard
	SlackAPIURL string // Slack's Web API; "" means https://slack.com/api/
	SMTP        SMTPConfig
	UserAgent   string
	// HTTPClient is used for Slack and webhooks; nil builds one with a 15 s
	// timeout and a connection pool sized for concurrent deliveries.
	HTTPClient *http.Client
	Now        func() time.Time // nil: time.Now
}

// Dispatcher routes an alert to the sender of its channel's kind.
type Dispatcher struct {
	baseURL string
	now     func() time.Time
	senders map[string]Sender
}

// NewDispatcher builds the senders for every channel kind.
func NewDispatcher(c Config) *Dispatcher {
	if c.Now == nil {
		c.Now = time.Now
	}
	client := c.HTTPClient
	if client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 64
		client = &http.Client{Timeout: 15 * time.Second, Transport: tr}
	}
	return &Dispatcher{
		baseURL: c.BaseURL,
		now:     c.Now,
		senders: map[string]Sender{
			models.ChannelSlackWebhook: &SlackWebhookSender{Client: client},
			models.ChannelSlackBot:     &SlackBotSender{Client: client, APIURL: c.SlackAPIURL},
			models.ChannelWebhook:      &WebhookSender{Client: client, UserAgent: c.UserAgent, Now: c.Now},
			models.ChannelEmail:        &EmailSender{Config: c.SMTP, Now: c.Now},
		},
	}
}

// Send delivers a to ch.
func (d *Dispatcher) Send(ctx context.Context, ch *models.Channel, a *Alert) error {
	s, ok := d.senders[ch.Kind]
	if !ok {
		return Permanent(fmt.Errorf("unknown channel kind %q", ch.Kind))
	}
	return redact(s.Send(ctx, ch, a), ch)
}

// redactedError is an error whose text had a channel's secrets masked; it
// unwraps to the original, so permanence and Retry-After still show.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redact masks the channel's secrets in err's text: Go's HTTP client puts
// the whole URL in its errors, and a webhook URL's path is a secret. The
// text ends up in logs and in lastError, which the API shows.
func redact(err error, ch *models.Channel) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	masked := models.MaskConfig(ch.Kind, ch.Config)
	for k, v := range ch.Config {
		secret, ok := v.(string)
		if !ok || len(secret) < 4 {
			continue
		}
		if m, ok := masked[k].(string); ok && m != secret {
			msg = strings.ReplaceAll(msg, secret, m)
		}
	}
	if msg == err.Error() {
		return err
	}
	return &redactedError{msg: msg, err: err}
}

// Alert builds the alert for a claimed delivery.
func (d *Dispatcher) Alert(del *models.Delivery) *Alert {
	return NewAlert(del, d.baseURL, d.now())
}

// Test sends a test message to ch, for POST /channels/{id}/test.
func (d *Dispatcher) Test(ctx context.Context, ch *models.Channel, projectName string) error {
	return d.Send(ctx, ch, testAlert(ch, projectName, d.baseURL, d.now().UTC()))
}
