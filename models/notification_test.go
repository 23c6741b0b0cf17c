package models_test

import (
	"errors"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// outboxFixture is a project with one job and the given channels.
func outboxFixture(t *testing.T, s *models.Store, channels ...models.ChannelRequest) (*models.Job, []*models.Channel) {
	t.Helper()
	name := "Acme"
	p, err := s.NewProject(&models.ProjectRequest{Name: &name})
	require.NoError(t, err)
	require.NoError(t, s.CreateProject(p))
	jn, sched, hb := "nightly backup", "@daily", true
	j, err := s.NewJob(&models.JobRequest{Name: &jn, ProjectID: &p.ID, Schedule: &sched, Heartbeat: &hb})
	require.NoError(t, err)
	require.NoError(t, s.CreateJob(j))
	var out []*models.Channel
	for _, r := range channels {
		r.ProjectID = &p.ID
		ch, err := s.NewChannel(&r)
		require.NoError(t, err)
		require.NoError(t, s.CreateChannel(ch))
		out = append(out, ch)
	}
	return j, out
}

func webhookChannel(name string, enabled bool) models.ChannelRequest {
	kind := models.ChannelWebhook
	return models.ChannelRequest{Name: &name, Kind: &kind, Enabled: &enabled,
		Config: &models.JSONMap{"url": "http://127.0.0.1:9/hook", "secret": "s3cret"}}
}

func TestFlipWritesOneNotificationPerEnabledChannel(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		j, chans := outboxFixture(t, s, webhookChannel("a", true), webhookChannel("b", true), webhookChannel("off", false))
		nudged := 0
		s.SetFlipListener(&models.FlipListener{Flip: func(id int64) { nudged++; assert.NotZero(t, id) }})
		at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

		// new → up is not a flip: nothing to send.
		f, err := s.ChangeStatus(j.ID, models.StatusUp, "", at)
		require.NoError(t, err)
		assert.Nil(t, f)

		f, err = s.ChangeStatus(j.ID, models.StatusDown, "missed heartbeat", at)
		require.NoError(t, err)
		require.NotNil(t, f)
		ns, err := s.Notifications(f.ID)
		require.NoError(t, err)
		require.Len(t, ns, 2)
		got := []string{ns[0].ChannelID, ns[1].ChannelID}
		sort.Strings(got)
		want := []string{chans[0].ID, chans[1].ID}
		sort.Strings(want)
		assert.Equal(t, want, got)
		for _, n := range ns {
			assert.Equal(t, models.NotifyPending, n.State)
			assert.Equal(t, 0, n.Attempts)
			assert.True(t, n.NextAttemptAt.Equal(at), "due at the flip: %s", n.NextAttemptAt)
		}
		assert.Equal(t, 1, nudged)
	})
}

