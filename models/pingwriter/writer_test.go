package pingwriter_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/cronpulse/cronpulse/models/pingwriter"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPingWriterConcurrent sends many pings at once to a few jobs: each is
// stored once, the serials of a job are exactly 1..n, and pingCount is exact.
func TestPingWriterConcurrent(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, store *models.Store) {
		t0 := utc(2024, 5, 1, 10, 0)
		jobs := []*modelstest.Heartbeat{modelstest.NewHeartbeat(t, store, "@every 1h", "UTC", 5, t0)}
		for i := 0; i < 2; i++ {
			h := modelstest.NewHeartbeat(t, store, "@every 1h", "UTC", 5, t0)
			h.W = jobs[0].W // one writer for all, as in the server
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
					p, err := h.W.Write(context.Background(), h.Job.PingToken,
						models.Ping{Kind: models.PingSuccess, CreatedAt: t0.Add(time.Duration(i) * 30 * time.Second)})
					assert.NoError(t, err)
					mu.Lock()
					serials[h.Job.ID] = append(serials[h.Job.ID], p.N)
					mu.Unlock()
				}()
			}
		}
		wg.Wait()
		for _, h := range jobs {
			got := serials[h.Job.ID]
			sort.Slice(got, func(i, j int) bool { return got[i] < got[j] })
			require.Len(t, got, per)
			for i, n := range got {
				require.Equal(t, int64(i+1), n)
			}
			j := h.Get()
			assert.Equal(t, int64(per), j.PingCount)
			items, err := store.Runs(models.RunFilter{JobID: h.Job.ID, Limit: 1000})
			require.NoError(t, err)
			assert.Len(t, items, per)
			// The runs are in the job's hourly buckets: 10:00 holds the
			// first 120 (30 s apart), 11:00 the rest.
			var buckets []struct {
				Hour    time.Time
				Success int64
			}
			require.NoError(t, store.DB().Raw(`SELECT hour, success FROM stats_hourly WHERE job_id = ? ORDER BY hour`, h.Job.ID).Scan(&buckets).Error)
			require.Len(t, buckets, 2)
			assert.Equal(t, int64(120), buckets[0].Success)
			assert.Equal(t, int64(per-120), buckets[1].Success)
			assert.True(t, buckets[1].Hour.Equal(t0.Add(time.Hour)), "%v", buckets[1].Hour)
		}
		// None of these pings flips a job: they take the fast path, and
		// it never fails (a failure would be hidden by the retry in a
		// transaction).
		st := jobs[0].W.Stats()
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
		h := modelstest.NewHeartbeat(t, store, "@every 1h", "UTC", 5, t0)
		h.Ping(models.PingSuccess, t0, "")
		h.Ping(models.PingSuccess, t0.Add(time.Minute), "")
		require.NoError(t, store.DeleteJob(h.Job.ID))
		_, err := h.W.Write(context.Background(), h.Job.PingToken, models.Ping{Kind: models.PingSuccess, CreatedAt: t0.Add(2 * time.Minute)})
		require.ErrorIs(t, err, models.ErrNotFound)
		assert.Zero(t, h.StoredPings(), "no ping of the deleted job is left")
		assert.Zero(t, h.W.Stats().FastErrors)
	})
}

func TestPingWriterUnknownToken(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, store *models.Store) {
		h := modelstest.NewHeartbeat(t, store, "@every 1h", "UTC", 5, utc(2024, 5, 1, 10, 0))
		_, err := h.W.Write(context.Background(), "00000000-0000-4000-8000-000000000000", models.Ping{Kind: models.PingSuccess, CreatedAt: utc(2024, 5, 1, 10, 0)})
		require.ErrorIs(t, err, models.ErrNotFound)
		// A good ping in the same period is unaffected.
		p := h.Ping(models.PingSuccess, utc(2024, 5, 1, 10, 1), "")
		assert.Equal(t, int64(1), p.N)
	})
}

