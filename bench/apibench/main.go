// Command apibench measures the CronPulse REST API: GET
// /api/v1/jobs?projectId= on a project with 1,000 jobs, GET /api/v1/jobs/{id}
// and POST /api/v1/jobs, each against a no-op endpoint (/healthz: the same
// server and middleware, no database, no auth) measured in the same run, so
// the figures can be read as ratios on a noisy machine.
//
// With -filter-jobs N (in-process only) it also bulk-inserts N jobs into a
// third project, about 1% of them down, with varied names, and measures the
// list filters: GET /api/v1/jobs?status=down&q=backup&limit=100. With
// -stats-jobs N it bulk-inserts N jobs with 90 days of rollups each and
// measures GET /api/v1/jobs/{id}/stats?period=90d and GET
// /api/v1/stats?period=30d. With -dash-jobs N it does the same as -stats-jobs
// with 5% of the jobs down and measures the dashboard, signed in with a
// session: the overview's first page, a search over the N jobs, and the
// page of a job with 90 days of history, printing each page's weight (and,
// with -chromium, the overview's DOM nodes in a headless Chromium).
//
// It starts CronPulse in-process on 127.0.0.1 with SQLite (a temporary file)
// or PostgreSQL (a fresh schema, dropped afterwards), or measures a running
// server given by -url and -key. Every measurement is bounded in requests
// and time.
//
//	go run ./bench/apibench -db sqlite
//	go run ./bench/apibench -db postgres -pg 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable'
//	go run ./bench/apibench -db sqlite -filter-jobs 100000
//	go run ./bench/apibench -db sqlite -stats-jobs 10000
//	go run ./bench/apibench -db sqlite -dash-jobs 10000 -chromium
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cronpulse/cronpulse/app"
	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/modelstest"
)

type options struct {
	db      string
	pgURL   string
	baseURL string
	key     string
	jobs    int
	conc    int
	rounds  int
	n       map[string]int
	maxTime time.Duration
	warmup  int
	// filterJobs is the size of the list-filter scenario (0: none).
	filterJobs int
	// statsJobs is the size of the stats scenario (0: none).
	statsJobs int
	// dashJobs is the size of the dashboard scenario (0: none); chromium
	// also counts the overview's DOM nodes in a browser.
	dashJobs int
	chromium bool
}

