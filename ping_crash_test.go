package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPingsSurviveSIGKILL builds the real binary, runs it on a database,
// sends pings from many connections, kills the server with SIGKILL in the
// middle of the load, and checks that every ping answered 200 is stored
// (and pingCount agrees), then that the restarted server carries on.
func TestPingsSurviveSIGKILL(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "cronpulse")
	build := exec.Command("go", "build", "-o", bin, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	for _, db := range modelstest.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			db.SkipIfMissing(t)
			store := modelstest.Open(t, db.URL, nil)
			name, sched, yes := "crash", "@every 1h", true
			p, err := store.NewProject(&models.ProjectRequest{Name: &name})
			require.NoError(t, err)
			require.NoError(t, store.CreateProject(p))
			const jobs = 4
			tokens := make([]string, jobs)
			ids := make([]string, jobs)
			for i := range tokens {
				jn := fmt.Sprintf("job %d", i)
				j, err := store.NewJob(&models.JobRequest{Name: &jn, ProjectID: &p.ID, Schedule: &sched, Heartbeat: &yes})
				require.NoError(t, err)
				require.NoError(t, store.CreateJob(j))
				tokens[i], ids[i] = j.PingToken, j.ID
			}

			srv := startServer(t, bin, db.URL)
			var acked [jobs]atomic.Int64
			stop := make(chan struct{})
			var wg sync.WaitGroup
			client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			for w := 0; w < 32; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						k := (w + i) % jobs
						res, err := client.Post(srv.url+"/ping/"+tokens[k], "text/plain", strings.NewReader("crash test"))
						if err == nil {
							if res.StatusCode == http.StatusOK {
								acked[k].Add(1)
							}
							res.Body.Close()
						}
						if err != nil {
							return // the server is gone
						}
					}
				}()
			}
			time.Sleep(1500 * time.Millisecond)
			require.NoError(t, srv.cmd.Process.Signal(os.Kill))
			_ = srv.cmd.Wait() // it was killed; the error says so
			close(stop)
			wg.Wait()

			var total int64
			for k := range tokens {
				stored, pingCount := countPings(t, store, ids[k])
				a := acked[k].Load()
				t.Logf("job %d: %d answered 200, %d stored, pingCount %d", k, a, stored, pingCount)
				assert.GreaterOrEqual(t, stored, a, "every acknowledged ping is stored")
				assert.LessOrEqual(t, stored-a, int64(32), "only pings in flight at the kill may be stored unanswered")
				assert.Equal(t, stored, pingCount, "pingCount is exact")
				total += a
			}
			require.Greater(t, total, int64(100), "the load must have reached the server")

			// The restarted server takes pings where the old one stopped.
			srv = startServer(t, bin, db.URL)
			res, err := http.Get(srv.url + "/ping/" + tokens[0])
			require.NoError(t, err)
			res.Body.Close()
			assert.Equal(t, http.StatusOK, res.StatusCode)
			stored, pingCount := countPings(t, store, ids[0])
			assert.Equal(t, stored, pingCount)
		})
	}
}

// countPings returns the pings stored for a job and its pingCount, read in
// one statement: a batch the killed server sent just before dying may still
// commit while the test reads (PostgreSQL finishes a statement whose client
// is gone), and two separate reads could straddle it.
func countPings(t *testing.T, store *models.Store, jobID string) (stored, pingCount int64) {
	t.Helper()
	row := store.DB().Raw(`SELECT (SELECT count(*) FROM pings WHERE job_id = jobs.id), ping_count FROM jobs WHERE id = ?`, jobID).Row()
	require.NoError(t, row.Scan(&stored, &pingCount))
	return stored, pingCount
}

type server struct {
	cmd *exec.Cmd
	url string
}

// startServer runs the binary on dbURL at a free port and waits until it
// answers /healthz. It is killed when the test ends, if still running.
func startServer(t *testing.T, bin, dbURL string) server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "serve")
	cmd.Dir = t.TempDir() // no .env from the checkout
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "LISTEN_ADDR="+addr,
		"PING_RATE_LIMIT=1000000", "PING_HISTORY=1000000", "LOG_LEVEL=error")
	var logs strings.Builder
	cmd.Stderr = &logs
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait() // already reaped after a kill; nothing to report either way
	})
	url := "http://" + addr
	require.Eventually(t, func() bool {
		res, err := http.Get(url + "/healthz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	}, 30*time.Second, 50*time.Millisecond, "server did not start: %s", &logs)
	return server{cmd: cmd, url: url}
}
