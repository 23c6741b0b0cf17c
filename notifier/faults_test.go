package notifier_test

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/cronpulse/cronpulse/notifier"
	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const waitFor, tick = 10 * time.Second, 5 * time.Millisecond

func startWorker(t *testing.T, w *notifier.Worker) {
	t.Helper()
	w.Start(context.Background())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		assert.NoError(t, w.Stop(ctx))
	})
}

// advance moves the fake clock on by d and waits until w is idle there.
func advance(t *testing.T, w *notifier.Worker, clock *clockwork.FakeClock, d time.Duration) {
	t.Helper()
	clock.Advance(d)
	idle(t, w, clock.Now())
}

// idle waits until w has finished a poll that began at or after at and has
// written the outcome of everything it claimed: whatever was due at at has
// been sent (or retried, or failed) by then. A test asserts that nothing
// (more) was sent only after this.
func idle(t *testing.T, w *notifier.Worker, at time.Time) {
	t.Helper()
	at = at.UTC().Truncate(time.Microsecond) // the precision the worker's clock is read at
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		s := w.Stats()
		assert.False(c, s.LastPoll.Before(at), "no poll since %s yet (last: %s)", at, s.LastPoll)
		assert.Zero(c, s.Held, "claimed notifications without an outcome")
	}, waitFor, tick, "the worker never went idle after %s", at)
}

// settled waits until the flip's only notification has finished its
// attempt number attempts (no longer claimed) and returns it.
func settled(t *testing.T, fx *fixture, fl *models.Flip, attempts int) models.Notification {
	t.Helper()
	var n models.Notification
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		n = fx.onlyNotification(c, fl)
		assert.Equal(c, attempts, n.Attempts)
		assert.Nil(c, n.ClaimedUntil, "still claimed")
	}, waitFor, tick, "attempt %d never finished", attempts)
	return n
}

// sent waits until the flip's only notification is sent.
func sent(t *testing.T, fx *fixture, fl *models.Flip) {
	t.Helper()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, models.NotifySent, fx.onlyNotification(c, fl).State)
	}, waitFor, tick, "never sent")
}

// TestFailFiveTimesThenRecover: exactly one delivery, after five retries
// spaced by a growing, jittered backoff.
func TestFailFiveTimesThenRecover(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		fx := newFixture(t, s)
		rc := newReceiver(t, "")
		rc.failNext = 5
		fx.channel("hook", models.ChannelWebhook, models.JSONMap{"url": rc.URL})
		clock := clockwork.NewFakeClockAt(t0)
		w := newWorker(s, clock, notifier.Config{})
		s.SetFlipListener(w.Listener())
		startWorker(t, w)

		fl := fx.flip(models.StatusDown, "missed heartbeat", t0)
		for i := 1; i <= 5; i++ {
			n := settled(t, fx, fl, i)
			assert.Equal(t, models.NotifyPending, n.State)
			assert.Contains(t, n.LastError, "HTTP 503")
			// RetryBase 10s doubling, equal jitter: [d/2, d].
			d := 10 * time.Second << (i - 1)
			wait := n.NextAttemptAt.Sub(clock.Now())
			assert.GreaterOrEqual(t, wait, d/2-time.Millisecond, "attempt %d", i)
			assert.LessOrEqual(t, wait, d+time.Millisecond, "attempt %d", i)
			clock.Advance(wait + time.Second)
		}
		n := settled(t, fx, fl, 6)
		sent(t, fx, fl)
		// Much later, nothing more is sent.
		for range 3 {
			advance(t, w, clock, 12*time.Hour)
		}
		hits, delivered := rc.counts()
		assert.Equal(t, 6, hits)
		assert.Equal(t, 1, delivered)
		n = fx.notifications(fl)[0]
		assert.Equal(t, models.NotifySent, n.State)
		assert.Equal(t, 6, n.Attempts)
		assert.Empty(t, n.LastError)
		require.NotNil(t, n.SentAt)
	})
}