func main() {
	o := options{n: map[string]int{}}
	flag.StringVar(&o.db, "db", "sqlite", "database for the in-process server: sqlite or postgres")
	flag.StringVar(&o.pgURL, "pg", envOr("CRONPULSE_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"), "PostgreSQL URL (a schema is created in it and dropped)")
	flag.StringVar(&o.baseURL, "url", "", "measure a running server at this base URL (e.g. http://127.0.0.1:8080) instead")
	flag.StringVar(&o.key, "key", "", "API key with * for -url")
	flag.IntVar(&o.jobs, "jobs", 1000, "jobs seeded in the listed project")
	flag.IntVar(&o.conc, "c", 8, "concurrent clients")
	flag.IntVar(&o.rounds, "rounds", 3, "rounds; figures are the median over rounds")
	nList := flag.Int("n-list", 200, "GET /jobs?projectId= requests per round")
	nGet := flag.Int("n-get", 2000, "GET /jobs/{id} requests per round")
	nPost := flag.Int("n-post", 500, "POST /jobs requests per round")
	nNoop := flag.Int("n-noop", 4000, "no-op requests per round")
	nFilter := flag.Int("n-filter", 1000, "GET /jobs?status=down&q= requests per round")
	nJobStats := flag.Int("n-jobstats", 1000, "GET /jobs/{id}/stats?period=90d requests per round")
	nGlobalStats := flag.Int("n-globalstats", 300, "GET /stats?period=30d requests per round")
	flag.IntVar(&o.statsJobs, "stats-jobs", 0, "jobs given 90 days of rollups for the stats scenario (0: skip it; in-process only, at most 100,000)")
	flag.IntVar(&o.filterJobs, "filter-jobs", 0, "jobs bulk-inserted for the list-filter scenario (0: skip it; in-process only, at most 1,000,000)")
	flag.IntVar(&o.dashJobs, "dash-jobs", 0, "jobs (5% down, 90 days of rollups each) for the dashboard scenario (0: skip it; in-process only, at most 100,000)")
	flag.BoolVar(&o.chromium, "chromium", false, "with -dash-jobs, count the overview's DOM nodes in headless Chromium")
	nDash := flag.Int("n-dash", 300, "dashboard page requests per round, per page")
	flag.DurationVar(&o.maxTime, "max", 20*time.Second, "time cap per measurement")
	flag.IntVar(&o.warmup, "warmup", 20, "unmeasured requests before each measurement")
	flag.Parse()
	o.n["noop"], o.n["list"], o.n["get"], o.n["post"], o.n["filter"] = *nNoop, *nList, *nGet, *nPost, *nFilter
	o.n["jobstats"], o.n["globalstats"] = *nJobStats, *nGlobalStats
	o.n["dash"], o.n["dashq"], o.n["dashjob"] = *nDash, *nDash, *nDash

	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "apibench:", err)
		os.Exit(1)
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func run(o options) error {
	base, key, label := o.baseURL, o.key, "external "+o.baseURL
	var store *models.Store
	if base == "" {
		srv, err := startInProcess(o)
		if err != nil {
			return err
		}
		defer srv.close()
		base, key, label, store = srv.base, srv.key, o.db+" (in-process)", srv.store
	} else if key == "" {
		return errors.New("-url needs -key (a key with the * permission)")
	}
	if o.filterJobs > 0 && store == nil {
		return errors.New("-filter-jobs needs the in-process server (it inserts with SQL)")
	}
	if o.statsJobs > 0 && store == nil {
		return errors.New("-stats-jobs needs the in-process server (it inserts with SQL)")
	}
	if o.dashJobs > 0 && store == nil {
		return errors.New("-dash-jobs needs the in-process server (it inserts with SQL)")
	}
	if o.statsJobs > 100_000 || o.dashJobs > 100_000 {
		return errors.New("-stats-jobs and -dash-jobs are at most 100,000")
	}
	if o.filterJobs > 1_000_000 {
		return errors.New("-filter-jobs is at most 1,000,000")
	}
	c := &client{
		base: strings.TrimRight(base, "/"),
		key:  key,
		http: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			MaxIdleConns: o.conc * 2, MaxIdleConnsPerHost: o.conc * 2, IdleConnTimeout: time.Minute,
		}},
	}

	listProject, err := c.createProject("apibench list")
	if err != nil {
		return err
	}
	postProject, err := c.createProject("apibench post")
	if err != nil {
		return err
	}
	start := time.Now()
	ids, err := c.seed(listProject, o.jobs, o.conc)
	if err != nil {
		return err
	}
	fmt.Printf("apibench: %s, %d jobs seeded in %s, %d clients, %d rounds, GOMAXPROCS=%d\n",
		label, len(ids), time.Since(start).Round(time.Millisecond), o.conc, o.rounds, runtime.GOMAXPROCS(0))

	var seq atomic.Int64
	endpoints := []endpoint{
		{"noop", "GET /healthz (no-op baseline)", func() (*http.Request, error) {
			return http.NewRequest("GET", c.base+"/healthz", nil)
		}},
		{"list", fmt.Sprintf("GET /api/v1/jobs?projectId= (%d jobs)", len(ids)), func() (*http.Request, error) {
			return c.req("GET", "/api/v1/jobs?projectId="+url.QueryEscape(listProject), "")
		}},
		{"get", "GET /api/v1/jobs/{id}", func() (*http.Request, error) {
			return c.req("GET", "/api/v1/jobs/"+ids[int(seq.Add(1))%len(ids)], "")
		}},
		{"post", "POST /api/v1/jobs", func() (*http.Request, error) {
			return c.req("POST", "/api/v1/jobs", jobBody(postProject, int(seq.Add(1))))
		}},
	}
	if o.filterJobs > 0 {
		e, err := filterScenario(c, store, o.filterJobs)
		if err != nil {
			return err
		}
		endpoints = append(endpoints, e)
	}
	if o.statsJobs > 0 {
		es, err := statsScenario(c, store, o.statsJobs)
		if err != nil {
			return err
		}
		endpoints = append(endpoints, es...)
	}
	if o.dashJobs > 0 {
		es, err := dashScenario(c, store, o.dashJobs, o.chromium)
		if err != nil {
			return err
		}
		endpoints = append(endpoints, es...)
	}
	results := map[string][]stats{}
	for r := 0; r < o.rounds; r++ {
		for _, e := range endpoints {
			if _, err := measure(c, e, o.warmup, o.conc, o.maxTime); err != nil {
				return fmt.Errorf("warm up %s: %w", e.name, err)
			}
			s, err := measure(c, e, o.n[e.key], o.conc, o.maxTime)
			if err != nil {
				return fmt.Errorf("%s: %w", e.name, err)
			}
			results[e.key] = append(results[e.key], s)
		}
	}
	noop := median(results["noop"])
	fmt.Printf("\n%-42s %10s %10s %10s %14s %12s\n", "endpoint", "req/s", "p50", "p99", "req/s vs noop", "p50 vs noop")
	for _, e := range endpoints {
		m := median(results[e.key])
		fmt.Printf("%-42s %10.0f %10s %10s %13.3fx %11.1fx\n", e.name, m.rps, fmtDur(m.p50), fmtDur(m.p99),
			m.rps/noop.rps, float64(m.p50)/float64(noop.p50))
	}
	fmt.Printf("\n(median over %d rounds; requests per round: noop %d, list %d, get %d, post %d, filter %d, jobstats %d, globalstats %d, each dashboard page %d; capped at %s each)\n",
		o.rounds, o.n["noop"], o.n["list"], o.n["get"], o.n["post"], o.n["filter"], o.n["jobstats"], o.n["globalstats"], o.n["dash"], o.maxTime)
	return nil
}

