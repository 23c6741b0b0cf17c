package notifier

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"html/template"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/cronpulse/cronpulse/models"
)

// SMTP TLS modes (SMTP_TLS).
const (
	TLSAuto     = "auto"     // STARTTLS when the server offers it
	TLSStartTLS = "starttls" // STARTTLS required
	TLSImplicit = "tls"      // TLS from the first byte (port 465)
	TLSNone     = "none"     // plain text (a relay on localhost)
)

// SMTPConfig is the mail server e-mail channels send through.
type SMTPConfig struct {
	Host     string // SMTP_HOST; "" means e-mail is not configured
	Port     int    // SMTP_PORT
	Username string // SMTP_USERNAME; "" sends without AUTH
	Password string // SMTP_PASSWORD
	From     string // SMTP_FROM
	TLS      string // SMTP_TLS: auto, starttls, tls or none
	Timeout  time.Duration
}

// EmailSender sends alerts as multipart text + HTML mail (kind email,
// config {to: [...]}).
type EmailSender struct {
	Config SMTPConfig
	Now    func() time.Time
}

var _ Sender = (*EmailSender)(nil)

// Send implements Sender. SMTP 5xx replies are permanent, 4xx and
// connection failures are retried.
func (s *EmailSender) Send(ctx context.Context, ch *models.Channel, a *Alert) error {
	c := s.Config
	if c.Host == "" {
		return Permanent(errors.New("e-mail is not configured: set SMTP_HOST"))
	}
	to := ch.ConfigStrings("to")
	if len(to) == 0 {
		return Permanent(errors.New("the channel has no recipients"))
	}
	msg, err := BuildEmail(c.From, to, a, s.Now())
	if err != nil {
		return Permanent(err)
	}
	timeout := c.Timeout
	if timeout == 0 {
		timeout = 15 * time.Second
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < timeout {
		timeout = time.Until(dl)
	}
	err = s.deliver(ctx, to, msg, timeout)
	var tp *textproto.Error
	if errors.As(err, &tp) && tp.Code >= 500 {
		return Permanent(fmt.Errorf("smtp: %w", err))
	}
	if err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	return nil
}

// deliver runs one SMTP session.
func (s *EmailSender) deliver(ctx context.Context, to []string, msg []byte, timeout time.Duration) error {
	c := s.Config
	addr := net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
	dialer := &net.Dialer{Timeout: timeout}
	var conn net.Conn
	var err error
	tlsCfg := &tls.Config{ServerName: c.Host, MinVersion: tls.VersionTLS12}
	if c.TLS == TLSImplicit {
		conn, err = (&tls.Dialer{NetDialer: dialer, Config: tlsCfg}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = dialer.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return fmt.Errorf("connect to %s: %w", addr, err)
	}
	_ = conn.SetDeadline(time.Now().Add(timeout)) // a fresh connection accepts a deadline
	client, err := smtp.NewClient(conn, c.Host)
	if err != nil {
		conn.Close()
		return err
	}
	defer client.Close()
	if c.TLS == TLSStartTLS || c.TLS == TLSAuto {
		if ok, _ := client.Extension("STARTTLS"); ok {
			if err := client.StartTLS(tlsCfg); err != nil {
				return fmt.Errorf("starttls: %w", err)
			}
		} else if c.TLS == TLSStartTLS {
			return errors.New("the server does not offer STARTTLS (SMTP_TLS=starttls)")
		}
	}
	if c.Username != "" {
		if err := client.Auth(smtp.PlainAuth("", c.Username, c.Password, c.Host)); err != nil {
			return fmt.Errorf("auth: %w", err)
		}
	}
	if err := client.Mail(addressOnly(c.From)); err != nil {
		return err
	}
	for _, rcpt := range to {
		if err := client.Rcpt(rcpt); err != nil {
			return err
		}
	}
	w, err := client.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return client.Quit()
}

// addressOnly takes the bare address out of "Name <addr>".
func addressOnly(from string) string {
	if i, j := strings.LastIndexByte(from, '<'), strings.LastIndexByte(from, '>'); i >= 0 && j > i {
		return from[i+1 : j]
	}
	return from
}

// BuildEmail writes the whole message: headers and a multipart/alternative
// body with a text and an HTML part, both quoted-printable UTF-8.
func BuildEmail(from string, to []string, a *Alert, now time.Time) ([]byte, error) {
	var text, html bytes.Buffer
	fmt.Fprintf(&text, "%s\n\n", a.Title())
	for _, f := range a.Facts() {
		fmt.Fprintf(&text, "%s: %s\n", f.Label, f.Value)
	}
	fmt.Fprintf(&text, "\nOpen the job: %s\n\n-- \nCronPulse\n", a.DashboardURL)
	if err := emailHTML.Execute(&html, a); err != nil {
		return nil, fmt.Errorf("render e-mail: %w", err)
	}

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, part := range []struct {
		ctype string
		data  []byte
	}{{"text/plain; charset=utf-8", text.Bytes()}, {"text/html; charset=utf-8", html.Bytes()}} {
		pw, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.ctype},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		qp := quotedprintable.NewWriter(pw)
		if _, err := qp.Write(part.data); err != nil {
			return nil, err
		}
		if err := qp.Close(); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}

	var msg bytes.Buffer
	header := func(k, v string) { fmt.Fprintf(&msg, "%s: %s\r\n", k, v) }
	header("From", from)
	header("To", strings.Join(to, ", "))
	header("Subject", mime.QEncoding.Encode("utf-8", "[CronPulse] "+a.Title()))
	header("Date", now.UTC().Format(time.RFC1123Z))
	header("Message-ID", fmt.Sprintf("<%s.%d.%d@cronpulse>", deliveryID(a), a.FlipID, now.UnixNano()))
	header("MIME-Version", "1.0")
	header("Content-Type", "multipart/alternative; boundary="+mw.Boundary())
	header("Auto-Submitted", "auto-generated")
	msg.WriteString("\r\n")
	msg.Write(body.Bytes())
	return msg.Bytes(), nil
}

var emailHTML = template.Must(template.New("email").Parse(`<!doctype html>
<html><body style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#1f2328">
<h2 style="margin:0 0 12px;color:{{if eq .Status "up"}}#1a7f37{{else}}#cf222e{{end}}">{{.Title}}</h2>
<table cellpadding="4" style="border-collapse:collapse">
{{range .Facts}}<tr><th align="left" style="padding-right:16px">{{.Label}}</th><td>{{.Value}}</td></tr>
{{end}}</table>
<p><a href="{{.DashboardURL}}" style="display:inline-block;padding:8px 14px;background:#0969da;color:#fff;text-decoration:none;border-radius:6px">Open {{.JobName}} in CronPulse</a></p>
<p style="color:#656d76;font-size:12px">Sent by CronPulse</p>
</body></html>
`))
