// Package views holds the dashboard's templates and static assets, embedded
// in the binary so that `go run .` needs no build step.
package views

import (
	"embed"
	"io/fs"
	"strings"
)

// Files are the embedded templates (*.html) and assets (static/*).
//
//go:embed *.html static/*
var Files embed.FS

// Pages lists the page templates by name ("overview" for overview.html):
// every template but the layout, which wraps them all.
func Pages() ([]string, error) {
	entries, err := fs.Glob(Files, "*.html")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if e != "layout.html" {
			out = append(out, strings.TrimSuffix(e, ".html"))
		}
	}
	return out, nil
}
