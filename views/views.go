// Package views holds the dashboard's templates and static assets, embedded
// in the binary so that `go run .` needs no build step.
package views

import "embed"

// Files are the embedded templates and assets.
//
//go:embed *.html
var Files embed.FS
