// Command notifybench measures alert delivery: N jobs flip at once (each
// flip its own transaction, written from many goroutines, as the engine
// would), every flip enqueues a notification for a generic webhook served
// on 127.0.0.1, and the notifier worker delivers them. It reports
// flip-to-delivery latency (from the flip's commit to its arrival at the
// receiver) as p50/p90/p99/max, duplicates and missing deliveries, the
// median over rounds, and as a baseline measured in the same run the
// latency of the same number of direct POSTs to the same receiver.
//
//	go run ./bench/notifybench -db sqlite
//	go run ./bench/notifybench -db postgres -pg 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable'
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cronpulse/cronpulse/migrations"
	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/cronpulse/cronpulse/notifier"
)

func main() {
	db := flag.String("db", "sqlite", "sqlite or postgres")
	pg := flag.String("pg", envOr("CRONPULSE_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"), "PostgreSQL URL (a schema is created in it and dropped)")
	flips := flag.Int("flips", 1000, "flips written at once per round (one per job)")
	writers := flag.Int("writers", 32, "goroutines writing the flips")
	conc := flag.Int("c", 16, "notifier deliveries in flight (NOTIFY_CONCURRENCY)")
	rounds := flag.Int("rounds", 3, "rounds; figures are the median over rounds")
	maxWait := flag.Duration("max", 30*time.Second, "time cap per round")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile to this file")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil && pprof.StartCPUProfile(f) == nil {
			defer pprof.StopCPUProfile()
		}
	}
	if err := run(*db, *pg, *flips, *writers, *conc, *rounds, *maxWait); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "notifybench:", err)
		os.Exit(1)
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// receiver records when each delivery arrived, keyed by flip id.
type receiver struct {
	mu      sync.Mutex
	arrived map[int64]time.Time
	count   map[int64]int
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	var p struct {
		FlipID int64 `json:"flipId"`
	}
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &p); err != nil {
		http.Error(w, "bad json", http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	if _, seen := rc.arrived[p.FlipID]; !seen {
		rc.arrived[p.FlipID] = now
	}
	rc.count[p.FlipID]++
	rc.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (rc *receiver) reset() {
	rc.mu.Lock()
	rc.arrived, rc.count = map[int64]time.Time{}, map[int64]int{}
	rc.mu.Unlock()
}

func run(dbKind, pgURL string, nFlips, writers, conc, rounds int, maxWait time.Duration) error {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	dbURL, cleanup, err := database(dbKind, pgURL, log)
	if err != nil {
		return err
	}
	defer cleanup()
	gdb, dialect, err := models.Open(dbURL, log)
	if err != nil {
		return err
	}
	defer models.Close(gdb)
	if _, err := migrations.Apply(gdb, log); err != nil {
		return err
	}
	store := models.NewStore(gdb, dialect, nil)
	// The worker reads and claims through connections of its own, as in
	// the server (app.Service): see app.OpenNotifierStore.
	ndb, _, err := models.Open(dbURL, log)
	if err != nil {
		return err
	}
	defer models.Close(ndb)
	if sqlDB, err := ndb.DB(); err == nil {
		sqlDB.SetMaxOpenConns(4)
	}
	notifyStore := models.NewStore(ndb, dialect, nil)

	rc := &receiver{}
	rc.reset()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: rc}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	hookURL := "http://" + ln.Addr().String() + "/hook"

	jobs, err := seed(store, nFlips, hookURL)
	if err != nil {
		return err
	}
	newWorker := func() *notifier.Worker {
		return notifier.NewWorker(notifier.WorkerOptions{
			Store:       notifyStore,
			Dispatcher:  notifier.NewDispatcher(notifier.Config{BaseURL: "http://localhost:8080", UserAgent: "notifybench"}),
			Log:         log,
			Concurrency: conc,
		})
	}
	stop := func(w *notifier.Worker) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = w.Stop(ctx)
	}
	w := newWorker()
	store.SetFlipListener(w.Listener())
	w.Start(context.Background())

	fmt.Printf("notifybench: %s, %d flips at once from %d writers, %d deliveries in flight, %d rounds\n", dialect, nFlips, writers, conc, rounds)
	var p50s, p90s, p99s, maxs, writes, bases []time.Duration
	dups, missing := 0, 0
	for r := range rounds {
		to := models.StatusDown
		if r%2 == 1 {
			to = models.StatusUp
		}
		rc.reset()
		start := time.Now()
		committed, err := writeFlips(store, jobs, to, writers)
		if err != nil {
			return err
		}
		writeTime := time.Since(start)
		deadline := time.Now().Add(maxWait)
		for time.Now().Before(deadline) {
			rc.mu.Lock()
			n := len(rc.arrived)
			rc.mu.Unlock()
			if n >= len(committed) {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(300 * time.Millisecond) // let any duplicate show up
		var lat []time.Duration
		rc.mu.Lock()
		for id, at := range committed {
			got, ok := rc.arrived[id]
			if !ok {
				missing++
				continue
			}
			lat = append(lat, got.Sub(at))
			if c := rc.count[id]; c > 1 {
				dups += c - 1
			}
		}
		rc.mu.Unlock()
		if len(lat) == 0 {
			return errors.New("nothing was delivered")
		}
		slices.Sort(lat)
		p := func(q float64) time.Duration { return lat[min(len(lat)-1, int(q*float64(len(lat))))] }
		base, err := baseline(hookURL, len(committed), conc)
		if err != nil {
			return err
		}
		fmt.Printf("round %d (→ %s): flips written in %v; flip→delivery p50 %v p90 %v p99 %v max %v; baseline direct POST p99 %v\n",
			r+1, to, writeTime.Round(time.Millisecond), p(0.5).Round(time.Millisecond), p(0.9).Round(time.Millisecond),
			p(0.99).Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond), base.Round(time.Millisecond))
		p50s, p90s, p99s, maxs = append(p50s, p(0.5)), append(p90s, p(0.9)), append(p99s, p(0.99)), append(maxs, lat[len(lat)-1])
		writes, bases = append(writes, writeTime), append(bases, base)
	}
	med := func(ds []time.Duration) time.Duration {
		s := slices.Clone(ds)
		slices.Sort(s)
		return s[len(s)/2].Round(time.Millisecond)
	}
	fmt.Printf("median over %d rounds: flips written in %v; flip→delivery p50 %v, p90 %v, p99 %v, max %v; baseline (same receiver, direct POSTs, same concurrency, all %d at once) p99 %v; duplicates %d, missing %d\n",
		rounds, med(writes), med(p50s), med(p90s), med(p99s), med(maxs), nFlips, med(bases), dups, missing)

	// Drain: the same flips written with no worker running (a backlog, as
	// after an outage), then one worker started: its throughput alone.
	stop(w)
	store.SetFlipListener(nil)
	rc.reset()
	to := models.StatusDown
	if rounds%2 == 1 {
		to = models.StatusUp
	}
	committed, err := writeFlips(store, jobs, to, writers)
	if err != nil {
		return err
	}
	w = newWorker()
	start := time.Now()
	w.Start(context.Background())
	defer stop(w)
	for time.Since(start) < maxWait {
		rc.mu.Lock()
		n := len(rc.arrived)
		rc.mu.Unlock()
		if n >= len(committed) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	drain := time.Since(start)
	rc.mu.Lock()
	got := len(rc.arrived)
	rc.mu.Unlock()
	fmt.Printf("drain: a backlog of %d notifications delivered in %v (%.0f/s) by one worker\n", got, drain.Round(time.Millisecond), float64(got)/drain.Seconds())
	missing += len(committed) - got
	if dups > 0 || missing > 0 {
		return fmt.Errorf("%d duplicates, %d missing", dups, missing)
	}
	return nil
}

// seed creates a project with n heartbeat jobs (status up) and one webhook
// channel.
func seed(s *models.Store, n int, hookURL string) ([]string, error) {
	name := "bench"
	p, err := s.NewProject(&models.ProjectRequest{Name: &name})
	if err != nil {
		return nil, err
	}
	if err := s.CreateProject(p); err != nil {
		return nil, err
	}
	kind := models.ChannelWebhook
	ch, err := s.NewChannel(&models.ChannelRequest{ProjectID: &p.ID, Name: &name, Kind: &kind, Config: &models.JSONMap{"url": hookURL, "secret": "bench"}})
	if err != nil {
		return nil, err
	}
	if err := s.CreateChannel(ch); err != nil {
		return nil, err
	}
	ids := make([]string, n)
	sched, hb := "@daily", true
	for i := range n {
		jn := fmt.Sprintf("job %d", i)
		j, err := s.NewJob(&models.JobRequest{Name: &jn, ProjectID: &p.ID, Schedule: &sched, Heartbeat: &hb})
		if err != nil {
			return nil, err
		}
		j.Status = models.StatusUp
		if err := s.CreateJob(j); err != nil {
			return nil, err
		}
		ids[i] = j.ID
	}
	return ids, nil
}

// writeFlips flips every job to `to` from `writers` goroutines and returns
// each flip's commit time by flip id.
func writeFlips(s *models.Store, jobs []string, to string, writers int) (map[int64]time.Time, error) {
	out := make(map[int64]time.Time, len(jobs))
	var mu sync.Mutex
	var firstErr error
	next := make(chan string)
	var wg sync.WaitGroup
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range next {
				f, err := s.ChangeStatus(id, to, "bench", time.Now().UTC())
				done := time.Now()
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				if f != nil {
					out[f.ID] = done
				}
				mu.Unlock()
			}
		}()
	}
	for _, id := range jobs {
		next <- id
	}
	close(next)
	wg.Wait()
	return out, firstErr
}