func TestPingHistoryPruned(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, store *models.Store) {
		h := modelstest.NewHeartbeat(t, store, "@every 1h", "UTC", 5, utc(2024, 5, 1, 10, 0))
		h.W.Close()
		h.W = pingwriter.New(store, pingwriter.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), History: 20})
		t.Cleanup(h.W.Close)
		for i := 0; i < 45; i++ {
			h.Ping(models.PingLog, utc(2024, 5, 1, 10, 0).Add(time.Duration(i)*time.Second), "")
		}
		if store.Dialect() == models.SQLite {
			// Trimmed in the batches' own transactions: the last trim (at
			// 44, a multiple of history/10) kept 25..44, and 45 came after.
			items, err := store.Runs(models.RunFilter{JobID: h.Job.ID, Limit: 1000})
			require.NoError(t, err)
			require.Len(t, items, 21)
			assert.Equal(t, int64(25), items[len(items)-1].Ping.N)
			st := h.W.Stats()
			assert.Equal(t, st.Batches, st.Fast, "every batch by the fast path, %+v", st)
		}
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			items, err := store.Runs(models.RunFilter{JobID: h.Job.ID, Limit: 1000})
			if assert.NoError(c, err) {
				assert.GreaterOrEqual(c, len(items), 20)
				assert.LessOrEqual(c, len(items), 25)
			}
		}, 5*time.Second, 20*time.Millisecond)
		items, err := store.Runs(models.RunFilter{JobID: h.Job.ID, Limit: 1000})
		require.NoError(t, err)
		assert.Equal(t, int64(45), items[0].Ping.N, "the newest pings stay")
		assert.Equal(t, int64(45), h.Get().PingCount, "pingCount counts every ping ever received")
	})
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
		h := modelstest.NewHeartbeat(t, store, "@every 1h", "UTC", 5, t0)
		h.Ping(models.PingSuccess, t0, "")
		h.Ping(models.PingSuccess, t0.Add(time.Minute), "")
		j := h.Tick(t0.Add(3 * time.Hour))
		h.RequireState(j, models.StatusDown, models.LastMissed)
		p := h.Ping(models.PingSuccess, t0.Add(3*time.Hour+time.Minute), "")
		assert.Equal(t, int64(3), p.N)
		j = h.Get()
		h.RequireState(j, models.StatusUp, models.LastSuccess)
		fl := h.Flips()
		require.Len(t, fl, 2, "up→down, down→up (new→up is no flip)")
		assert.Equal(t, models.StatusUp, fl[0].ToStatus)

		sched := "@every 2h"
		updated, err := store.UpdateJob(h.Job.ID, &models.JobRequest{Schedule: &sched})
		require.NoError(t, err)
		require.NotNil(t, updated.NextRunAt)
		assert.Equal(t, h.Get().NextRunAt.UTC(), updated.NextRunAt.UTC(), "the update answers the nextRunAt later reads show")
		assert.Equal(t, t0.Add(3*time.Hour+time.Minute+2*time.Hour), updated.NextRunAt.UTC(), "the new schedule's next tick after the last ping")
		at := t0.Add(4 * time.Hour)
		h.Ping(models.PingSuccess, at, "")
		j = h.Get()
		require.NotNil(t, j.NextRunAt)
		assert.True(t, j.NextRunAt.Equal(at.Add(2*time.Hour)), "next run from the new schedule, got %s", j.NextRunAt)
		assert.Equal(t, int64(4), j.PingCount)
		assert.Len(t, h.Flips(), 2)
		st := h.W.Stats()
		assert.Zero(t, st.FastErrors, "%+v", st)
		assert.Less(t, st.Fast, st.Batches, "the batches with a flip or after a change took a transaction")
	})
}

