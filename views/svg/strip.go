package svg

import (
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/cronpulse/cronpulse/models"
)

// The strip is the overview's: one per row, 50 rows a page, so it is drawn
// as one <path> per state (at most four) under one <title>, not as 24
// <rect>s with a <title> each: at most about 1 KB and 6 elements a strip
// (with a 100-character job name) instead of 2.8 KB and 49, so 50 of them
// are 49 KB and 300 elements against 141 KB and 2,450 (TestStripSize
// measures both). Its title lists the hours with failed runs, which are
// what one hovers for.

// Strip geometry: 24 cells of cellW with a gap of 1, stripH high.
const (
	cellW  = 5
	stripH = 16
	// maxListed bounds the failed hours the title names.
	maxListed = 6
)

// cellShape is the class and vertical extent of a state's cells.
var cellShape = map[string]struct {
	class string
	y     int
}{
	models.HourFailure: {"s-down", 0},
	models.HourSuccess: {"s-up", 3},
	models.HourNoRuns:  {"s-none", 10},
	models.HourPaused:  {"s-off", 13},
	models.HourBefore:  {"s-off", 13},
}

// stripOrder is the order the paths are written in.
var stripOrder = []string{"s-up", "s-down", "s-none", "s-off"}

// Strip draws a job's hourly cells (models.HourlyStrips), oldest first;
// label (the job's name) starts the aria-label.
func Strip(label string, cells []models.HourCell) template.HTML {
	paths := map[string]*strings.Builder{}
	var runs, failed int64
	var listed []string
	failedHours := 0
	for i, c := range cells {
		shape, ok := cellShape[c.State]
		if !ok {
			shape = cellShape[models.HourNoRuns]
		}
		p := paths[shape.class]
		if p == nil {
			p = &strings.Builder{}
			paths[shape.class] = p
		}
		fmt.Fprintf(p, "M%d %dh%dv%dh-%dz", i*(cellW+1), shape.y, cellW, stripH-shape.y, cellW)
		runs += c.Runs
		failed += c.Failed
		if c.Failed > 0 {
			failedHours++
			if len(listed) < maxListed {
				end := c.Hour.Add(time.Hour)
				listed = append(listed, fmt.Sprintf("%s–%s UTC: %s, %d failed", c.Hour.UTC().Format("15:04"), end.UTC().Format("15:04"), plural(c.Runs, "run"), c.Failed))
			}
		}
	}
	summary := fmt.Sprintf("last %d hours: %s, %d failed", len(cells), plural(runs, "run"), failed)
	title := summary
	if len(listed) > 0 {
		title += ". " + strings.Join(listed, "; ")
		if more := failedHours - len(listed); more > 0 {
			title += fmt.Sprintf("; %d more hours with failures", more)
		}
	}
	w := max(len(cells)*(cellW+1)-1, 1)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="cp-strip" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s"><title>%s</title>`,
		w, stripH, w, stripH, Escape(label+": "+summary), Escape(title))
	for _, class := range stripOrder {
		if p := paths[class]; p != nil {
			fmt.Fprintf(&b, `<path class="%s" d="%s"/>`, class, p.String())
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // built from numbers and Escape'd text only
}
