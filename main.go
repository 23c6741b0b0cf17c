// Command cronpulse watches scheduled work: heartbeats from cron jobs and
// HTTP checks on a schedule. Run it with no arguments (or "serve") to start
// the service; "migrate", "user create" and "apikey create" are for
// operators.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/cronpulse/cronpulse/app"
)

func main() {
	cfg, err := app.LoadConfig()
	if err != nil {
		fmt.Fprintln(os.Stderr, "cronpulse:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := app.Command(ctx, cfg, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "cronpulse:", err)
		os.Exit(1)
	}
}