// TestDeleteProjectRacingAMove: a job moved out of a project while the
// project is being deleted either goes with it, pings and all, or survives
// with every ping it had. (On PostgreSQL, where pings have no foreign key
// and DeleteProject deletes them itself; SQLite runs one writer at a time,
// so there the two cannot interleave.)
func TestDeleteProjectRacingAMove(t *testing.T) {
	for _, db := range modelstest.Databases(t) {
		if db.Name != "postgres" {
			continue
		}
		t.Run(db.Name, func(t *testing.T) {
			store := modelstest.Open(t, db.URL, nil)
			t0 := utc(2024, 5, 1, 10, 0)
			k := modelstest.NewHeartbeat(t, store, "@every 1h", "UTC", 5, t0)
			j := modelstest.NewHeartbeat(t, store, "@every 1h", "UTC", 5, t0)
			require.NoError(t, store.DB().Exec("UPDATE jobs SET project_id = ? WHERE id = ?", k.Job.ProjectID, j.Job.ID).Error)
			j.Ping(models.PingSuccess, t0, "")
			j.Ping(models.PingSuccess, t0.Add(time.Minute), "")
			name := "elsewhere"
			q, err := store.NewProject(&models.ProjectRequest{Name: &name})
			require.NoError(t, err)
			require.NoError(t, store.CreateProject(q))

			// Hold k's row, so that deleting the project stops half-way.
			sqlDB, err := store.DB().DB()
			require.NoError(t, err)
			x, err := sqlDB.Begin()
			require.NoError(t, err)
			var xpid int64
			require.NoError(t, x.QueryRow("SELECT pg_backend_pid()").Scan(&xpid))
			_, err = x.Exec("SELECT id FROM jobs WHERE id = $1 FOR UPDATE", k.Job.ID)
			require.NoError(t, err)
			// blocked returns a backend that pid is blocking, or 0 (also
			// when asking fails: the wait then goes on, and times out).
			blocked := func(pid int64) int64 {
				var b []int64
				if err := store.DB().Raw("SELECT pid FROM pg_stat_activity WHERE ? = ANY(pg_blocking_pids(pid))", pid).Scan(&b).Error; err != nil || len(b) == 0 {
					return 0
				}
				return b[0]
			}
			deleted := make(chan error, 1)
			go func() { deleted <- store.DeleteProject(k.Job.ProjectID) }()
			var dpid int64
			require.Eventually(t, func() bool { dpid = blocked(xpid); return dpid != 0 }, 10*time.Second, 5*time.Millisecond, "the delete waits for k")

			// Move j out meanwhile; it may have to wait for the delete.
			moved := make(chan error, 1)
			go func() {
				_, err := store.UpdateJob(j.Job.ID, &models.JobRequest{ProjectID: &q.ID})
				moved <- err
			}()
			require.Eventually(t, func() bool { return len(moved) > 0 || blocked(dpid) != 0 }, 10*time.Second, 5*time.Millisecond)
			require.NoError(t, x.Rollback())
			require.NoError(t, <-deleted)
			moveErr := <-moved

			pings := j.StoredPings()
			got, err := store.Job(j.Job.ID)
			if errors.Is(err, models.ErrNotFound) {
				assert.ErrorIs(t, moveErr, models.ErrNotFound, "the move found the job gone")
				assert.Zero(t, pings, "a deleted job's pings go with it")
				return
			}
			require.NoError(t, err)
			require.NoError(t, moveErr)
			assert.Equal(t, q.ID, got.ProjectID)
			assert.Equal(t, int64(2), got.PingCount)
			assert.Equal(t, int64(2), pings, "the moved job keeps its pings")
		})
	}
}