// TestPermanentErrorsFailAtOnce: a 404 webhook, a Slack webhook that is
// gone, a revoked bot token and an unknown Slack channel are each tried
// once, marked failed with the reason, and never retried.
func TestPermanentErrorsFailAtOnce(t *testing.T) {
	cases := []struct {
		name   string
		setup  func(t *testing.T, fx *fixture) (hits func() int)
		reason string
	}{
		{"webhook 404", func(t *testing.T, fx *fixture) func() int {
			rc := newReceiver(t, "")
			rc.always = http.StatusNotFound
			fx.channel("hook", models.ChannelWebhook, models.JSONMap{"url": rc.URL})
			return func() int { h, _ := rc.counts(); return h }
		}, "HTTP 404"},
		{"slack webhook 404", func(t *testing.T, fx *fixture) func() int {
			fs := newFakeSlack(t)
			fs.status = http.StatusNotFound
			fx.channel("slack", models.ChannelSlackWebhook, models.JSONMap{"url": fs.URL + "/services/T/B/X"})
			return func() int { return -1 }
		}, "HTTP 404"},
		{"invalid_token", func(t *testing.T, fx *fixture) func() int {
			fs := newFakeSlack(t)
			fs.botError = "invalid_token"
			fx.channel("bot", models.ChannelSlackBot, models.JSONMap{"token": "xoxb-revoked", "channel": "#ops"})
			fx.slackAPI = fs.URL + "/api/"
			return func() int { return -1 }
		}, "invalid_token"},
		{"smtp 550", func(t *testing.T, fx *fixture) func() int {
			srv := newSMTPServer(t)
			srv.rejectTo = "gone@example.com"
			fx.channel("mail", models.ChannelEmail, models.JSONMap{"to": []any{"gone@example.com"}})
			fx.smtp = notifier.SMTPConfig{Host: "127.0.0.1", Port: srv.port(), From: "a@example.com", TLS: notifier.TLSNone}
			return func() int { return -1 }
		}, "550"},
		{"e-mail not configured", func(t *testing.T, fx *fixture) func() int {
			fx.channel("mail", models.ChannelEmail, models.JSONMap{"to": []any{"ops@example.com"}})
			return func() int { return -1 }
		}, "SMTP_HOST"},
		{"channel_not_found", func(t *testing.T, fx *fixture) func() int {
			fs := newFakeSlack(t)
			fs.botError = "channel_not_found"
			fx.channel("bot", models.ChannelSlackBot, models.JSONMap{"token": "xoxb-1", "channel": "#gone"})
			fx.slackAPI = fs.URL + "/api/"
			return func() int { return -1 }
		}, "channel_not_found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			modelstest.Each(t, func(t *testing.T, s *models.Store) {
				fx := newFixture(t, s)
				hits := tc.setup(t, fx)
				clock := clockwork.NewFakeClockAt(t0)
				w := newWorker(s, clock, notifier.Config{SlackAPIURL: fx.slackAPI, SMTP: fx.smtp})
				s.SetFlipListener(w.Listener())
				startWorker(t, w)
				fl := fx.flip(models.StatusDown, "missed heartbeat", t0)
				n := settled(t, fx, fl, 1)
				assert.Equal(t, models.NotifyFailed, n.State)
				assert.Contains(t, n.LastError, tc.reason)
				for range 4 {
					advance(t, w, clock, 12*time.Hour)
				}
				n = fx.notifications(fl)[0]
				assert.Equal(t, 1, n.Attempts, "no retry storm")
				if h := hits(); h >= 0 {
					assert.Equal(t, 1, h)
				}
				ch, err := s.Channel(n.ChannelID)
				require.NoError(t, err)
				assert.Contains(t, ch.LastError, tc.reason, "the channel shows its last error")
			})
		})
	}
}

