// Command watchdog measures the heartbeat watchdog at scale.
//
// It stores -jobs heartbeat jobs (100,000 by default) that are late, with
// their down deadlines spread evenly over -window starting -lead from now,
// starts the real checker engine (gocron, real clock), and waits until every
// deadline has passed. For each job it takes the delay from its deadline to
// its flip: as recorded on the flip (the tick's time) and as observed by a
// poller reading new flips every 100 ms (an upper bound of when the flip was
// committed). Then it times ticks with nothing due, twice: with every job's
// alertAt empty, and with every job's alertAt an hour ahead.
//
//	go run ./bench/watchdog -db sqlite
//	go run ./bench/watchdog -db 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable'
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"time"

	"github.com/cronpulse/cronpulse/checker"
	"github.com/cronpulse/cronpulse/migrations"
	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/google/uuid"
	"github.com/jonboulle/clockwork"
)

func main() {
	dbFlag := flag.String("db", "sqlite", `"sqlite" (a file in a temporary directory) or a postgres:// URL`)
	n := flag.Int("jobs", 100_000, "heartbeat jobs")
	window := flag.Duration("window", 20*time.Second, "the deadlines are spread over this long")
	lead := flag.Duration("lead", 5*time.Second, "the first deadline is this long after the engine starts")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile to this file")
	flag.Parse()
	if *n < 1 || *n > 1_000_000 || *window <= 0 || *window > 10*time.Minute {
		fmt.Fprintln(os.Stderr, "watchdog: -jobs 1..1000000, -window up to 10m")
		os.Exit(2)
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "watchdog:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if err := run(*dbFlag, *n, *window, *lead); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "watchdog:", err)
		os.Exit(1)
	}
}

func run(dbFlag string, n int, window, lead time.Duration) error {
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

	fmt.Printf("watchdog: %s, %d heartbeat jobs, deadlines over %s\n", dialect, n, window)
	setup := time.Now()
	// The deadlines are laid out from a base an hour ahead; once the jobs
	// are stored, the engine's clock is set so that the first comes lead
	// after its start, however long the setup took.
	base := time.Now().Add(time.Hour)
	deadlines, err := createJobs(store, n, base, window)
	if err != nil {
		return err
	}
	fmt.Printf("setup: %d jobs stored in %s\n", n, time.Since(setup).Round(time.Millisecond))
	clock := offsetClock{Clock: clockwork.NewRealClock(), offset: base.Add(-lead).Sub(time.Now())}

	eng, err := checker.New(checker.Options{Store: store, Log: log, Clock: clock, Concurrency: 16, PerHost: 8, CheckHistory: 1000, PingHistory: 1000})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := eng.Start(ctx); err != nil {
		return err
	}
	last := base.Add(window)
	observed := map[string]time.Time{}
	var lastID int64
	for clock.Now().Before(last.Add(4 * time.Second)) {
		time.Sleep(100 * time.Millisecond)
		if lastID, err = poll(store, clock, lastID, observed); err != nil {
			return err
		}
	}
	if err := eng.Stop(); err != nil {
		return err
	}
	if _, err = poll(store, clock, lastID, observed); err != nil {
		return err
	}

	var flips []models.Flip
	if err := store.DB().Select("job_id, created_at").Find(&flips).Error; err != nil {
		return err
	}
	perJob := map[string]int{}
	var recorded, seen []time.Duration
	for _, f := range flips {
		perJob[f.JobID]++
		d, ok := deadlines[f.JobID]
		if !ok {
			continue
		}
		recorded = append(recorded, f.CreatedAt.Sub(d))
		if o, ok := observed[f.JobID]; ok {
			seen = append(seen, o.Sub(d))
		}
	}
	dup := 0
	for _, c := range perJob {
		if c > 1 {
			dup++
		}
	}
	fmt.Printf("flips: %d for %d jobs (jobs with more than one: %d)\n", len(flips), n, dup)
	report("deadline -> flip (flip's time)", recorded)
	report("deadline -> flip (observed)", seen)

	if err := idleTicks(eng, "idle tick, alertAt empty", 200); err != nil {
		return err
	}
	if err := store.DB().Exec("UPDATE jobs SET alert_at = ?", clock.Now().UTC().Add(time.Hour)).Error; err != nil {
		return err
	}
	if err := idleTicks(eng, "idle tick, alertAt in 1h", 200); err != nil {
		return err
	}
	// The UPDATE above left 100,000 dead index entries on PostgreSQL, which
	// the next ticks step over until (auto)vacuum clears them.
	vacuum := "ANALYZE"
	if dialect == models.Postgres {
		vacuum = "VACUUM ANALYZE jobs"
	}
	if err := store.DB().Exec(vacuum).Error; err != nil {
		return err
	}
	return idleTicks(eng, "idle tick, alertAt in 1h, vacuumed", 200)
}

// offsetClock is the real clock shifted by offset.
type offsetClock struct {
	clockwork.Clock
	offset time.Duration
}

