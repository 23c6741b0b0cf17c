package svg

import (
	"fmt"
	"html/template"
	"strings"

	"github.com/cronpulse/cronpulse/models"
)

// Uptime bar geometry: bars of barW with a gap of 1, barsH high.
const (
	barW  = 3
	barsH = 24
)

// Uptime thresholds of a day's bar class.
const (
	upAt      = 99.9 // s-up from here
	degradeAt = 95.0 // s-part from here, s-down below
)

// UptimeBars draws one bar per day (a job's dailyRuns from
// models.Store.JobStatsOf: 90 for a status page, 30 on the job page),
// oldest first, each with a <title> like "2026-11-30: 99.8 % up, 288
// runs"; a day without an uptime (the job did not exist, or was paused
// all day) is drawn as no data. label (the job's name) starts the
// aria-label.
func UptimeBars(label string, days []models.JobDayStats) template.HTML {
	var b strings.Builder
	w := max(len(days)*(barW+1)-1, 1)
	var known, down int
	var sum float64
	for _, d := range days {
		if d.UptimePercent != nil {
			known++
			sum += *d.UptimePercent
			if *d.UptimePercent < upAt {
				down++
			}
		}
	}
	summary := fmt.Sprintf("%s: %d days", label, len(days))
	if known > 0 {
		summary += fmt.Sprintf(", %s %% up on average over the %d with data, %d below %s %%", percent(float64(int64(sum/float64(known)*100))/100), known, down, percent(upAt))
	} else {
		summary += ", no data"
	}
	fmt.Fprintf(&b, `<svg class="cp-bars" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s"><title>%s</title>`,
		w, barsH, w, barsH, Escape(summary), Escape(summary))
	for i, d := range days {
		class, y := "s-none", barsH-6
		title := d.Date + ": no data"
		if u := d.UptimePercent; u != nil {
			switch {
			case *u >= upAt:
				class, y = "s-up", 4
			case *u >= degradeAt:
				class, y = "s-part", 0
			default:
				class, y = "s-down", 0
			}
			title = fmt.Sprintf("%s: %s %% up, %s", d.Date, percent(*u), plural(d.Total, "run"))
		}
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" class="%s"><title>%s</title></rect>`,
			i*(barW+1), y, barW, barsH-y, class, Escape(title))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // built from numbers and Escape'd text only
}