func TestClaimIsExclusiveAndHonoursLeaseAndSchedule(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		j, _ := outboxFixture(t, s, webhookChannel("a", true), webhookChannel("b", true))
		at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		var flips []*models.Flip
		for i := range 10 { // 10 flips × 2 channels = 20 notifications
			to := models.StatusDown
			if i%2 == 1 {
				to = models.StatusUp
			}
			f, err := s.ChangeStatus(j.ID, to, "", at.Add(time.Duration(i)*time.Second))
			require.NoError(t, err)
			flips = append(flips, f)
		}
		now := at.Add(time.Minute)

		// Not yet due: nothing.
		ns, err := s.ClaimDueNotifications(at.Add(-time.Second), time.Minute, 100)
		require.NoError(t, err)
		assert.Empty(t, ns)

		// Eight claimers at once: every row claimed exactly once.
		var mu sync.Mutex
		seen := map[int64]int{}
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					got, err := s.ClaimDueNotifications(now, time.Minute, 3)
					if !assert.NoError(t, err) || len(got) == 0 {
						return
					}
					mu.Lock()
					for _, n := range got {
						seen[n.ID]++
						assert.Equal(t, 1, n.Attempts)
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		require.Len(t, seen, 20)
		for id, c := range seen {
			assert.Equal(t, 1, c, "notification %d claimed %d times", id, c)
		}

		// While the lease holds nobody gets them; after it runs out (the
		// sender died) they come back, attempts counted.
		ns, err = s.ClaimDueNotifications(now.Add(30*time.Second), time.Minute, 100)
		require.NoError(t, err)
		assert.Empty(t, ns)
		ns, err = s.ClaimDueNotifications(now.Add(2*time.Minute), time.Minute, 100)
		require.NoError(t, err)
		require.Len(t, ns, 20)
		assert.Equal(t, 2, ns[0].Attempts)

		// Outcomes: sent, retried later, failed.
		later := now.Add(3 * time.Minute)
		require.NoError(t, s.MarkNotificationsSent([]int64{ns[0].ID}, []string{ns[0].ChannelID}, later))
		require.NoError(t, s.RetryNotification(&ns[1], errors.New("HTTP 503"), later.Add(time.Hour), later))
		require.NoError(t, s.FailNotification(&ns[2], errors.New("HTTP 404"), later))
		for _, n := range ns[3:] {
			require.NoError(t, s.MarkNotificationsSent([]int64{n.ID}, nil, later))
		}
		ns2, err := s.ClaimDueNotifications(later.Add(time.Minute), time.Minute, 100)
		require.NoError(t, err)
		assert.Empty(t, ns2, "sent and failed rows are never claimed, the retry waits for its time")
		ns2, err = s.ClaimDueNotifications(later.Add(2*time.Hour), time.Minute, 100)
		require.NoError(t, err)
		require.Len(t, ns2, 1)
		assert.Equal(t, ns[1].ID, ns2[0].ID)
		assert.Equal(t, "HTTP 503", ns2[0].LastError)

		ch, err := s.Channel(ns[2].ChannelID)
		require.NoError(t, err)
		assert.Equal(t, "HTTP 404", ch.LastError)
		require.NotNil(t, ch.LastErrorAt)

		// The flips list shows each notification's state in one query.
		byFlip, err := s.FlipNotifications([]int64{flips[0].ID, flips[1].ID})
		require.NoError(t, err)
		assert.Len(t, byFlip[flips[0].ID], 2)
		assert.Len(t, byFlip[flips[1].ID], 2)
		states := map[string]int{}
		for _, fl := range flips {
			all, err := s.FlipNotifications([]int64{fl.ID})
			require.NoError(t, err)
			for _, fn := range all[fl.ID] {
				states[fn.State]++
				assert.Contains(t, []string{"a", "b"}, fn.ChannelName)
			}
		}
		assert.Equal(t, map[string]int{"sent": 18, "pending": 1, "failed": 1}, states)
	})
}