// TestGivesUpAfterADay: a receiver that never recovers is retried with
// backoff (at most hourly once the backoff is capped) and given up after
// 24 hours.
func TestGivesUpAfterADay(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		fx := newFixture(t, s)
		rc := newReceiver(t, "")
		rc.always = http.StatusBadGateway
		fx.channel("hook", models.ChannelWebhook, models.JSONMap{"url": rc.URL})
		clock := clockwork.NewFakeClockAt(t0)
		w := newWorker(s, clock, notifier.Config{})
		s.SetFlipListener(w.Listener())
		startWorker(t, w)
		fl := fx.flip(models.StatusDown, "", t0)
		attempts := 0
		for {
			attempts++
			n := settled(t, fx, fl, attempts)
			if n.State == models.NotifyFailed {
				assert.Contains(t, n.LastError, "gave up after")
				assert.Contains(t, n.LastError, "HTTP 502")
				break
			}
			require.Less(t, attempts, 60, "retries never stop")
			clock.Advance(n.NextAttemptAt.Sub(clock.Now()) + time.Second)
		}
		assert.Less(t, clock.Since(t0), 26*time.Hour)
		assert.Greater(t, attempts, 10)
		hits, _ := rc.counts()
		assert.Equal(t, attempts, hits)
	})
}

// TestReceiverDownAcrossRestart: the receiver is down when the flip
// happens and while CronPulse restarts; the notification survives in the
// database and is delivered once by the new process.
func TestReceiverDownAcrossRestart(t *testing.T) {
	for _, db := range modelstest.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			db.SkipIfMissing(t)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			addr := ln.Addr().String()
			require.NoError(t, ln.Close()) // down: connections are refused

			s1 := modelstest.Open(t, db.URL, nil)
			fx := newFixture(t, s1)
			fx.channel("hook", models.ChannelWebhook, models.JSONMap{"url": "http://" + addr + "/hook"})
			clock := clockwork.NewFakeClockAt(t0)
			w1 := newWorker(s1, clock, notifier.Config{})
			s1.SetFlipListener(w1.Listener())
			w1.Start(context.Background())
			fl := fx.flip(models.StatusDown, "missed heartbeat", t0)
			n := settled(t, fx, fl, 1)
			assert.Equal(t, models.NotifyPending, n.State)
			assert.Contains(t, n.LastError, "connection refused")
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			require.NoError(t, w1.Stop(ctx))
			cancel()
			require.NoError(t, models.Close(s1.DB()))

			// The receiver comes back on the same address; a new process
			// starts a while later.
			ln2, err := net.Listen("tcp", addr)
			require.NoError(t, err)
			rc := &receiver{byID: map[string]int{}, arrived: map[string]time.Time{}}
			srv := &http.Server{Handler: rc}
			go func() { _ = srv.Serve(ln2) }()
			t.Cleanup(func() { _ = srv.Close() })

			s2 := modelstest.Open(t, db.URL, nil)
			clock2 := clockwork.NewFakeClockAt(t0.Add(time.Hour))
			w2 := newWorker(s2, clock2, notifier.Config{})
			startWorker(t, w2)
			fx2 := &fixture{t: t, store: s2, project: fx.project, job: fx.job}
			sent(t, fx2, fl)
			_, delivered := rc.counts()
			assert.Equal(t, 1, delivered)
			assert.Equal(t, 2, fx2.notifications(fl)[0].Attempts)
		})
	}
}