func (c offsetClock) Now() time.Time                  { return c.Clock.Now().Add(c.offset) }
func (c offsetClock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }
func (c offsetClock) Until(t time.Time) time.Duration { return t.Sub(c.Now()) }

// poll records when new flips first became visible.
func poll(store *models.Store, clock clockwork.Clock, after int64, seen map[string]time.Time) (int64, error) {
	// Flip ids are taken in insert order but transactions running side by
	// side commit in any order, so each poll looks back over a margin wider
	// than what can be in flight, and records only flips not seen before.
	var flips []models.Flip
	if err := store.DB().Select("id, job_id").Where("id > ?", after-5000).Order("id").Find(&flips).Error; err != nil {
		return after, err
	}
	now := clock.Now()
	for _, f := range flips {
		if _, ok := seen[f.JobID]; !ok {
			seen[f.JobID] = now
		}
		after = max(after, f.ID)
	}
	return after, nil
}

// idleTicks times k watchdog ticks with nothing due.
func idleTicks(eng *checker.Engine, name string, k int) error {
	ds := make([]time.Duration, 0, k)
	for i := 0; i < k; i++ {
		t0 := time.Now()
		res, err := eng.CheckHeartbeats(context.Background())
		if err != nil {
			return err
		}
		if res.Updated+res.Flips+res.Skipped != 0 {
			return fmt.Errorf("%s: a tick found work: %+v", name, res)
		}
		ds = append(ds, time.Since(t0))
	}
	report(name, ds)
	return nil
}

func report(name string, ds []time.Duration) {
	if len(ds) == 0 {
		fmt.Printf("%-38s no samples\n", name)
		return
	}
	slices.Sort(ds)
	p := func(q float64) time.Duration { return ds[int(q*float64(len(ds)-1))] }
	fmt.Printf("%-38s n %6d  p50 %9s  p99 %9s  max %9s\n", name, len(ds),
		p(0.5).Round(10*time.Microsecond), p(0.99).Round(10*time.Microsecond), ds[len(ds)-1].Round(10*time.Microsecond))
}

// createJobs stores n late heartbeat jobs ("@every 1m", 1 minute tolerance)
// whose down deadlines are spread evenly over window from first, and returns
// each job's deadline.
func createJobs(store *models.Store, n int, first time.Time, window time.Duration) (map[string]time.Time, error) {
	name := "watchdog bench"
	p, err := store.NewProject(&models.ProjectRequest{Name: &name})
	if err != nil {
		return nil, err
	}
	if err := store.CreateProject(p); err != nil {
		return nil, err
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	out := make(map[string]time.Time, n)
	batch := make([]models.Job, 0, 1000)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		// A fixture, written straight through GORM: CreateJob's one
		// transaction per job would take minutes for 100,000.
		err := store.DB().CreateInBatches(batch, 250).Error
		batch = batch[:0]
		return err
	}
	for i := 0; i < n; i++ {
		deadline := first.Add(time.Duration(int64(window) * int64(i) / int64(n))).UTC().Truncate(time.Microsecond)
		lastPing, expected := deadline.Add(-2*time.Minute), deadline.Add(-time.Minute)
		j := models.Job{
			ID: models.NewID(now), ProjectID: p.ID, Name: fmt.Sprintf("job %d", i), Slug: fmt.Sprintf("job-%d", i),
			Method: "GET", Schedule: "@every 1m", Timezone: "UTC", Heartbeat: true, HeartbeatTolerance: 1,
			Timeout: 30, ExpectedStatusCode: 200, Headers: models.Headers{}, Tags: models.Tags{},
			Status: models.StatusLate, LastStatus: models.LastSuccess, FailureThreshold: 1,
			PingToken: uuid.NewString(), PingCount: 1, LastActivityAt: &lastPing, LastPingAt: &lastPing,
			NextRunAt: &expected, AlertAt: &deadline, CreatedAt: now, UpdatedAt: now,
		}
		out[j.ID] = deadline
		batch = append(batch, j)
		if len(batch) == cap(batch) {
			if err := flush(); err != nil {
				return nil, fmt.Errorf("store jobs: %w", err)
			}
		}
	}
	if err := flush(); err != nil {
		return nil, fmt.Errorf("store jobs: %w", err)
	}
	return out, nil
}

// prepareDB returns the database URL to use and a cleanup function: a
// SQLite file in a temporary directory, or a schema of its own in the given
// PostgreSQL database.
func prepareDB(flagValue string, log *slog.Logger) (string, func(), error) {
	if flagValue == "sqlite" {
		dir, err := os.MkdirTemp("", "watchdog")
		if err != nil {
			return "", nil, err
		}
		return filepath.Join(dir, "cronpulse.db"), func() { os.RemoveAll(dir) }, nil
	}
	if !models.IsPostgresURL(flagValue) {
		return flagValue, func() {}, nil
	}
	u, drop, err := modelstest.ScratchSchema(flagValue, "watchdog", log)
	if err != nil {
		return "", nil, err
	}
	return u, func() {
		if err := drop(); err != nil {
			fmt.Fprintln(os.Stderr, "watchdog:", err)
		}
	}, nil
}
