package models_test

import (
	"context"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPingWriterConcurrent sends many pings at once to a few jobs: each is
// stored once, the serials of a job are exactly 1..n, and pingCount is exact.
func TestPingWriterConcurrent(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, store *models.Store) {
		t0 := utc(2024, 5, 1, 10, 0)
		jobs := []*hb{newHB(t, store, "@every 1h", "UTC", 5, t0)}
		for i := 0; i < 2; i++ {
			h := newHB(t, store, "@every 1h", "UTC", 5, t0)
			h.w = jobs[0].w // one writer for all, as in the server
			jobs = append(jobs, h)
		}
		const per = 150 // 450 pings at once: batches of more than 64 rows are written in several statements
		var wg sync.WaitGroup
		var mu sync.Mutex
		serials := map[string][]int64{}
		for _, h := range jobs {
			for i := 0; i < per; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					p, err := h.w.Write(context.Background(), h.job.PingToken,
						models.Ping{Kind: models.PingSuccess, CreatedAt: t0.Add(time.Duration(i) * time.Second)})
					assert.NoError(t, err)
					mu.Lock()
					serials[h.job.ID] = append(serials[h.job.ID], p.N)
					mu.Unlock()
				}()
			}
		}
		wg.Wait()
		for _, h := range jobs {
			got := serials[h.job.ID]
			sort.Slice(got, func(i, j int) bool { return got[i] < got[j] })
			require.Len(t, got, per)
			for i, n := range got {
				require.Equal(t, int64(i+1), n)
			}
			j := h.get()
			assert.Equal(t, int64(per), j.PingCount)
			items, err := store.Runs(models.RunFilter{JobID: h.job.ID, Limit: 1000})
			require.NoError(t, err)
			assert.Len(t, items, per)
		}
		// None of these pings flips a job: they take the fast path, and
		// it never fails (a failure would be hidden by the retry in a
		// transaction).
		st := jobs[0].w.Stats()
		assert.Equal(t, st.Batches, st.Fast, "%+v", st)
		assert.Zero(t, st.FastErrors)
	})
}

// TestPingAfterJobDeleted: a job the writer has just stored pings for is
// deleted behind its back (its copy of the row is then stale); a ping to
// it is a 404 and stores nothing, and the job's pings went with it (on
// PostgreSQL pings have no foreign key: DeleteJob deletes them).
func TestPingAfterJobDeleted(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, store *models.Store) {
		t0 := utc(2024, 5, 1, 10, 0)
		h := newHB(t, store, "@every 1h", "UTC", 5, t0)
		h.ping(models.PingSuccess, t0, "")
		h.ping(models.PingSuccess, t0.Add(time.Minute), "")
		require.NoError(t, store.DeleteJob(h.job.ID))
		_, err := h.w.Write(context.Background(), h.job.PingToken, models.Ping{Kind: models.PingSuccess, CreatedAt: t0.Add(2 * time.Minute)})
		require.ErrorIs(t, err, models.ErrNotFound)
		var n int64
		require.NoError(t, store.DB().Model(&models.Ping{}).Where("job_id = ?", h.job.ID).Count(&n).Error)
		assert.Zero(t, n, "no ping of the deleted job is left")
		assert.Zero(t, h.w.Stats().FastErrors)
	})
}

func TestPingWriterUnknownToken(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, store *models.Store) {
		h := newHB(t, store, "@every 1h", "UTC", 5, utc(2024, 5, 1, 10, 0))
		_, err := h.w.Write(context.Background(), "00000000-0000-4000-8000-000000000000", models.Ping{Kind: models.PingSuccess, CreatedAt: utc(2024, 5, 1, 10, 0)})
		require.ErrorIs(t, err, models.ErrNotFound)
		// A good ping in the same period is unaffected.
		p := h.ping(models.PingSuccess, utc(2024, 5, 1, 10, 1), "")
		assert.Equal(t, int64(1), p.N)
	})
}