// TestConcurrentWorkersNeverSendTwice: two instances (separate pools,
// separate workers) share one database; every notification is delivered
// exactly once.
func TestConcurrentWorkersNeverSendTwice(t *testing.T) {
	for _, db := range modelstest.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			db.SkipIfMissing(t)
			s1 := modelstest.Open(t, db.URL, nil)
			s2 := modelstest.Open(t, db.URL, nil)
			fx := newFixture(t, s1)
			rc := newReceiver(t, "")
			fx.channel("hook", models.ChannelWebhook, models.JSONMap{"url": rc.URL})
			fx.channel("hook 2", models.ChannelWebhook, models.JSONMap{"url": rc.URL + "/2"})
			real := clockwork.NewRealClock()
			w1, w2 := newWorker(s1, real, notifier.Config{}), newWorker(s2, real, notifier.Config{})
			// No pre-claims: both workers must race for every row through claims.
			s1.SetFlipListener(&models.FlipListener{Flip: func(int64) { w1.Nudge(); w2.Nudge() }})
			w1.Start(context.Background())
			w2.Start(context.Background())
			stopped := false
			stop := func() {
				if stopped {
					return
				}
				stopped = true
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				assert.NoError(t, w1.Stop(ctx))
				assert.NoError(t, w2.Stop(ctx))
			}
			t.Cleanup(stop)
			const flips = 30
			at := time.Now().UTC().Add(-time.Hour)
			for i := range flips {
				to := models.StatusDown
				if i%2 == 1 {
					to = models.StatusUp
				}
				fx.flip(to, "", at.Add(time.Duration(i)*time.Second))
			}
			require.Eventually(t, func() bool { _, d := rc.counts(); return d >= 2*flips }, waitFor, tick)
			// Both stopped, neither can send again: what the receiver has
			// is everything they ever sent.
			stop()
			rc.mu.Lock()
			defer rc.mu.Unlock()
			assert.Len(t, rc.byID, 2*flips)
			for id, c := range rc.byID {
				assert.Equal(t, 1, c, "delivery %s", id)
			}
		})
	}
}

// TestRetryAfterIsHonoured: a 429 with Retry-After waits at least that
// long, even when the backoff would be shorter.
func TestRetryAfterIsHonoured(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		fx := newFixture(t, s)
		rc := newReceiver(t, "")
		rc.failNext, rc.failWith, rc.retryAfter = 1, http.StatusTooManyRequests, "600"
		fx.channel("hook", models.ChannelWebhook, models.JSONMap{"url": rc.URL})
		clock := clockwork.NewFakeClockAt(t0)
		w := newWorker(s, clock, notifier.Config{})
		s.SetFlipListener(w.Listener())
		startWorker(t, w)
		fl := fx.flip(models.StatusDown, "", t0)
		n := settled(t, fx, fl, 1)
		assert.Contains(t, n.LastError, "HTTP 429")
		assert.GreaterOrEqual(t, n.NextAttemptAt.Sub(clock.Now()), 10*time.Minute)
		advance(t, w, clock, 5*time.Minute)
		assert.Equal(t, 1, fx.notifications(fl)[0].Attempts, "not before Retry-After")
		clock.Advance(6 * time.Minute)
		sent(t, fx, fl)
	})
}

// TestErrorsDoNotLeakSecrets: Go's HTTP client writes the whole URL into
// its errors, and a webhook URL's path is a secret; lastError (shown by the
// API) gets the masked form.
func TestErrorsDoNotLeakSecrets(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := ln.Addr().String()
		require.NoError(t, ln.Close()) // nothing listens: connection refused
		fx := newFixture(t, s)
		fx.channel("hook", models.ChannelWebhook, models.JSONMap{"url": "http://" + addr + "/hooks/SECRETPATH1"})
		fx.channel("slack", models.ChannelSlackWebhook, models.JSONMap{"url": "http://" + addr + "/services/T0/B0/SECRETPATH2"})
		clock := clockwork.NewFakeClockAt(t0)
		w := newWorker(s, clock, notifier.Config{})
		s.SetFlipListener(w.Listener())
		startWorker(t, w)
		fl := fx.flip(models.StatusDown, "", t0)
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			ns, err := s.Notifications(fl.ID)
			assert.NoError(c, err)
			if assert.Len(c, ns, 2) {
				assert.NotEmpty(c, ns[0].LastError)
				assert.NotEmpty(c, ns[1].LastError)
			}
		}, waitFor, tick)
		for _, n := range fx.notifications(fl) {
			assert.NotContains(t, n.LastError, "SECRETPATH")
			assert.Contains(t, n.LastError, "****")
			assert.Contains(t, n.LastError, "connection refused")
			ch, err := s.Channel(n.ChannelID)
			require.NoError(t, err)
			assert.NotContains(t, ch.LastError, "SECRETPATH")
		}
	})
}