// TestPingWriteInDoubt loses the ping writer's PostgreSQL connection in the
// middle of a batch's write, through a proxy on loopback, at each point
// where that can happen: before the server saw the write (the writer must
// store it); with the write sent and still running on the server, held up
// by a row lock the test holds (the writer must make sure it never
// commits behind its back, then store it once); and after the server
// committed it but before its answer arrived (the writer must find it
// stored and not store it again under new serials), also when the answer
// never comes on a connection that stays open (the writer gives up after
// its write timeout). It does so on the fast path (lost at its one
// statement) and on the transactional path (a batch that flips its job,
// lost at COMMIT). Each time the caller gets its serial, the ping and any
// flip are stored once, and the writer goes on. (SQLite runs in process:
// there is no connection to lose.)
func TestPingWriteInDoubt(t *testing.T) {
	params := 0 // the fast path's statement is recognised by its parameter count
	for _, m := range regexp.MustCompile(`\$(\d+)`).FindAllStringSubmatch(pingwriter.PGWriteSQL, -1) {
		n, err := strconv.Atoi(m[1])
		require.NoError(t, err)
		params = max(params, n)
	}
	paths := []struct {
		name   string
		cut    func(p *modelstest.CutProxy, at modelstest.CutPoint)
		kind   string // of the ping whose write is cut
		status string // the job's afterwards
		last   string
		flips  int // that ping writes
	}{
		{"fast path", func(p *modelstest.CutProxy, at modelstest.CutPoint) { p.CutBind(params, at) },
			models.PingSuccess, models.StatusUp, models.LastSuccess, 0},
		{"transactional path", func(p *modelstest.CutProxy, at modelstest.CutPoint) { p.CutQuery("commit", at) },
			models.PingFail, models.StatusDown, models.LastFailure, 1},
	}
	points := []struct {
		name   string
		at     modelstest.CutPoint
		found  int64 // InDoubtStored: the writer found the write committed (-1: either)
		pooler bool  // behind a (pretend) pooler: the writer must tell, and still find the write
	}{
		{"before send", modelstest.BeforeSend, 0, false},
		{"after send", modelstest.AfterSend, -1, false},
		{"after commit", modelstest.AfterCommit, 1, false},
		{"after commit behind a pooler", modelstest.AfterCommit, 1, true},
		{"hung after commit", modelstest.Hang, 1, false},
	}
	for _, db := range modelstest.Databases(t) {
		if db.Name != "postgres" {
			continue
		}
		direct := modelstest.Open(t, db.URL, nil)
		for _, path := range paths {
			for _, point := range points {
				t.Run(fmt.Sprintf("%s/%s/%s", db.Name, path.name, point.name), func(t *testing.T) {
					proxy, viaProxy := modelstest.NewCutProxy(t, db.URL)
					if point.pooler {
						proxy.FakeBackendPIDs()
					}
					store := modelstest.Open(t, viaProxy, nil)
					t0 := utc(2024, 5, 1, 10, 0)
					h := modelstest.NewHeartbeat(t, store, "@every 1h", "UTC", 5, t0)
					if point.at == modelstest.Hang {
						h.W.Close() // for one that gives up on a write sooner
						h.W = pingwriter.New(store, pingwriter.Options{
							Log: slog.New(slog.NewTextHandler(io.Discard, nil)), WriteTimeout: 300 * time.Millisecond})
						t.Cleanup(h.W.Close)
					}
					// The first ping sets the writer up (its connection and its
					// copy of the job), so that a success ping is one statement.
					require.Equal(t, int64(1), h.Ping(models.PingSuccess, t0, "").N)
					require.Equal(t, point.pooler, h.W.Stats().Pooled, "the writer tells a pooler")
					flips := len(h.Flips())

					var release func()
					if point.at == modelstest.AfterSend && path.kind == models.PingSuccess {
						release = holdJobRow(t, direct, h)
						proxy.DropCancelRequests() // or the client's cancel might end the write itself
					}
					path.cut(proxy, point.at)
					got := make(chan models.Ping, 1)
					go func() { got <- h.Ping(path.kind, t0.Add(time.Minute), "") }()
					if release != nil {
						// The write is stuck on the row lock on the server, its
						// connection lost. Let go once the writer is retrying
						// (on the transactional path, which waits on the lock
						// too): a write still alive on the server would commit
						// first, and the retry store the ping a second time.
						require.Eventually(t, func() bool { return h.W.Stats().InDoubt == 1 }, 10*time.Second, time.Millisecond)
						release()
					}
					require.Equal(t, int64(2), (<-got).N)
					require.Equal(t, 1, proxy.Cuts(), "the connection was cut")
					require.Equal(t, int64(2), h.StoredPings(), "the ping stored once")
					require.Len(t, h.Flips(), flips+path.flips, "its flip stored once")
					j := h.Get()
					h.RequireState(j, path.status, path.last)
					require.Equal(t, int64(2), j.PingCount)

					st := h.W.Stats()
					assert.Equal(t, int64(1), st.InDoubt, "the writer looked for the batch")
					if point.found >= 0 {
						assert.Equal(t, point.found, st.InDoubtStored)
					}

					require.Equal(t, int64(3), h.Ping(models.PingSuccess, t0.Add(2*time.Minute), "").N)
					require.Equal(t, int64(3), h.StoredPings())
					items, err := store.Runs(models.RunFilter{JobID: h.Job.ID, Limit: 10})
					require.NoError(t, err)
					require.Len(t, items, 3)
				})
			}
		}
	}
}

// holdJobRow locks h's job row in a transaction on store and returns what
// releases it, once the ping writer's transactional path waits on it.
func holdJobRow(t *testing.T, store *models.Store, h *modelstest.Heartbeat) func() {
	t.Helper()
	tx := store.DB().Begin()
	require.NoError(t, tx.Error)
	var pid int64
	require.NoError(t, tx.Raw("SELECT pg_backend_pid()").Scan(&pid).Error)
	require.NoError(t, tx.Exec("SELECT id FROM jobs WHERE id = ? FOR UPDATE", h.Job.ID).Error)
	released := false
	t.Cleanup(func() {
		if !released {
			tx.Rollback()
		}
	})
	return func() {
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			var waiting int64
			// Blocked by the lock or by a write queued on it before.
			err := store.DB().Raw(`SELECT count(*) FROM pg_stat_activity
				WHERE pid <> ? AND cardinality(pg_blocking_pids(pid)) > 0 AND query LIKE '%FOR UPDATE%'`, pid).Scan(&waiting).Error
			if assert.NoError(c, err) {
				assert.Positive(c, waiting, "the writer's retry waits on the lock")
			}
		}, 10*time.Second, time.Millisecond)
		released = true
		require.NoError(t, tx.Rollback().Error)
	}
}

func utc(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, time.UTC)
}
