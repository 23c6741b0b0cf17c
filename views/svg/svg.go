// Package svg draws the dashboard's small charts as inline SVG, from the
// rollups' figures: a job's 24-hour status strip (Strip), its response
// times (ResponseChart) and its daily uptime (UptimeBars). The markup is
// built from numbers and escaped text only, so it is safe to put into a
// page as template.HTML; it has no <style> and no colours of its own: the
// page's stylesheet colours it by class (views/static/svg.css has rules
// that meet WCAG AA in light and dark mode). Every chart is role="img"
// with an aria-label and a <title>; shapes differ by state too (a bad
// hour or day is the tallest mark, an empty one the lowest), so colour is
// never the only cue.
//
// Classes:
//
//	cp-strip, cp-chart, cp-bars   the <svg> of each chart
//	s-up                          all runs succeeded (strip), a day ≥ 99.9 % up (bars)
//	s-part                        a day 95–99.9 % up (bars)
//	s-down                        some run failed (strip), a day < 95 % up (bars)
//	s-none                        no runs (strip), no data (bars)
//	s-off                         paused, or before the job existed (strip)
//	s-grid                        the chart's grid lines and axes
//	s-label                       the chart's axis and legend text
//	s-avg, s-p95                  the chart's mean and 95th-percentile lines
//	s-band                        the area under the 95th percentile
//	s-empty                       the chart's "no runs" text
//
// Lines and areas carry fill="none" (or the band's fill-opacity) so that
// they stay lines without a stylesheet; hover targets are fill="none"
// with pointer-events="all".
package svg

import (
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
)

// Escape escapes s for XML text and attributes (characters XML cannot
// hold become U+FFFD).
func Escape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // a strings.Builder never fails to write
	return b.String()
}

// num writes a coordinate with at most one decimal.
func num(v float64) string {
	return strconv.FormatFloat(float64(int64(v*10+0.5))/10, 'f', -1, 64)
}

// plural is "1 run", "2 runs".
func plural(n int64, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// percent writes an uptime: "99.8", "100".
func percent(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