// baseline POSTs n payloads of the same size to the receiver directly, conc
// at a time, all queued at once like the flips, and returns the p99 of
// "queued → answered".
func baseline(hookURL string, n, conc int) (time.Duration, error) {
	body, _ := json.Marshal(map[string]any{"flipId": -1, "event": "flip", "text": strings.Repeat("x", 700)})
	client := &http.Client{Timeout: 10 * time.Second}
	start := time.Now()
	lat := make([]time.Duration, n)
	next := make(chan int)
	var wg sync.WaitGroup
	var firstErr error
	var mu sync.Mutex
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				res, err := client.Post(hookURL, "application/json", bytes.NewReader(body))
				if err == nil {
					_, _ = io.Copy(io.Discard, res.Body)
					res.Body.Close()
				} else {
					mu.Lock()
					firstErr = err
					mu.Unlock()
				}
				lat[i] = time.Since(start)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	slices.Sort(lat)
	return lat[min(n-1, n*99/100)], firstErr
}

// database returns a DATABASE_URL for the run and a cleanup function.
func database(kind, pgURL string, log *slog.Logger) (string, func(), error) {
	switch kind {
	case "sqlite":
		dir, err := os.MkdirTemp("", "notifybench")
		if err != nil {
			return "", nil, err
		}
		return filepath.Join(dir, "bench.db"), func() { os.RemoveAll(dir) }, nil
	case "postgres":
		u, drop, err := modelstest.ScratchSchema(pgURL, "notifybench", log)
		if err != nil {
			return "", nil, err
		}
		return u, func() {
			_ = drop() // best effort: a leftover schema is harmless
		}, nil
	}
	return "", nil, fmt.Errorf("-db must be sqlite or postgres, not %q", kind)
}
