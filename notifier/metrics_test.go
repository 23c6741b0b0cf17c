package notifier_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/cronpulse/cronpulse/notifier"
	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recordedMetrics remembers every outcome it is told of, as "kind outcome".
type recordedMetrics struct {
	mu  sync.Mutex
	got []string
}

func (m *recordedMetrics) NotificationDone(kind, outcome string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.got = append(m.got, kind+" "+outcome)
}

// TestWorkerReportsOutcomes: a delivered, a retried and a refused webhook
// are reported as sent, retry and failed.
func TestWorkerReportsOutcomes(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case strings.HasSuffix(r.URL.Path, "/ok"):
				w.WriteHeader(http.StatusNoContent)
			case strings.HasSuffix(r.URL.Path, "/busy"):
				w.WriteHeader(http.StatusServiceUnavailable)
			default:
				w.WriteHeader(http.StatusGone)
			}
		}))
		t.Cleanup(hook.Close)
		fx := newFixture(t, s)
		for _, path := range []string{"/ok", "/busy", "/gone"} {
			fx.channel("hook"+path, models.ChannelWebhook, models.JSONMap{"url": hook.URL + path})
		}
		t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		clock := clockwork.NewFakeClockAt(t0)
		m := &recordedMetrics{}
		w := notifier.NewWorker(notifier.WorkerOptions{Store: s, Dispatcher: notifier.NewDispatcher(notifier.Config{BaseURL: baseURL, Now: clock.Now}),
			Log: quietLog(), Clock: clock, Metrics: m})
		fx.flip(models.StatusDown, "missed heartbeat", t0)
		n, err := w.RunOnce(context.Background())
		require.NoError(t, err)
		require.Equal(t, 3, n)

		m.mu.Lock()
		defer m.mu.Unlock()
		sort.Strings(m.got)
		assert.Equal(t, []string{"webhook failed", "webhook retry", "webhook sent"}, m.got)
	})
}