// endpoint is one measured request shape.
type endpoint struct {
	key, name string
	newReq    func() (*http.Request, error)
}

// stats are the figures of one measurement.
type stats struct {
	rps      float64
	p50, p99 time.Duration
}

// median takes the median of each figure separately.
func median(ss []stats) stats {
	pick := func(f func(stats) float64) float64 {
		v := make([]float64, len(ss))
		for i, s := range ss {
			v[i] = f(s)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	return stats{
		rps: pick(func(s stats) float64 { return s.rps }),
		p50: time.Duration(pick(func(s stats) float64 { return float64(s.p50) })),
		p99: time.Duration(pick(func(s stats) float64 { return float64(s.p99) })),
	}
}

// measure sends n requests from conc clients (stopping early at maxTime)
// and returns throughput and latency percentiles. Any non-2xx is an error:
// a benchmark of error responses would measure the wrong thing.
func measure(c *client, e endpoint, n, conc int, maxTime time.Duration) (stats, error) {
	var next atomic.Int64
	var mu sync.Mutex
	var firstErr error
	lat := make([]time.Duration, 0, n)
	deadline := time.Now().Add(maxTime)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, n/conc+1)
			for next.Add(1) <= int64(n) && time.Now().Before(deadline) {
				req, err := e.newReq()
				if err == nil {
					t0 := time.Now()
					err = c.do(req)
					local = append(local, time.Since(t0))
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		return stats{}, firstErr
	}
	if len(lat) == 0 {
		return stats{}, errors.New("no request completed")
	}
	slices.Sort(lat)
	return stats{
		rps: float64(len(lat)) / elapsed.Seconds(),
		p50: lat[len(lat)*50/100],
		p99: lat[min(len(lat)-1, len(lat)*99/100)],
	}, nil
}

// do sends a measured request and reads the whole answer.
func (c *client) do(req *http.Request) error {
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %d %s", req.Method, req.URL.Path, res.StatusCode, truncate(body))
	}
	return nil
}

func truncate(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2fs", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%dµs", d.Microseconds())
	}
}

// client talks to the API.
type client struct {
	base, key string
	http      *http.Client
}

