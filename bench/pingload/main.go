// Command pingload measures durable pings per second and their latency.
//
// It starts CronPulse's real HTTP application in this process on
// 127.0.0.1 (database from -db: a SQLite file, or a PostgreSQL URL in which
// it creates and later drops a schema of its own), and a no-op Fiber
// endpoint beside it, then drives each with -conns keep-alive connections
// for -duration: the no-op endpoint, pings to one job, pings spread over
// -jobs jobs, and the no-op endpoint again. -rounds repeats all but the
// first no-op run and reports the medians: this machine's speed drifts
// from one minute to the next, and each round's ratio is to the no-op runs
// just before and after it.
//
// For each run it prints requests per second, p50 and p99 latency, and the
// CPU time per request of this process (server, load generator and, on
// SQLite, the database) and of PostgreSQL's processes; for each ping run,
// whether the pings stored (rows, and the jobs' pingCount) equal the 200
// answers, and the writer's batches: how many pings each held, how many
// went by the fast path, and how much of the run the writer spent storing
// them. -only runs one ping scenario alone (for profiling with
// -cpuprofile).
//
//	go run ./bench/pingload -db sqlite -rounds 3
//	go run ./bench/pingload -db 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable' -rounds 3
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"math"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"sync"
	"time"

	"github.com/cronpulse/cronpulse/app"
	"github.com/cronpulse/cronpulse/bench/internal/cpu"
	"github.com/cronpulse/cronpulse/migrations"
	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

func main() {
	dbFlag := flag.String("db", "sqlite", `"sqlite" (a file in a temporary directory) or a postgres:// URL`)
	conns := flag.Int("conns", 64, "concurrent connections")
	duration := flag.Duration("duration", 10*time.Second, "length of each measurement")
	spread := flag.Int("jobs", 1000, "jobs the spread scenario pings")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the ping runs to this file")
	only := flag.String("only", "", `run one scenario alone, without the no-op runs: "one" (1 job) or "spread" (-jobs jobs); for profiling`)
	rounds := flag.Int("rounds", 1, "repeat no-op, 1 job, spread this many times (then the no-op once more) and report medians")
	history := flag.Int("history", 0, "pings kept per job, as PING_HISTORY (0 keeps every one, so that stored rows can be counted against answers; with pruning only pingCount is)")
	flag.Parse()
	if *conns < 1 || *conns > 1024 || *duration <= 0 || *duration > 5*time.Minute || *spread < 1 || *spread > 100_000 || *rounds < 1 || *rounds > 20 || *history < 0 {
		fmt.Fprintln(os.Stderr, "pingload: -conns 1..1024, -duration up to 5m, -jobs 1..100000, -rounds 1..20, -history 0 or more")
		os.Exit(2)
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "pingload:", err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "pingload:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if *only != "" && *only != "one" && *only != "spread" {
		fmt.Fprintln(os.Stderr, `pingload: -only is "one" or "spread"`)
		os.Exit(2)
	}
	if err := run(*dbFlag, *conns, *duration, *spread, *only, *rounds, *history); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "pingload:", err)
		os.Exit(1)
	}
}

