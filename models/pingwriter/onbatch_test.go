package pingwriter_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/cronpulse/cronpulse/models/pingwriter"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOnBatch: the observer hears of every batch, and of every ping once,
// before the batch's callers are answered.
func TestOnBatch(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, store *models.Store) {
		t0 := utc(2024, 5, 1, 10, 0)
		h := modelstest.NewHeartbeat(t, store, "@every 1h", "UTC", 5, t0)
		var mu sync.Mutex
		var batches, pings int
		w := pingwriter.New(store, pingwriter.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
			OnBatch: func(n int, took time.Duration) {
				mu.Lock()
				defer mu.Unlock()
				batches++
				pings += n
				assert.GreaterOrEqual(t, took, time.Duration(0))
			}})
		t.Cleanup(w.Close)
		const n = 20
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := w.Write(context.Background(), h.Job.PingToken, models.Ping{Kind: models.PingSuccess, CreatedAt: t0.Add(time.Duration(i) * time.Second)})
				assert.NoError(t, err)
			}()
		}
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		require.Equal(t, n, pings)
		assert.Equal(t, int(w.Stats().Batches), batches)
	})
}