func (c *client) req(method, path, body string) (*http.Request, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("X-API-Key", c.key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// call sends one request and decodes a 2xx JSON answer into out.
func (c *client) call(method, path, body string, out any) error {
	req, err := c.req(method, path, body)
	if err != nil {
		return err
	}
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, truncate(b))
	}
	return json.Unmarshal(b, out)
}

func (c *client) createProject(name string) (string, error) {
	var p struct{ ID string }
	if err := c.call("POST", "/api/v1/projects", fmt.Sprintf(`{"name": %q, "url": "https://example.com"}`, name), &p); err != nil {
		return "", fmt.Errorf("create project: %w", err)
	}
	return p.ID, nil
}

func jobBody(project string, i int) string {
	b, _ := json.Marshal(map[string]any{ // marshalling plain values cannot fail
		"name": fmt.Sprintf("job %d", i), "projectId": project, "url": fmt.Sprintf("https://example.com/health/%d", i),
		"method": "GET", "schedule": "*/5 * * * *", "heartbeat": i%2 == 0, "timeout": 30,
		"headers": map[string]string{"Authorization": "Bearer token"}, "tags": []string{"bench"},
	})
	return string(b)
}

// seed creates n jobs in project through the API, conc at a time.
func (c *client) seed(project string, n, conc int) ([]string, error) {
	ids := make([]string, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, conc)
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				var j struct{ ID string }
				if err := c.call("POST", "/api/v1/jobs", jobBody(project, i), &j); err != nil {
					errs <- fmt.Errorf("seed job %d: %w", i, err)
					return
				}
				ids[i] = j.ID
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	return ids, nil
}

// server is CronPulse running in this process.
type server struct {
	base, key string
	store     *models.Store
	close     func()
}

// startInProcess opens the database, applies migrations, creates a key and
// serves the API on a free port of 127.0.0.1, with the per-key rate limit
// out of the way.
func startInProcess(o options) (*server, error) {
	var dbURL string
	var cleanup []func()
	closeAll := func() {
		for i := len(cleanup) - 1; i >= 0; i-- {
			cleanup[i]()
		}
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	switch o.db {
	case "sqlite":
		dir, err := os.MkdirTemp("", "apibench")
		if err != nil {
			return nil, err
		}
		cleanup = append(cleanup, func() { _ = os.RemoveAll(dir) }) // best effort: a temp dir
		dbURL = filepath.Join(dir, "cronpulse.db")
	case "postgres":
		u, drop, err := freshSchema(o.pgURL, log)
		if err != nil {
			return nil, err
		}
		cleanup = append(cleanup, drop)
		dbURL = u
	default:
		return nil, fmt.Errorf("-db must be sqlite or postgres, not %q", o.db)
	}
	cfg := app.TestConfig(dbURL)
	cfg.APIRateLimit = 1 << 30
	svc, err := app.Open(cfg, log)
	if err != nil {
		closeAll()
		return nil, err
	}
	cleanup = append(cleanup, func() { _ = svc.Close() }) // closing at exit; nothing to report
	_, key, err := svc.Store.CreateAPIKey("apibench", []string{models.PermAll})
	if err != nil {
		closeAll()
		return nil, err
	}
	f := app.New(cfg, app.Deps{Store: svc.Store, Log: log})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		closeAll()
		return nil, err
	}
	go func() {
		if err := f.Listener(ln); err != nil {
			log.Error("serve", slog.Any("error", err))
		}
	}()
	cleanup = append(cleanup, func() { _ = f.ShutdownWithTimeout(5 * time.Second) }) // at exit
	return &server{base: "http://" + ln.Addr().String(), key: key, store: svc.Store, close: closeAll}, nil
}

// freshSchema creates a schema of its own in the PostgreSQL database and
// returns a URL selecting it and a function that drops it.
func freshSchema(base string, log *slog.Logger) (string, func(), error) {
	u, drop, err := modelstest.ScratchSchema(base, "apibench", log)
	if err != nil {
		return "", nil, err
	}
	return u, func() {
		if err := drop(); err != nil {
			fmt.Fprintln(os.Stderr, "apibench:", err)
		}
	}, nil
}
