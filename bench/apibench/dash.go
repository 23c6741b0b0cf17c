package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"sync/atomic"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/cronpulse/cronpulse/models"
)

// sessionCookie is the dashboard's session cookie (handlers.SessionCookie).
const sessionCookie = "cronpulse_session"

// dashScenario bulk-inserts n jobs, one in 20 down, with 90 days of
// rollups each (as statsScenario), signs a viewer in with a session made
// in the store, and returns the dashboard's pages to measure: the
// overview's first page (down and late first), a search over the n jobs,
// and the page of a job with 90 days of history. It prints each page's
// weight and, with chromium, the overview's DOM nodes in a headless
// Chromium.
func dashScenario(c *client, store *models.Store, n int, chromium bool) ([]endpoint, error) {
	start := time.Now()
	ids, rows, err := rollupProject(c, store, "apibench dashboard", n, 20)
	if err != nil {
		return nil, err
	}
	u, err := store.CreateUser("bench-viewer@example.com", "bench password", models.RoleViewer)
	if err != nil {
		return nil, err
	}
	_, token, err := store.CreateSession(u.ID, 24*time.Hour)
	if err != nil {
		return nil, err
	}
	fmt.Printf("apibench: dashboard: %d jobs (%d down) and %d rollup rows bulk-inserted in %s\n",
		n, (n+16)/20, rows, time.Since(start).Round(time.Millisecond))

	page := func(path string) func() (*http.Request, error) {
		return func() (*http.Request, error) {
			req, err := http.NewRequest("GET", c.base+path, nil)
			if err == nil {
				req.AddCookie(&http.Cookie{Name: sessionCookie, Value: token})
			}
			return req, err
		}
	}
	var seq atomic.Int64
	pages := []endpoint{
		{"dash", fmt.Sprintf("dashboard / (first page, %dk jobs)", n/1000), page("/")},
		{"dashq", fmt.Sprintf("dashboard /?q=backup (%dk jobs)", n/1000), page("/?q=backup")},
		{"dashjob", "dashboard /jobs/{id} (90 days)", func() (*http.Request, error) {
			return page("/jobs/" + ids[int(seq.Add(7919))%len(ids)])()
		}},
	}
	var out []endpoint
	for _, e := range pages {
		req, err := e.newReq()
		if err != nil {
			return nil, err
		}
		res, err := c.http.Do(req)
		if err != nil {
			return nil, err
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			return nil, err
		}
		if res.StatusCode == http.StatusNotFound && e.key == "dashjob" {
			fmt.Printf("apibench: %s: 404, this build has no job page; not measured\n", e.name)
			continue
		}
		if res.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("%s: %d %s", e.name, res.StatusCode, truncate(body))
		}
		fmt.Printf("apibench: %s weighs %.1f KB of HTML\n", e.name, float64(len(body))/1024)
		out = append(out, e)
	}
	if chromium {
		nodes, err := domNodes(c.base, token)
		if err != nil {
			return nil, fmt.Errorf("count DOM nodes in Chromium: %w", err)
		}
		fmt.Printf("apibench: the overview's first page holds %d DOM nodes in Chromium\n", nodes)
	}
	return out, nil
}

// domNodes loads the overview in a headless Chromium, signed in with the
// session token, and counts its elements.
func domNodes(base, token string) (int, error) {
	path, err := exec.LookPath("chromium")
	if err != nil {
		return 0, err
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	ctx, cancelTime := context.WithTimeout(ctx, time.Minute)
	defer cancelTime()
	// The cookie is set from a page of the same origin; the server reads
	// it like the one it sets at login.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/healthz"),
		chromedp.Evaluate[chromedp.Void](`document.cookie = "`+sessionCookie+`=`+token+`; path=/"`),
		chromedp.Navigate(base+"/"),
	); err != nil {
		return 0, err
	}
	return chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelector('#rows tr[data-job-id]') ? document.getElementsByTagName('*').length : -1`))
}
