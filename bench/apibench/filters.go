package main

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/google/uuid"
	"gorm.io/gorm"
)

// filterQuery is the measured list: the down jobs whose name, slug or url
// holds "backup" (about 1 in 10 names), one page of 100.
const filterQuery = "/api/v1/jobs?status=down&q=backup&limit=100"

var (
	filterWords = []string{"nightly", "hourly", "billing", "backup", "sync", "report", "cleanup", "import", "export", "mailer", "cache"}
	filterHosts = []string{"db", "api", "web", "worker", "batch", "queue", "search"}
)

// filterScenario bulk-inserts n jobs into a project of their own with SQL
// (the API would take minutes), about 1% down, names drawn from
// filterWords, and returns the endpoint that measures filterQuery. On
// PostgreSQL it runs ANALYZE, as autovacuum soon would; SQLite is left as
// CronPulse leaves it (no ANALYZE).
func filterScenario(c *client, store *models.Store, n int) (endpoint, error) {
	project, err := c.createProject("apibench filters")
	if err != nil {
		return endpoint{}, err
	}
	start := time.Now()
	if err := bulkJobs(store, project, n, 100); err != nil {
		return endpoint{}, err
	}
	if store.Dialect() == models.Postgres {
		if err := store.DB().Exec("ANALYZE jobs").Error; err != nil {
			return endpoint{}, fmt.Errorf("analyze: %w", err)
		}
	}
	var page []struct{ Status, Name string }
	if err := c.call("GET", filterQuery, "", &page); err != nil {
		return endpoint{}, err
	}
	if len(page) == 0 {
		return endpoint{}, fmt.Errorf("%s matches nothing", filterQuery)
	}
	for _, j := range page {
		if j.Status != models.StatusDown || !strings.Contains(strings.ToLower(j.Name), "backup") {
			return endpoint{}, fmt.Errorf("%s returned %+v", filterQuery, j)
		}
	}
	fmt.Printf("apibench: %d jobs bulk-inserted in %s; %s returns %d\n", n, time.Since(start).Round(time.Millisecond), filterQuery, len(page))
	return endpoint{"filter", fmt.Sprintf("GET /jobs?status=down&q=backup (%dk)", n/1000), func() (*http.Request, error) {
		return c.req("GET", filterQuery, "")
	}}, nil
}

// bulkJobs inserts n jobs into project in one transaction, 500 rows a
// statement; one in downEvery is down.
func bulkJobs(store *models.Store, project string, n, downEvery int) error {
	const cols = "id, project_id, name, slug, url, method, schedule, ping_token, status, tags, created_at, updated_at"
	const perRow = 12
	now := time.Now().UTC().Truncate(time.Microsecond)
	return store.DB().Transaction(func(tx *gorm.DB) error {
		for done := 0; done < n; {
			rows := min(500, n-done)
			args := make([]any, 0, rows*perRow)
			for i := done; i < done+rows; i++ {
				name := fmt.Sprintf("%s %s %d", filterWords[i%len(filterWords)], filterWords[(i/7)%len(filterWords)], i)
				status := models.StatusUp
				if i%downEvery == 3 {
					status = models.StatusDown
				}
				url := fmt.Sprintf("https://%s-%d.example.com/health", filterHosts[i%len(filterHosts)], i%50)
				args = append(args, models.NewID(now), project, name, models.Slugify(name), url, "GET", "*/5 * * * *",
					uuid.NewString(), status, `["bench"]`, now, now)
			}
			q := "INSERT INTO jobs (" + cols + ") VALUES " + models.ValueRows(rows, perRow)
			if err := tx.Exec(q, args...).Error; err != nil {
				return fmt.Errorf("insert jobs: %w", err)
			}
			done += rows
		}
		return nil
	})
}