func TestPingHistoryPruned(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, store *models.Store) {
		h := newHB(t, store, "@every 1h", "UTC", 5, utc(2024, 5, 1, 10, 0))
		h.w.Close()
		h.w = store.NewPingWriter(models.PingWriterOptions{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), History: 20})
		t.Cleanup(h.w.Close)
		for i := 0; i < 45; i++ {
			h.ping(models.PingLog, utc(2024, 5, 1, 10, 0).Add(time.Duration(i)*time.Second), "")
		}
		require.Eventually(t, func() bool {
			items, err := store.Runs(models.RunFilter{JobID: h.job.ID, Limit: 1000})
			require.NoError(t, err)
			return len(items) <= 25 && len(items) >= 20
		}, 5*time.Second, 20*time.Millisecond)
		items, err := store.Runs(models.RunFilter{JobID: h.job.ID, Limit: 1000})
		require.NoError(t, err)
		assert.Equal(t, int64(45), items[0].Ping.N, "the newest pings stay")
		assert.Equal(t, int64(45), h.get().PingCount, "pingCount counts every ping ever received")
	})
}

func TestCleanPingBody(t *testing.T) {
	cases := []struct {
		name, in string
		limit    int
		want     string
	}{
		{"short", "hello", 10, "hello"},
		{"cut", "hello world", 5, "hello"},
		{"cut inside a character", "ab€", 4, "ab"},
		{"invalid utf-8", "a\xffb", 10, "a\uFFFDb"},
		{"nul dropped", "a\x00b", 10, "ab"},
		{"zero limit", "abc", 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := models.CleanPingBody([]byte(c.in), c.limit)
			assert.Equal(t, c.want, got)
			assert.True(t, utf8.ValidString(got))
			assert.LessOrEqual(t, len(got), c.limit)
			assert.False(t, strings.Contains(got, "\x00"))
		})
	}
}

// TestPingAfterOtherWriters pings a job, changes it behind the writer's
// back (the watchdog takes it down, then an API edit changes its
// schedule), and pings again: each ping sees the job as it is in the
// database (on PostgreSQL the writer's cached row no longer matches and the
// batch is rewritten in a transaction), the flips are written once, and
// pingCount stays exact.
func TestPingAfterOtherWriters(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, store *models.Store) {
		t0 := utc(2024, 5, 1, 10, 0)
		h := newHB(t, store, "@every 1h", "UTC", 5, t0)
		h.ping(models.PingSuccess, t0, "")
		h.ping(models.PingSuccess, t0.Add(time.Minute), "")
		j := h.tick(t0.Add(3 * time.Hour))
		h.requireState(j, models.StatusDown, models.LastMissed)
		p := h.ping(models.PingSuccess, t0.Add(3*time.Hour+time.Minute), "")
		assert.Equal(t, int64(3), p.N)
		j = h.get()
		h.requireState(j, models.StatusUp, models.LastSuccess)
		fl := h.flips()
		require.Len(t, fl, 2, "up→down, down→up (new→up is no flip)")
		assert.Equal(t, models.StatusUp, fl[0].ToStatus)

		sched := "@every 2h"
		_, err := store.UpdateJob(h.job.ID, &models.JobRequest{Schedule: &sched})
		require.NoError(t, err)
		at := t0.Add(4 * time.Hour)
		h.ping(models.PingSuccess, at, "")
		j = h.get()
		require.NotNil(t, j.NextRunAt)
		assert.True(t, j.NextRunAt.Equal(at.Add(2*time.Hour)), "next run from the new schedule, got %s", j.NextRunAt)
		assert.Equal(t, int64(4), j.PingCount)
		assert.Len(t, h.flips(), 2)
		st := h.w.Stats()
		assert.Zero(t, st.FastErrors, "%+v", st)
		assert.Less(t, st.Fast, st.Batches, "the batches with a flip or after a change took a transaction")
	})
}
