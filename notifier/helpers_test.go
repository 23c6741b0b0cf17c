package notifier_test

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/notifier"
	"github.com/jonboulle/clockwork"
	"github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const baseURL = "https://cron.example.com"

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// fixture is a project "Acme" with a heartbeat job "nightly backup".
type fixture struct {
	t        *testing.T
	store    *models.Store
	project  *models.Project
	job      *models.Job
	slackAPI string              // SLACK_API_URL for bot channels, when a test sets one
	smtp     notifier.SMTPConfig // the mail server, when a test sets one
}

func newFixture(t *testing.T, s *models.Store) *fixture {
	t.Helper()
	name := "Acme"
	p, err := s.NewProject(&models.ProjectRequest{Name: &name})
	require.NoError(t, err)
	require.NoError(t, s.CreateProject(p))
	jn, sched, hb := "nightly backup", "@daily", true
	j, err := s.NewJob(&models.JobRequest{Name: &jn, ProjectID: &p.ID, Schedule: &sched, Heartbeat: &hb})
	require.NoError(t, err)
	require.NoError(t, s.CreateJob(j))
	return &fixture{t: t, store: s, project: p, job: j}
}

// channel adds a channel of kind with config to the project.
func (f *fixture) channel(name, kind string, cfg models.JSONMap) *models.Channel {
	f.t.Helper()
	ch, err := f.store.NewChannel(&models.ChannelRequest{ProjectID: &f.project.ID, Name: &name, Kind: &kind, Config: &cfg})
	require.NoError(f.t, err)
	require.NoError(f.t, f.store.CreateChannel(ch))
	return ch
}

// flip moves the job to status at time at and returns the flip.
func (f *fixture) flip(to, reason string, at time.Time) *models.Flip {
	f.t.Helper()
	fl, err := f.store.ChangeStatus(f.job.ID, to, reason, at)
	require.NoError(f.t, err)
	require.NotNil(f.t, fl, "→ %s must be a flip", to)
	return fl
}

// notifications returns the flip's notifications.
func (f *fixture) notifications(fl *models.Flip) []models.Notification {
	f.t.Helper()
	ns, err := f.store.Notifications(fl.ID)
	require.NoError(f.t, err)
	return ns
}

// onlyNotification collects the flip's only notification into c, for
// polled conditions (where require must not be called); it fails c while
// there is not exactly one.
func (f *fixture) onlyNotification(c *assert.CollectT, fl *models.Flip) models.Notification {
	ns, err := f.store.Notifications(fl.ID)
	if !assert.NoError(c, err) || !assert.Len(c, ns, 1) {
		return models.Notification{}
	}
	return ns[0]
}

// worker builds a worker on store with a fake clock and short waits.
func newWorker(s *models.Store, clock clockwork.Clock, cfg notifier.Config) *notifier.Worker {
	cfg.BaseURL = baseURL
	if cfg.Now == nil {
		cfg.Now = clock.Now
	}
	return notifier.NewWorker(notifier.WorkerOptions{
		Store:        s,
		Dispatcher:   notifier.NewDispatcher(cfg),
		Log:          quietLog(),
		Clock:        clock,
		PollInterval: time.Second,
		RetryBase:    10 * time.Second,
		RetryMax:     time.Hour,
		SendTimeout:  5 * time.Second,
	})
}

// slackMessage is one message the fake Slack received, decoded.
type slackMessage struct {
	Via     string // "webhook" or "bot"
	Path    string
	Token   string
	Channel string
	Text    string
	Blocks  slack.Blocks
}

