// Command checkscale measures the HTTP checker at scale: N jobs on one
// schedule against a local target served by a separate process (so the CPU
// figure is CronPulse's own), on SQLite or PostgreSQL.
//
//	go run ./bench/checkscale -n 20000 -every 10s -window 60s
//	go run ./bench/checkscale -n 20000 -db 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable'
//
// The jobs are created as if an hour ago and the engine then starts, as
// after a restart: every job's first tick is spread over its first
// interval. After the warm-up (one interval plus a second) the tool
// measures one window and prints achieved vs scheduled checks/s, lateness
// (a run's start minus its tick) p50/p99/max, CPU per check from the
// process's own rusage, RSS per job, and the seconds from start until every
// job had run once.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cronpulse/cronpulse/bench/internal/cpu"
	"github.com/cronpulse/cronpulse/checker"
	"github.com/cronpulse/cronpulse/migrations"
	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/modelstest"
)

func main() {
	var (
		n       = flag.Int("n", 20000, "jobs")
		every   = flag.Duration("every", 10*time.Second, "each job's interval (@every)")
		window  = flag.Duration("window", 60*time.Second, "measurement window after the warm-up")
		dbURL   = flag.String("db", "", "database: a postgres:// URL, or empty for a SQLite file in a temporary directory")
		conc    = flag.Int("concurrency", 256, "CHECK_CONCURRENCY")
		perHost = flag.Int("per-host", 64, "CHECK_PER_HOST")
		history = flag.Int("history", 1000, "CHECK_HISTORY")
		target  = flag.Bool("serve-target", false, "internal: serve the target and print its address")
		profile = flag.String("cpuprofile", "", "write a CPU profile of the measurement window to this file")
	)
	flag.Parse()
	cpuProfile = *profile
	if *target {
		serveTarget()
		return
	}
	if err := run(*n, *every, *window, *dbURL, *conc, *perHost, *history); err != nil {
		fmt.Fprintln(os.Stderr, "checkscale:", err)
		os.Exit(1)
	}
}

// serveTarget answers every request with 200 "ok" until stdin closes (the
// parent exited).
func serveTarget() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "target:", err)
		os.Exit(1)
	}
	fmt.Println(l.Addr().String())
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok") // a vanished client is the client's problem
	}), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin) // returns when the parent goes away
		os.Exit(0)
	}()
	_ = srv.Serve(l) // runs until the process exits
}

// startTarget runs this binary as the target in a child process.
func startTarget() (string, func(), error) {
	cmd := exec.Command(os.Args[0], "-serve-target")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return "", nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("start target: %w", err)
	}
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		return "", nil, fmt.Errorf("read target address: %w", err)
	}
	stop := func() {
		_ = stdin.Close() // the child exits when its stdin closes
		_ = cmd.Wait()    // its exit status does not matter
	}
	return strings.TrimSpace(addr), stop, nil
}

func run(n int, every, window time.Duration, dbURL string, conc, perHost, history int) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	addr, stopTarget, err := startTarget()
	if err != nil {
		return err
	}
	defer stopTarget()

	dbName := "sqlite"
	if dbURL == "" {
		dir, err := os.MkdirTemp("", "checkscale")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		dbURL = filepath.Join(dir, "cronpulse.db")
	} else {
		dbName = "postgres"
		u, drop, err := freshSchema(dbURL, log)
		if err != nil {
			return err
		}
		defer drop()
		dbURL = u
	}
	db, dialect, err := models.Open(dbURL, log)
	if err != nil {
		return err
	}
	defer models.Close(db)
	if _, err := migrations.Apply(db, log); err != nil {
		return err
	}

	// Seed as if an hour ago: the engine then starts as after a restart.
	seedStart := time.Now()
	past := models.NewStore(db, dialect, func() time.Time { return time.Now().Add(-time.Hour) })
	if err := seed(past, n, every, "http://"+addr+"/health"); err != nil {
		return err
	}
	fmt.Printf("seeded %d jobs in %.1fs\n", n, time.Since(seedStart).Seconds())
	runtime.GC()
	debug.FreeOSMemory()
	rssBefore := rssKB()

	store := models.NewStore(db, dialect, nil)
	eng, err := checker.New(checker.Options{
		Store: store, Log: log, Concurrency: conc, PerHost: perHost, AllowPrivate: true,
		CheckHistory: history, PingHistory: 1000, UserAgent: "CronPulse/bench",
	})
	if err != nil {
		return err
	}
	start := time.Now()
	if err := eng.Start(context.Background()); err != nil {
		return err
	}
	warm := every + time.Second
	time.Sleep(warm)
	stopProfile := startProfile()
	w0, cpu0, pg0 := time.Now(), cpu.Self(), cpu.Postgres()
	time.Sleep(window)
	w1, cpu1, pg1 := time.Now(), cpu.Self(), cpu.Postgres()
	stopProfile()
	rss, hwm := rssKB(), hwmKB()
	if err := eng.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "warning: stop engine:", err)
	}

	all, err := store.RunTimings(start.Add(-time.Second), w1.Add(time.Minute))
	if err != nil {
		return err
	}
	firstRun := map[string]time.Time{}
	var late []time.Duration
	inWindow := 0
	for _, r := range all {
		if f, ok := firstRun[r.JobID]; !ok || r.CreatedAt.Before(f) {
			firstRun[r.JobID] = r.CreatedAt
		}
		if !r.CreatedAt.Before(w0) && r.CreatedAt.Before(w1) {
			inWindow++
			late = append(late, r.CreatedAt.Sub(r.ScheduledAt))
		}
	}
	var lastFirst time.Time
	for _, t := range firstRun {
		if t.After(lastFirst) {
			lastFirst = t
		}
	}
	slices.Sort(late)
	secs := w1.Sub(w0).Seconds()
	scheduled := float64(n) * secs / every.Seconds()
	cpu := cpu1 - cpu0

	fmt.Printf("database            %s\n", dbName)
	fmt.Printf("jobs                %d @every %s, window %.0fs after %.0fs warm-up, %d CPUs\n", n, every, secs, warm.Seconds(), runtime.NumCPU())
	fmt.Printf("checks/s            %.1f achieved vs %.1f scheduled (%.2f%%)\n", float64(inWindow)/secs, scheduled/secs, 100*float64(inWindow)/scheduled)
	fmt.Printf("lateness            p50 %s  p99 %s  max %s\n", pct(late, 0.50), pct(late, 0.99), pct(late, 1))
	fmt.Printf("CPU per check       %.3f ms (%.2fs CPU of this process for %d checks; %.0f%% of one core)\n",
		ms(cpu)/float64(max(inWindow, 1)), cpu.Seconds(), inWindow, 100*cpu.Seconds()/secs)
	if dbName == "postgres" {
		fmt.Printf("postgres server CPU %.3f ms per check (all postgres processes on the machine, other users included)\n",
			ms(pg1-pg0)/float64(max(inWindow, 1)))
	}
	fmt.Printf("RSS                 %.1f KB per job (%d KB total; %d KB before the engine started; peak %d KB)\n",
		float64(rss)/float64(n), rss, rssBefore, hwm)
	fmt.Printf("every job ran once  %d of %d jobs, %.2fs after start\n", len(firstRun), n, lastFirst.Sub(start).Seconds())

	// Baseline in the same run: the same request rate from a bare net/http
	// client (keep-alive, no scheduling, nothing stored).
	reqs, bcpu := bareHTTP("http://"+addr+"/health", scheduled/secs, 10*time.Second)
	perReq := ms(bcpu) / float64(max(reqs, 1))
	fmt.Printf("baseline            bare net/http client at the same rate: %.3f ms CPU per request (%d requests); CronPulse per check = %.1fx that\n",
		perReq, reqs, ms(cpu)/float64(max(inWindow, 1))/perReq)
	return nil
}