func TestDeliveriesCarryFlipContext(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		j, _ := outboxFixture(t, s, webhookChannel("a", true))
		at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		_, err := s.ChangeStatus(j.ID, models.StatusUp, "", at)
		require.NoError(t, err)
		three := 3
		require.NoError(t, s.DB().Create(&models.Ping{JobID: j.ID, N: 1, Kind: models.PingSuccess, CreatedAt: at.Add(-10 * time.Minute)}).Error)
		require.NoError(t, s.DB().Create(&models.Ping{JobID: j.ID, N: 2, Kind: models.PingLog, CreatedAt: at.Add(-5 * time.Minute)}).Error)
		require.NoError(t, s.DB().Create(&models.Ping{JobID: j.ID, N: 3, Kind: models.PingFail, ExitStatus: &three, CreatedAt: at.Add(60 * time.Minute)}).Error)
		down, err := s.ChangeStatus(j.ID, models.StatusDown, "missed heartbeat", at)
		require.NoError(t, err)
		up, err := s.ChangeStatus(j.ID, models.StatusUp, "ping received", at.Add(90*time.Minute))
		require.NoError(t, err)
		ns, err := s.ClaimDueNotifications(at.Add(2*time.Hour), time.Minute, 10)
		require.NoError(t, err)
		require.Len(t, ns, 2)
		ds, err := s.Deliveries(ns)
		require.NoError(t, err)
		require.Len(t, ds, 2)
		for _, d := range ds {
			assert.Equal(t, "nightly backup", d.Job.Name)
			assert.Equal(t, "Acme", d.Project.Name)
			assert.Equal(t, "a", d.Channel.Name)
			switch d.Flip.ID {
			case down.ID:
				assert.Nil(t, d.DownSince)
				require.NotNil(t, d.LastPing, "the success ping before the flip")
				assert.EqualValues(t, 1, d.LastPing.N)
			case up.ID:
				require.NotNil(t, d.DownSince)
				assert.True(t, d.DownSince.Equal(at))
				require.NotNil(t, d.LastPing, "the latest success/fail ping before the flip, not the log")
				assert.EqualValues(t, 3, d.LastPing.N)
				require.NotNil(t, d.LastPing.ExitStatus)
				assert.Equal(t, 3, *d.LastPing.ExitStatus)
			default:
				t.Fatalf("unexpected flip %d", d.Flip.ID)
			}
			assert.Nil(t, d.LastRun, "a pure heartbeat job has no check runs")
		}
	})
}

func TestReminders(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		r := webhookChannel("a", true)
		every := 30
		r.RemindEvery = &every
		j, chans := outboxFixture(t, s, r, webhookChannel("no reminders", true))
		at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		down, err := s.ChangeStatus(j.ID, models.StatusDown, "missed heartbeat", at)
		require.NoError(t, err)

		n, err := s.EnqueueReminders(at.Add(29 * time.Minute))
		require.NoError(t, err)
		assert.Equal(t, 0, n, "not due yet")
		n, err = s.EnqueueReminders(at.Add(31 * time.Minute))
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		n, err = s.EnqueueReminders(at.Add(45 * time.Minute))
		require.NoError(t, err)
		assert.Equal(t, 0, n, "reminder 1 exists already")
		// After a long outage of CronPulse: one reminder (the 4th), not three.
		n, err = s.EnqueueReminders(at.Add(125 * time.Minute))
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		ns, err := s.Notifications(down.ID)
		require.NoError(t, err)
		var reminders []int
		for _, x := range ns {
			if x.Reminder > 0 {
				assert.Equal(t, chans[0].ID, x.ChannelID)
				reminders = append(reminders, x.Reminder)
			}
		}
		assert.Equal(t, []int{1, 4}, reminders)

		// Back up: no more reminders.
		_, err = s.ChangeStatus(j.ID, models.StatusUp, "", at.Add(130*time.Minute))
		require.NoError(t, err)
		n, err = s.EnqueueReminders(at.Add(300 * time.Minute))
		require.NoError(t, err)
		assert.Equal(t, 0, n)
	})
}

