package svg

import (
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/cronpulse/cronpulse/models"
)

// Chart geometry: the plot area inside a chartW × chartH view box.
const (
	chartW, chartH             = 600, 200
	plotL, plotR, plotT, plotB = 56, 592, 12, 172
	xLabels                    = 6 // at most, along the time axis
)

// ResponseChart draws a job's durations (models.Store.ResponseSeries): the
// mean as a line, the 95th percentile as a line over a shaded band, one
// point per bucket and a gap where a bucket had no durations; the time
// axis in loc (nil: UTC). Each bucket has an invisible hover target with a
// <title> ("Nov 30 14:00: 12 runs, mean 120 ms, p95 300 ms"). label (the
// job's name) starts the aria-label.
func ResponseChart(label string, points []models.SeriesPoint, loc *time.Location) template.HTML {
	if loc == nil {
		loc = time.UTC
	}
	var top int64
	var runs, meanSum, meanN int64
	for _, p := range points {
		runs += p.Runs
		if p.P95Ms != nil {
			top = max(top, *p.P95Ms)
		}
		if p.AvgMs != nil {
			top = max(top, *p.AvgMs)
			meanSum += *p.AvgMs * p.Runs
			meanN += p.Runs
		}
	}
	summary := fmt.Sprintf("%s: response time over %d points, %s", label, len(points), plural(runs, "run"))
	if meanN > 0 {
		summary += ", mean about " + duration(meanSum/meanN)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="cp-chart" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s"><title>%s</title>`,
		chartW, chartH, chartW, chartH, Escape(summary), Escape(summary))
	scale := niceCeil(top)
	// Grid: four steps of the duration axis.
	for i := 0; i <= 4; i++ {
		y := plotB - float64(plotB-plotT)*float64(i)/4
		fmt.Fprintf(&b, `<path class="s-grid" fill="none" d="M%d %sH%d"/><text class="s-label" x="%d" y="%s" text-anchor="end">%s</text>`,
			plotL, num(y), plotR, plotL-6, num(y+4), duration(scale*int64(i)/4))
	}
	n := len(points)
	step := float64(plotR-plotL) / float64(max(n, 1))
	x := func(i int) float64 { return float64(plotL) + step*(float64(i)+0.5) }
	y := func(v int64) float64 { return plotB - float64(plotB-plotT)*float64(v)/float64(scale) }
	// The band under p95 and both lines, broken where a bucket is empty.
	var band, avg, p95 strings.Builder
	for i := 0; i < n; {
		if points[i].P95Ms == nil || points[i].AvgMs == nil {
			i++
			continue
		}
		j := i
		for j < n && points[j].P95Ms != nil && points[j].AvgMs != nil {
			j++
		}
		// Points i to j-1 are one stretch.
		for k := i; k < j; k++ {
			cmd := "L"
			if k == i {
				cmd = "M"
			}
			fmt.Fprintf(&avg, "%s%s %s", cmd, num(x(k)), num(y(*points[k].AvgMs)))
			fmt.Fprintf(&p95, "%s%s %s", cmd, num(x(k)), num(y(*points[k].P95Ms)))
		}
		if j-i == 1 { // a lone point: a short dash so that it shows
			fmt.Fprintf(&avg, "h1")
			fmt.Fprintf(&p95, "h1")
		}
		fmt.Fprintf(&band, "M%s %d", num(x(i)), plotB)
		for k := i; k < j; k++ {
			fmt.Fprintf(&band, "L%s %s", num(x(k)), num(y(*points[k].P95Ms)))
		}
		fmt.Fprintf(&band, "L%s %dz", num(x(j-1)), plotB)
		i = j
	}
	if band.Len() > 0 {
		fmt.Fprintf(&b, `<path class="s-band" fill-opacity=".25" d="%s"/>`, band.String())
		fmt.Fprintf(&b, `<path class="s-p95" fill="none" d="%s"/><path class="s-avg" fill="none" d="%s"/>`, p95.String(), avg.String())
	} else {
		fmt.Fprintf(&b, `<text class="s-empty" x="%d" y="%d" text-anchor="middle">No runs with a duration in this period</text>`, (plotL+plotR)/2, (plotT+plotB)/2)
	}
	// The time axis.
	fmt.Fprintf(&b, `<path class="s-grid" fill="none" d="M%d %dH%d"/>`, plotL, plotB, plotR)
	every := max((n+xLabels-1)/xLabels, 1)
	for i := 0; i < n; i += every {
		fmt.Fprintf(&b, `<text class="s-label" x="%s" y="%d" text-anchor="middle">%s</text>`,
			num(x(i)), plotB+18, Escape(axisLabel(points[i], loc)))
	}
	// Legend.
	fmt.Fprintf(&b, `<path class="s-avg" fill="none" d="M%d 6h16"/><text class="s-label" x="%d" y="10">mean</text>`, plotR-150, plotR-130)
	fmt.Fprintf(&b, `<path class="s-p95" fill="none" d="M%d 6h16"/><text class="s-label" x="%d" y="10">95th percentile</text>`, plotR-90, plotR-70)
	// Hover targets.
	for i, p := range points {
		fmt.Fprintf(&b, `<rect x="%s" y="%d" width="%s" height="%d" fill="none" pointer-events="all"><title>%s</title></rect>`,
			num(x(i)-step/2), plotT, num(step), plotB-plotT, Escape(pointTitle(p, loc)))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // built from numbers and Escape'd text only
}

// pointTitle is a bucket's hover text.
func pointTitle(p models.SeriesPoint, loc *time.Location) string {
	t := bucketLabel(p, loc) + ": " + plural(p.Runs, "run")
	if p.AvgMs != nil {
		t += ", mean " + duration(*p.AvgMs)
	}
	if p.P95Ms != nil {
		t += ", p95 " + duration(*p.P95Ms)
	}
	return t
}

// daily reports whether p is a day: 23 hours or more (a summer-time
// day), or today's, which starts at midnight and ends now.
func daily(p models.SeriesPoint, loc *time.Location) bool {
	from, width := p.From.In(loc), p.To.Sub(p.From)
	return width >= 23*time.Hour || from.Hour() == 0 && from.Minute() == 0 && width > 6*time.Hour
}

// bucketLabel names a bucket by its start: a day's date, or date and hour.
func bucketLabel(p models.SeriesPoint, loc *time.Location) string {
	if daily(p, loc) {
		return p.From.In(loc).Format("Jan 2")
	}
	return p.From.In(loc).Format("Jan 2 15:04")
}

// axisLabel is the short label under a bucket: the hour for hourly
// buckets, the date for daily ones, both for the ones between.
func axisLabel(p models.SeriesPoint, loc *time.Location) string {
	from := p.From.In(loc)
	switch {
	case daily(p, loc):
		return from.Format("Jan 2")
	case p.To.Sub(p.From) <= time.Hour:
		return from.Format("15:04")
	default:
		return from.Format("Jan 2 15h")
	}
}

// duration writes milliseconds for the axis and titles: "850 ms", "1.2 s",
// "3 min".
func duration(ms int64) string {
	switch {
	case ms < 1000:
		return fmt.Sprintf("%d ms", ms)
	case ms < 60_000:
		return num(float64(ms)/1000) + " s"
	case ms < 3_600_000:
		return num(float64(ms)/60_000) + " min"
	default:
		return num(float64(ms)/3_600_000) + " h"
	}
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten (at least 10 ms).
func niceCeil(v int64) int64 {
	for p := int64(10); ; p *= 10 {
		for _, m := range []int64{1, 2, 5} {
			if v <= m*p {
				return m * p
			}
		}
	}
}