// bareHTTP sends GETs to target at rate per second for d from a plain
// client and returns how many it sent and the CPU this process used.
func bareHTTP(target string, rate float64, d time.Duration) (int, time.Duration) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxIdleConns: 256}}
	const tick = 10 * time.Millisecond
	perTick := int(rate * tick.Seconds())
	var wg sync.WaitGroup
	sent := 0
	cpu0 := cpu.Self()
	end := time.Now().Add(d)
	t := time.NewTicker(tick)
	defer t.Stop()
	for now := range t.C {
		if now.After(end) {
			break
		}
		for i := 0; i < perTick; i++ {
			sent++
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := client.Get(target)
				if err != nil {
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body) // drained for keep-alive; content irrelevant
				_ = resp.Body.Close()
			}()
		}
	}
	wg.Wait()
	return sent, cpu.Self() - cpu0
}

// cpuProfile is the -cpuprofile file, if any.
var cpuProfile string

// startProfile starts the CPU profile if one was asked for and returns the
// function that ends it.
func startProfile() func() {
	if cpuProfile == "" {
		return func() {}
	}
	f, err := os.Create(cpuProfile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "cpuprofile:", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, "cpuprofile:", err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close() // the profile is flushed by StopCPUProfile
	}
}

// seed creates n checks of target on "@every <every>".
func seed(store *models.Store, n int, every time.Duration, target string) error {
	project := "checkscale"
	p, err := store.NewProject(&models.ProjectRequest{Name: &project})
	if err != nil {
		return err
	}
	if err := store.CreateProject(p); err != nil {
		return err
	}
	method, schedule := "GET", "@every "+every.String()
	for i := 0; i < n; i++ {
		name := "check " + strconv.Itoa(i)
		u := target + "?job=" + strconv.Itoa(i)
		j, err := store.NewJob(&models.JobRequest{Name: &name, ProjectID: &p.ID, URL: &u, Method: &method, Schedule: &schedule})
		if err != nil {
			return err
		}
		if err := store.CreateJob(j); err != nil {
			return err
		}
	}
	return nil
}

// freshSchema creates an empty PostgreSQL schema and returns a URL that
// selects it, and a function that drops it.
func freshSchema(base string, log *slog.Logger) (string, func(), error) {
	u, drop, err := modelstest.ScratchSchema(base, "checkscale", log)
	if err != nil {
		return "", nil, err
	}
	return u, func() {
		if err := drop(); err != nil {
			log.Warn("drop schema", slog.Any("error", err))
		}
	}, nil
}

// rssKB and hwmKB read the resident set size and its peak.
func rssKB() int64 { return statusKB("VmRSS:") }
func hwmKB() int64 { return statusKB("VmHWM:") }

func statusKB(key string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, key); ok {
			v, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return v
		}
	}
	return 0
}

func pct(sorted []time.Duration, p float64) string {
	if len(sorted) == 0 {
		return "-"
	}
	i := int(p * float64(len(sorted)-1))
	return sorted[i].Round(100 * time.Microsecond).String()
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