func run(dbFlag string, conns int, duration time.Duration, spread int, only string, rounds, history int) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	dbURL, cleanup, err := prepareDB(dbFlag, log)
	if err != nil {
		return err
	}
	defer cleanup()

	db, dialect, err := models.Open(dbURL, log)
	if err != nil {
		return err
	}
	defer models.Close(db)
	if _, err := migrations.Apply(db, log); err != nil {
		return err
	}
	store := models.NewStore(db, dialect, nil)
	tokens, err := createJobs(store, spread+1)
	if err != nil {
		return err
	}

	cfg := app.TestConfig(dbURL)
	cfg.PingRateLimit = math.MaxInt // the load pings one job far faster than a cron job would, round after round
	// By default (-history 0) every row is kept, so that rows can be
	// counted against answers.
	cfg.PingHistory = history
	writer := app.NewPingWriter(cfg, store, log)
	defer writer.Close()
	cpApp := app.New(cfg, app.Deps{Store: store, Log: log, PingWriter: writer})
	cpAddr, err := serve(cpApp)
	if err != nil {
		return err
	}
	defer cpApp.Shutdown()

	noop := fiber.New(fiber.Config{DisableStartupMessage: true})
	noop.Get("/noop", func(c *fiber.Ctx) error { return c.SendString("OK") })
	noopAddr, err := serve(noop)
	if err != nil {
		return err
	}
	defer noop.Shutdown()

	fmt.Printf("pingload: %s, %d connections, %s per run, GOMAXPROCS=%d\n", dialect, conns, duration, runtime.GOMAXPROCS(0))
	onPG := dialect == models.Postgres
	pings := func(name string, path func(int) string) (result, error) {
		before, err := stored(store)
		if err != nil {
			return result{}, err
		}
		st0 := writer.Stats()
		r := load(cpAddr, conns, duration, onPG, path)
		st := writer.Stats()
		after, err := stored(store)
		if err != nil {
			return r, err
		}
		r.print(name)
		checkStored(r, before, after, history > 0)
		batches := st.Batches - st0.Batches
		fmt.Printf("%-30s %d batches, %.1f pings each, %d by the fast path, writer busy %.0f%% of the run\n", "  writer", batches,
			float64(st.Pings-st0.Pings)/float64(max(batches, 1)), st.Fast-st0.Fast, 100*(st.CommitTime-st0.CommitTime).Seconds()/r.elapsed.Seconds())
		return r, nil
	}
	oneJob := func(int) string { return "/ping/" + tokens[0] }
	spreadJobs := func(i int) string { return "/ping/" + tokens[1+i%spread] }
	switch only {
	case "one":
		_, err := pings("pings, 1 job", oneJob)
		return err
	case "spread":
		_, err := pings(fmt.Sprintf("pings, %d jobs", spread), spreadJobs)
		return err
	}

	noopPath := func(int) string { return "/noop" }
	base := load(noopAddr, conns, duration, onPG, noopPath)
	base.print("no-op Fiber endpoint")
	var oneRatios, manyRatios, oneP99s, manyP99s []float64
	for r := 1; r <= rounds; r++ {
		one, err := pings("pings, 1 job", oneJob)
		if err != nil {
			return err
		}
		many, err := pings(fmt.Sprintf("pings, %d jobs", spread), spreadJobs)
		if err != nil {
			return err
		}
		next := load(noopAddr, conns, duration, onPG, noopPath)
		next.print("no-op Fiber endpoint (again)")
		noopRate := (base.rate() + next.rate()) / 2
		fmt.Printf("ratio to no-op (mean %.0f req/s): 1 job %.2fx, %d jobs %.2fx\n",
			noopRate, one.rate()/noopRate, spread, many.rate()/noopRate)
		oneRatios, manyRatios = append(oneRatios, one.rate()/noopRate), append(manyRatios, many.rate()/noopRate)
		oneP99s, manyP99s = append(oneP99s, ms(one.pct(0.99))), append(manyP99s, ms(many.pct(0.99)))
		base = next
	}
	if rounds > 1 {
		fmt.Printf("median of %d rounds: 1 job %.2fx (p99 %.1f ms), %d jobs %.2fx (p99 %.1f ms)\n", rounds,
			median(oneRatios), median(oneP99s), spread, median(manyRatios), median(manyP99s))
	}
	return nil
}

// median returns the middle value of xs (the mean of the two middle ones
// for an even count).
func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// prepareDB returns the database URL to use and a cleanup function.
func prepareDB(flagValue string, log *slog.Logger) (string, func(), error) {
	if flagValue == "sqlite" {
		dir, err := os.MkdirTemp("", "pingload")
		if err != nil {
			return "", nil, err
		}
		return filepath.Join(dir, "cronpulse.db"), func() { os.RemoveAll(dir) }, nil
	}
	if !models.IsPostgresURL(flagValue) {
		return flagValue, func() {}, nil
	}
	u, drop, err := modelstest.ScratchSchema(flagValue, "pingload", log)
	if err != nil {
		return "", nil, err
	}
	return u, func() {
		if err := drop(); err != nil {
			fmt.Fprintln(os.Stderr, "pingload:", err)
		}
	}, nil
}