// AllText flattens the message's blocks into text for content checks.
func (m slackMessage) AllText() string {
	var b strings.Builder
	b.WriteString(m.Text + "\n")
	for _, bl := range m.Blocks.BlockSet {
		switch x := bl.(type) {
		case *slack.HeaderBlock:
			b.WriteString(x.Text.Text + "\n")
		case *slack.SectionBlock:
			if x.Text != nil {
				b.WriteString(x.Text.Text + "\n")
			}
			for _, f := range x.Fields {
				b.WriteString(f.Text + "\n")
			}
		case *slack.ContextBlock:
			for _, e := range x.ContextElements.Elements {
				if t, ok := e.(*slack.TextBlockObject); ok {
					b.WriteString(t.Text + "\n")
				}
			}
		case *slack.ActionBlock:
			for _, e := range x.Elements.ElementSet {
				if btn, ok := e.(*slack.ButtonBlockElement); ok {
					b.WriteString("button " + btn.URL + "\n")
				}
			}
		}
	}
	return b.String()
}

// fakeSlack speaks both of Slack's wire formats: incoming webhooks (JSON
// POST to /services/…) and the Web API's chat.postMessage (form POST to
// /api/chat.postMessage). botError, when set, is the "error" it answers.
type fakeSlack struct {
	*httptest.Server
	mu       sync.Mutex
	messages []slackMessage
	botError string
	status   int // for webhooks; 0 means 200
}

func newFakeSlack(t *testing.T) *fakeSlack {
	fs := &fakeSlack{}
	fs.Server = httptest.NewServer(http.HandlerFunc(fs.handle))
	t.Cleanup(fs.Close)
	return fs
}

func (fs *fakeSlack) handle(w http.ResponseWriter, r *http.Request) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	switch {
	case strings.HasPrefix(r.URL.Path, "/services/"):
		var msg slack.WebhookMessage
		if err := json.NewDecoder(r.Body).Decode(&msg); err != nil || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "invalid_payload", http.StatusBadRequest)
			return
		}
		if fs.status != 0 {
			http.Error(w, "no_service", fs.status)
			return
		}
		m := slackMessage{Via: "webhook", Path: r.URL.Path, Text: msg.Text}
		if msg.Blocks != nil {
			m.Blocks = *msg.Blocks
		}
		fs.messages = append(fs.messages, m)
		_, _ = io.WriteString(w, "ok")
	case r.URL.Path == "/api/chat.postMessage":
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if fs.botError != "" {
			_, _ = io.WriteString(w, `{"ok":false,"error":"`+fs.botError+`"}`)
			return
		}
		m := slackMessage{Via: "bot", Token: r.PostForm.Get("token"), Channel: r.PostForm.Get("channel"), Text: r.PostForm.Get("text")}
		if err := json.Unmarshal([]byte(r.PostForm.Get("blocks")), &m.Blocks); err != nil {
			_, _ = io.WriteString(w, `{"ok":false,"error":"invalid_blocks"}`)
			return
		}
		fs.messages = append(fs.messages, m)
		_, _ = io.WriteString(w, `{"ok":true,"channel":"C123","ts":"1700000000.000100"}`)
	default:
		http.NotFound(w, r)
	}
}

func (fs *fakeSlack) received() []slackMessage {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return append([]slackMessage(nil), fs.messages...)
}

// receiver is a generic webhook endpoint that checks the HMAC signature
// itself (not with notifier.Sign) and can be told to fail.
type receiver struct {
	*httptest.Server
	secret     string
	mu         sync.Mutex
	hits       int              // requests, including failed ones
	payloads   []map[string]any // accepted deliveries
	byID       map[string]int   // accepted deliveries per X-CronPulse-Delivery
	failNext   int              // answer failStatus to this many requests
	failWith   int              // status for failures
	always     int              // if non-zero, answer this to every request
	retryAfter string           // Retry-After sent with failNext failures
	arrived    map[string]time.Time
}

