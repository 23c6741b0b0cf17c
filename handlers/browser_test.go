package handlers_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Browser tests drive the dashboard in a real headless Chromium (Debian's
// chromium package, found on PATH or at CHROME_PATH). Without one they
// skip, saying so, unless CRONPULSE_BROWSER_TESTS=require (as .ci/run
// sets it): then a missing browser fails the test.

// browserTimeout bounds one browser test.
const browserTimeout = 60 * time.Second

// chromiumPath finds the browser, or "".
func chromiumPath() string {
	if p := os.Getenv("CHROME_PATH"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// newBrowser starts a headless Chromium for t and returns its context.
// When t fails, the page as it was is saved as a PNG under
// $CRONPULSE_SCREENSHOTS (default: cronpulse-screenshots in the temporary
// directory), and the path is logged.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		if os.Getenv("CRONPULSE_BROWSER_TESTS") == "require" {
			t.Fatal("CRONPULSE_BROWSER_TESTS=require but no Chromium was found (install Debian's chromium, or set CHROME_PATH)")
		}
		t.Skip("no Chromium found: browser tests skip (install Debian's chromium, or set CHROME_PATH)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // CI runs as root
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, browserTimeout)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium at %s: %v", path, err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			saveScreenshot(t, ctx)
		}
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
	})
	return ctx
}

// saveScreenshot writes the page of ctx to a PNG named after t.
func saveScreenshot(t *testing.T, ctx context.Context) {
	dir := os.Getenv("CRONPULSE_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "cronpulse-screenshots")
	}
	shotCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(shotCtx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot: %v", err)
		return
	}
	name := regexp.MustCompile(`[^A-Za-z0-9_.-]+`).ReplaceAllString(t.Name(), "_") + ".png"
	if err := os.MkdirAll(dir, 0o755); err == nil {
		if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err == nil {
			t.Logf("screenshot of the failing page: %s", filepath.Join(dir, name))
			return
		}
	}
	t.Logf("could not save the screenshot in %s", dir)
}
