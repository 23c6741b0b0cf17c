package checker

import (
	"sync"
	"testing"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recordedMetrics is a Metrics that remembers what it was told.
type recordedMetrics struct {
	mu      sync.Mutex
	results []string
	ticks   int
}

func (m *recordedMetrics) CheckDone(result string, took time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.results = append(m.results, result)
}

func (m *recordedMetrics) WatchdogTick(took time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ticks++
}

func TestEngineReportsMetrics(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, store *models.Store) {
		srv, _ := newTarget(t)
		m := &recordedMetrics{}
		e := newEngine(t, store, nil, func(o *Options) { o.Metrics = m })
		p := newProject(t, store)
		for _, url := range []string{srv.URL + "/ok", refusedURL(t)} {
			_, err := e.Trigger(t.Context(), newCheck(t, store, p.ID, url, nil))
			require.NoError(t, err)
		}
		_, err := e.CheckHeartbeats(t.Context())
		require.NoError(t, err)

		m.mu.Lock()
		defer m.mu.Unlock()
		assert.Equal(t, []string{models.RunSuccess, models.RunError}, m.results)
		assert.Equal(t, 1, m.ticks)
	})
}

func TestEngineWithoutMetrics(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, store *models.Store) {
		srv, _ := newTarget(t)
		e := newEngine(t, store, nil, nil)
		run, err := e.Trigger(t.Context(), newCheck(t, store, newProject(t, store).ID, srv.URL+"/ok", nil))
		require.NoError(t, err)
		assert.Equal(t, models.RunSuccess, run.Result)
	})
}