func newReceiver(t *testing.T, secret string) *receiver {
	rc := &receiver{secret: secret, byID: map[string]int{}, arrived: map[string]time.Time{}, failWith: http.StatusServiceUnavailable}
	rc.Server = httptest.NewServer(rc)
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.hits++
	if rc.always != 0 {
		http.Error(w, "nope", rc.always)
		return
	}
	if rc.failNext > 0 {
		rc.failNext--
		if rc.retryAfter != "" {
			w.Header().Set("Retry-After", rc.retryAfter)
		}
		http.Error(w, "temporarily broken", rc.failWith)
		return
	}
	if rc.secret != "" {
		mac := hmac.New(sha256.New, []byte(rc.secret))
		mac.Write([]byte(r.Header.Get("X-CronPulse-Timestamp") + "."))
		mac.Write(body)
		want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
		if !hmac.Equal([]byte(want), []byte(r.Header.Get("X-CronPulse-Signature"))) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
	}
	var p map[string]any
	if err := json.Unmarshal(body, &p); err != nil {
		http.Error(w, "not json", http.StatusBadRequest)
		return
	}
	id := r.Header.Get("X-CronPulse-Delivery")
	rc.byID[id]++
	rc.arrived[id] = time.Now()
	rc.payloads = append(rc.payloads, p)
	w.WriteHeader(http.StatusNoContent)
}

func (rc *receiver) counts() (hits, delivered int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.hits, len(rc.payloads)
}

// smtpServer is a small SMTP server that speaks enough of RFC 5321 for
// net/smtp: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT.
type smtpServer struct {
	ln       net.Listener
	mu       sync.Mutex
	mails    []smtpMail
	rejectTo string // RCPT for this address gets 550
}

type smtpMail struct {
	From string
	To   []string
	Data []byte
}

func newSMTPServer(t *testing.T) *smtpServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &smtpServer{ln: ln}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *smtpServer) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

func (s *smtpServer) serve(c net.Conn) {
	defer c.Close()
	tp := textproto.NewConn(c)
	_ = tp.PrintfLine("220 test.local ESMTP")
	var m smtpMail
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb := strings.ToUpper(strings.SplitN(line, " ", 2)[0])
		arg := func() string {
			if i, j := strings.IndexByte(line, '<'), strings.IndexByte(line, '>'); i >= 0 && j > i {
				return line[i+1 : j]
			}
			return ""
		}
		switch verb {
		case "EHLO":
			_ = tp.PrintfLine("250-test.local")
			_ = tp.PrintfLine("250 8BITMIME")
		case "HELO", "NOOP":
			_ = tp.PrintfLine("250 ok")
		case "RSET":
			m = smtpMail{}
			_ = tp.PrintfLine("250 ok")
		case "MAIL":
			m.From = arg()
			_ = tp.PrintfLine("250 ok")
		case "RCPT":
			if a := arg(); a == s.rejectTo {
				_ = tp.PrintfLine("550 5.1.1 no such user")
			} else {
				m.To = append(m.To, a)
				_ = tp.PrintfLine("250 ok")
			}
		case "DATA":
			_ = tp.PrintfLine("354 go ahead")
			data, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			m.Data = data
			s.mu.Lock()
			s.mails = append(s.mails, m)
			s.mu.Unlock()
			m = smtpMail{}
			_ = tp.PrintfLine("250 queued")
		case "QUIT":
			_ = tp.PrintfLine("221 bye")
			return
		default:
			_ = tp.PrintfLine("502 not implemented")
		}
	}
}

func (s *smtpServer) received() []smtpMail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]smtpMail(nil), s.mails...)
}

// parsedMail is an e-mail taken apart: headers, text and HTML parts.
type parsedMail struct {
	Subject, From, To string
	Text, HTML        string
}

func parseMail(t *testing.T, data []byte) parsedMail {
	t.Helper()
	msg, err := mail.ReadMessage(bufio.NewReader(bytes.NewReader(data)))
	require.NoError(t, err)
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	require.NoError(t, err)
	out := parsedMail{Subject: subject, From: msg.Header.Get("From"), To: msg.Header.Get("To")}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	require.NoError(t, err)
	require.Equal(t, "multipart/alternative", mt)
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		b, err := io.ReadAll(p) // quoted-printable is decoded by the reader
		require.NoError(t, err)
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		switch ct {
		case "text/plain":
			out.Text = string(b)
		case "text/html":
			out.HTML = string(b)
		}
	}
	return out
}