func TestChannelValidationAndMasking(t *testing.T) {
	str := func(s string) *string { return &s }
	cfg := func(m models.JSONMap) *models.JSONMap { return &m }
	cases := []struct {
		name    string
		kind    string
		config  *models.JSONMap
		field   string // "" means valid
		masked  models.JSONMap
		wantCfg models.JSONMap
	}{
		{"slack webhook", models.ChannelSlackWebhook, cfg(models.JSONMap{"url": "https://hooks.slack.com/services/T00/B00/XXXXsecret"}), "",
			models.JSONMap{"url": "https://hooks.slack.com/services/T00/****"}, nil},
		{"slack bot", models.ChannelSlackBot, cfg(models.JSONMap{"token": "xoxb-123-456-abc", "channel": "#ops"}), "",
			models.JSONMap{"token": "xoxb-****", "channel": "#ops"}, nil},
		{"webhook", models.ChannelWebhook, cfg(models.JSONMap{"url": "https://example.com/hooks/abc?key=1", "secret": "s"}), "",
			models.JSONMap{"url": "https://example.com/hooks/****", "secret": "****"}, nil},
		{"webhook without secret", models.ChannelWebhook, cfg(models.JSONMap{"url": "http://127.0.0.1:8000/x"}), "",
			models.JSONMap{"url": "http://127.0.0.1:8000/****", "secret": ""}, nil},
		{"email", models.ChannelEmail, cfg(models.JSONMap{"to": []any{"Ops <ops@example.com>", "dev@example.com"}}), "",
			models.JSONMap{"to": []string{"ops@example.com", "dev@example.com"}}, nil},
		{"unknown kind", "pager", cfg(models.JSONMap{}), "kind", nil, nil},
		{"missing url", models.ChannelWebhook, cfg(models.JSONMap{}), "config.url", nil, nil},
		{"url not http", models.ChannelSlackWebhook, cfg(models.JSONMap{"url": "ftp://x/y"}), "config.url", nil, nil},
		{"url a number", models.ChannelWebhook, cfg(models.JSONMap{"url": 3}), "config.url", nil, nil},
		{"extra key", models.ChannelWebhook, cfg(models.JSONMap{"url": "https://e.com/h", "token": "x"}), "config.token", nil, nil},
		{"bad token", models.ChannelSlackBot, cfg(models.JSONMap{"token": "abc", "channel": "#x"}), "config.token", nil, nil},
		{"no channel", models.ChannelSlackBot, cfg(models.JSONMap{"token": "xoxb-1"}), "config.channel", nil, nil},
		{"to not a list", models.ChannelEmail, cfg(models.JSONMap{"to": "a@b.c"}), "config.to", nil, nil},
		{"to empty", models.ChannelEmail, cfg(models.JSONMap{"to": []any{}}), "config.to", nil, nil},
		{"bad address", models.ChannelEmail, cfg(models.JSONMap{"to": []any{"not an address"}}), "config.to[0]", nil, nil},
		{"no config", models.ChannelWebhook, nil, "config", nil, nil},
	}
	s := modelstest.Open(t, t.TempDir()+"/c.db", nil)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ch, err := s.NewChannel(&models.ChannelRequest{ProjectID: str("p"), Name: str("n"), Kind: str(tc.kind), Config: tc.config})
			if tc.field != "" {
				var ve *models.ValidationError
				require.ErrorAs(t, err, &ve)
				assert.Equal(t, tc.field, ve.Field, ve.Error())
				return
			}
			require.NoError(t, err)
			masked := models.MaskConfig(ch.Kind, ch.Config)
			assert.Equal(t, tc.masked, masked)
		})
	}
}

func TestChannelUpdateKeepsMaskedSecrets(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		_, chans := outboxFixture(t, s, webhookChannel("a", true))
		ch := chans[0]
		masked := models.MaskConfig(ch.Kind, ch.Config)
		name := "renamed"
		// The client sends back what it read: secrets stay.
		got, err := s.UpdateChannel(ch.ID, &models.ChannelRequest{Name: &name, Config: &masked})
		require.NoError(t, err)
		assert.Equal(t, "renamed", got.Name)
		assert.Equal(t, "http://127.0.0.1:9/hook", got.ConfigString("url"))
		assert.Equal(t, "s3cret", got.ConfigString("secret"))
		// A new secret replaces the old one.
		got, err = s.UpdateChannel(ch.ID, &models.ChannelRequest{Config: &models.JSONMap{"url": "https://e.com/x", "secret": "new"}})
		require.NoError(t, err)
		assert.Equal(t, "new", got.ConfigString("secret"))
		// A kind change needs a config.
		kind := models.ChannelEmail
		_, err = s.UpdateChannel(ch.ID, &models.ChannelRequest{Kind: &kind})
		var ve *models.ValidationError
		require.ErrorAs(t, err, &ve)
		assert.Equal(t, "config", ve.Field)
	})
}
