package notifier_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/cronpulse/cronpulse/notifier"
	"github.com/jonboulle/clockwork"
	"github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// TestContentOnEveryChannelKind sends one DOWN and one UP flip to all four
// kinds of channel, each received by a server speaking the real protocol,
// and checks what each message says.
func TestContentOnEveryChannelKind(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		fx := newFixture(t, s)
		slk := newFakeSlack(t)
		hook := newReceiver(t, "hmac-secret")
		smtp := newSMTPServer(t)
		fx.channel("slack hook", models.ChannelSlackWebhook, models.JSONMap{"url": slk.URL + "/services/T00/B00/XYZ"})
		fx.channel("slack bot", models.ChannelSlackBot, models.JSONMap{"token": "xoxb-1-2-abc", "channel": "#ops"})
		fx.channel("hook", models.ChannelWebhook, models.JSONMap{"url": hook.URL + "/cronpulse", "secret": "hmac-secret"})
		fx.channel("mail", models.ChannelEmail, models.JSONMap{"to": []any{"ops@example.com", "Dev <dev@example.com>"}})

		clock := clockwork.NewFakeClockAt(t0.Add(time.Minute))
		w := newWorker(s, clock, notifier.Config{
			SlackAPIURL: slk.URL + "/api/",
			SMTP:        notifier.SMTPConfig{Host: "127.0.0.1", Port: smtp.port(), From: "CronPulse <alerts@example.com>", TLS: notifier.TLSAuto},
		})
		_, err := s.ChangeStatus(fx.job.ID, models.StatusUp, "", t0.Add(-time.Hour))
		require.NoError(t, err)
		down := fx.flip(models.StatusDown, "missed heartbeat", t0)
		n, err := w.RunOnce(context.Background())
		require.NoError(t, err)
		require.Equal(t, 4, n)
		for _, nt := range fx.notifications(down) {
			assert.Equal(t, models.NotifySent, nt.State, "channel %s: %s", nt.ChannelID, nt.LastError)
			assert.Equal(t, 1, nt.Attempts)
		}

		link := baseURL + "/jobs/" + fx.job.ID
		msgs := slk.received()
		require.Len(t, msgs, 2)
		vias := map[string]slackMessage{}
		for _, m := range msgs {
			vias[m.Via] = m
			text := m.AllText()
			for _, want := range []string{"nightly backup", "Acme", "DOWN", "missed heartbeat", link} {
				assert.Contains(t, text, want, "%s message", m.Via)
			}
			require.NotEmpty(t, m.Blocks.BlockSet)
			assert.Equal(t, slack.MBTHeader, m.Blocks.BlockSet[0].BlockType(), "a Block Kit message starts with a header")
		}
		assert.Equal(t, "/services/T00/B00/XYZ", vias["webhook"].Path)
		assert.Equal(t, "xoxb-1-2-abc", vias["bot"].Token)
		assert.Equal(t, "#ops", vias["bot"].Channel)

		_, delivered := hook.counts()
		require.Equal(t, 1, delivered, "the webhook accepted a correctly signed delivery")
		p := hook.payloads[0]
		assert.Equal(t, "flip", p["event"])
		assert.Equal(t, "down", p["status"])
		assert.Equal(t, "up", p["previousStatus"])
		assert.Equal(t, "missed heartbeat", p["reason"])
		assert.Equal(t, link, p["dashboardUrl"])
		assert.Equal(t, "nightly backup", p["job"].(map[string]any)["name"])
		assert.Equal(t, "Acme", p["project"].(map[string]any)["name"])

		mails := smtp.received()
		require.Len(t, mails, 1)
		assert.Equal(t, "alerts@example.com", mails[0].From)
		assert.Equal(t, []string{"ops@example.com", "dev@example.com"}, mails[0].To)
		pm := parseMail(t, mails[0].Data)
		assert.Equal(t, "[CronPulse] DOWN: nightly backup (Acme)", pm.Subject)
		for _, body := range []string{pm.Text, pm.HTML} {
			for _, want := range []string{"nightly backup", "Acme", "DOWN", "missed heartbeat", link} {
				assert.Contains(t, body, want)
			}
		}
		assert.Contains(t, pm.HTML, `<a href="`+link+`"`)

		// Recovery 1h30m later: UP with the downtime, everywhere.
		clock.Advance(2 * time.Hour)
		fx.flip(models.StatusUp, "ping received", t0.Add(90*time.Minute))
		n, err = w.RunOnce(context.Background())
		require.NoError(t, err)
		require.Equal(t, 4, n)
		msgs = slk.received()
		require.Len(t, msgs, 4)
		for _, m := range msgs[2:] {
			text := m.AllText()
			assert.Contains(t, text, "UP: nightly backup (Acme)")
			assert.Contains(t, text, "1h 30m")
		}
		assert.Equal(t, "up", hook.payloads[1]["status"])
		assert.EqualValues(t, 5400, hook.payloads[1]["downForSeconds"])
		pm = parseMail(t, smtp.received()[1].Data)
		assert.Contains(t, pm.Text, "Down for: 1h 30m")
	})
}