// createJobs stores n heartbeat jobs and returns their ping tokens.
func createJobs(store *models.Store, n int) ([]string, error) {
	name := "pingload"
	p, err := store.NewProject(&models.ProjectRequest{Name: &name})
	if err != nil {
		return nil, err
	}
	if err := store.CreateProject(p); err != nil {
		return nil, err
	}
	tokens := make([]string, n)
	sched, yes := "@every 1h", true
	for i := range tokens {
		jn := fmt.Sprintf("job %d", i)
		j, err := store.NewJob(&models.JobRequest{Name: &jn, ProjectID: &p.ID, Schedule: &sched, Heartbeat: &yes})
		if err != nil {
			return nil, err
		}
		if err := store.CreateJob(j); err != nil {
			return nil, err
		}
		tokens[i] = j.PingToken
	}
	return tokens, nil
}

// serve starts f on a free loopback port.
func serve(f *fiber.App) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	go func() { _ = f.Listener(ln) }() // returns at Shutdown
	return ln.Addr().String(), nil
}

// result is one measurement.
type result struct {
	elapsed   time.Duration
	ok, other int64
	latencies []time.Duration
	cpu, pg   time.Duration // CPU used meanwhile by this process, and by PostgreSQL
}

func (r result) rate() float64 { return float64(r.ok) / r.elapsed.Seconds() }

// pct returns the p-th fraction's latency (the latencies are sorted).
func (r result) pct(p float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	return r.latencies[int(p*float64(len(r.latencies)-1))]
}

func (r result) print(name string) {
	fmt.Printf("%-30s %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  200s %d  other %d  CPU/req %.1f us",
		name, r.rate(), ms(r.pct(0.50)), ms(r.pct(0.99)), r.ok, r.other, us(r.cpu, r.ok+r.other))
	if r.pg > 0 {
		fmt.Printf(" + %.1f us PostgreSQL", us(r.pg, r.ok+r.other))
	}
	fmt.Println()
}

// us is d per n, in microseconds.
func us(d time.Duration, n int64) float64 {
	return float64(d) / float64(time.Microsecond) / float64(max(n, 1))
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// load sends requests from conns keep-alive connections for d; path(i)
// gives the i-th request's path of a connection. With pg it also measures
// the PostgreSQL server's CPU.
func load(addr string, conns int, d time.Duration, pg bool, path func(i int) string) result {
	client := &fasthttp.HostClient{Addr: addr, MaxConns: conns, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
	var mu sync.Mutex
	var total result
	var wg sync.WaitGroup
	pgCPU := func() time.Duration {
		if !pg {
			return 0
		}
		return cpu.Postgres()
	}
	cpu0, pg0 := cpu.Self(), pgCPU()
	start := time.Now()
	end := start.Add(d)
	for c := 0; c < conns; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, res := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(res)
			var r result
			r.latencies = make([]time.Duration, 0, 16384)
			for i := c; time.Now().Before(end); i += conns {
				req.SetRequestURI("http://" + addr + path(i))
				t0 := time.Now()
				err := client.Do(req, res)
				lat := time.Since(t0)
				if err == nil && res.StatusCode() == fasthttp.StatusOK {
					r.ok++
				} else {
					r.other++
				}
				r.latencies = append(r.latencies, lat)
			}
			mu.Lock()
			total.ok += r.ok
			total.other += r.other
			total.latencies = append(total.latencies, r.latencies...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	total.elapsed = time.Since(start)
	slices.Sort(total.latencies)
	total.cpu, total.pg = cpu.Self()-cpu0, pgCPU()-pg0
	return total
}

// counts is what the database holds about pings.
type counts struct{ rows, pingCount int64 }

func stored(store *models.Store) (counts, error) {
	var c counts
	if err := store.DB().Model(&models.Ping{}).Count(&c.rows).Error; err != nil {
		return c, err
	}
	err := store.DB().Model(&models.Job{}).Select("COALESCE(SUM(ping_count), 0)").Scan(&c.pingCount).Error
	return c, err
}

// checkStored compares what a run stored with its 200 answers: the rows
// added (unless pruned) and the pingCount added.
func checkStored(r result, before, after counts, pruned bool) {
	rows, pc := after.rows-before.rows, after.pingCount-before.pingCount
	verdict := "OK"
	if (!pruned && rows != r.ok) || pc != r.ok {
		verdict = "MISMATCH"
	} else if pruned {
		verdict = "OK (pingCount; rows are pruned)"
	}
	fmt.Printf("%-30s 200 answers %d, rows stored %d, pingCount added %d: %s\n", "  stored", r.ok, rows, pc, verdict)
}