// TestHTTPCheckReasonNamesStatus: a flip written without a reason still
// says what the check saw.
func TestAlertFactsFromCheckRun(t *testing.T) {
	status := 503
	rt := int64(42)
	a := notifier.NewAlert(&models.Delivery{
		Notification: models.Notification{ID: 7},
		Flip:         models.Flip{ID: 3, FromStatus: "up", ToStatus: "down", CreatedAt: t0},
		Job:          models.Job{ID: "j1", Name: "api health", URL: "https://api.example.com/health"},
		Project:      models.Project{ID: "p1", Name: "Acme"},
		LastRun:      &models.CheckRun{Result: models.RunFailure, HTTPStatus: &status, ResponseTimeMs: rt},
	}, baseURL, t0)
	assert.Equal(t, "the check got HTTP 503", a.Reason)
	assert.Equal(t, "DOWN: api health (Acme)", a.Title())
	var facts []string
	for _, f := range a.Facts() {
		facts = append(facts, f.Label+"="+f.Value)
	}
	assert.Contains(t, strings.Join(facts, "\n"), "Last check=HTTP 503 in 42 ms")
	assert.Equal(t, baseURL+"/jobs/j1", a.DashboardURL)
}

func TestDuration(t *testing.T) {
	for in, want := range map[time.Duration]string{
		42 * time.Second:                 "42s",
		90 * time.Minute:                 "1h 30m",
		26*time.Hour + 5*time.Minute:     "1d 2h 5m",
		3*time.Minute + 20*time.Second:   "3m 20s",
		time.Hour + 400*time.Millisecond: "1h",
	} {
		t.Run(in.String(), func(t *testing.T) {
			assert.Equal(t, want, notifier.Duration(in), in.String())
		})
	}
}

// TestRemindersWhileDown: a channel with remindEvery repeats the alert
// while the job stays down, and stops once it is up.
func TestRemindersWhileDown(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		fx := newFixture(t, s)
		rc := newReceiver(t, "")
		ch := fx.channel("hook", models.ChannelWebhook, models.JSONMap{"url": rc.URL})
		every := 30
		_, err := s.UpdateChannel(ch.ID, &models.ChannelRequest{RemindEvery: &every})
		require.NoError(t, err)
		clock := clockwork.NewFakeClockAt(t0)
		w := newWorker(s, clock, notifier.Config{})
		s.SetFlipListener(w.Listener())
		startWorker(t, w)
		_, err = s.ChangeStatus(fx.job.ID, models.StatusDown, "missed heartbeat", t0)
		require.NoError(t, err)
		delivered := func(n int) {
			t.Helper()
			require.Eventually(t, func() bool { _, d := rc.counts(); return d >= n }, waitFor, tick)
		}
		delivered(1)
		clock.Advance(31 * time.Minute)
		delivered(2)
		rc.mu.Lock()
		p := rc.payloads[1]
		rc.mu.Unlock()
		assert.Equal(t, "reminder", p["event"])
		assert.EqualValues(t, 1, p["reminder"])
		assert.Equal(t, "down", p["status"])
		assert.InDelta(t, 31*60, p["downForSeconds"], 2)
		assert.Contains(t, p["text"], "Still DOWN: nightly backup (Acme)")

		_, err = s.ChangeStatus(fx.job.ID, models.StatusUp, "ping", clock.Now())
		require.NoError(t, err)
		delivered(3)
		advance(t, w, clock, 2*time.Hour)
		_, d := rc.counts()
		assert.Equal(t, 3, d, "no reminders once up")
	})
}
