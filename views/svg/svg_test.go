package svg_test

import (
	"encoding/xml"
	"fmt"
	"html/template"
	"strings"
	"testing"
	"time"

	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/views/svg"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// elem is one parsed element: its name, attributes and text.
type elem struct {
	name  string
	attrs map[string]string
	text  string
	depth int
}

// parse reads out as XML, requiring it to be one well-formed <svg>, and
// returns its elements in document order.
func parse(t *testing.T, out template.HTML) []elem {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(string(out)))
	var els []elem
	var stack []int
	for {
		tok, err := dec.Token()
		if err != nil {
			require.Equal(t, "EOF", err.Error(), "SVG: %s", out)
			break
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			e := elem{name: tk.Name.Local, attrs: map[string]string{}, depth: len(stack)}
			for _, a := range tk.Attr {
				e.attrs[a.Name.Local] = a.Value
			}
			els = append(els, e)
			stack = append(stack, len(els)-1)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				els[stack[len(stack)-1]].text += string(tk)
			}
		}
	}
	require.NotEmpty(t, els)
	require.Equal(t, "svg", els[0].name)
	assert.Equal(t, "img", els[0].attrs["role"])
	assert.NotEmpty(t, els[0].attrs["aria-label"])
	for _, e := range els {
		assert.NotEqual(t, "style", e.name, "no <style>")
		assert.NotContains(t, e.attrs, "style", "no style attributes")
		if f, ok := e.attrs["fill"]; ok {
			assert.Contains(t, []string{"none"}, f, "no colours of its own")
		}
		assert.NotContains(t, e.attrs, "stroke")
	}
	return els
}

func named(els []elem, name string) []elem {
	var out []elem
	for _, e := range els {
		if e.name == name {
			out = append(out, e)
		}
	}
	return out
}

// stripCells is a day of cells of every kind, from 13:00 UTC.
func stripCells() []models.HourCell {
	from := time.Date(2026, 11, 29, 13, 0, 0, 0, time.UTC)
	cells := make([]models.HourCell, 24)
	for i := range cells {
		c := models.HourCell{Hour: from.Add(time.Duration(i) * time.Hour), State: models.HourSuccess, Runs: 10}
		switch {
		case i < 3:
			c = models.HourCell{Hour: c.Hour, State: models.HourBefore}
		case i == 4:
			c.Runs, c.Failed, c.State = 12, 1, models.HourFailure
		case i >= 6 && i < 9:
			c = models.HourCell{Hour: c.Hour, State: models.HourPaused}
		case i == 10:
			c = models.HourCell{Hour: c.Hour, State: models.HourNoRuns}
		}
		cells[i] = c
	}
	return cells
}

func TestStrip(t *testing.T) {
	out := svg.Strip(`<script>alert("x")</script> & co`, stripCells())
	els := parse(t, out)
	titles := named(els, "title")
	require.Len(t, titles, 1, "one title for the whole strip")
	assert.Equal(t, `last 24 hours: 172 runs, 1 failed. 17:00–18:00 UTC: 12 runs, 1 failed`, titles[0].text)
	assert.Equal(t, `<script>alert("x")</script> & co: last 24 hours: 172 runs, 1 failed`, els[0].attrs["aria-label"], "the label, unescaped once parsed")
	assert.NotContains(t, string(out), "<script>", "the label is escaped")

	// Each path holds its state's cells, one closed subpath each.
	cells := map[string]int{}
	for _, p := range named(els, "path") {
		cells[p.attrs["class"]] += strings.Count(p.attrs["d"], "z")
	}
	assert.Equal(t, map[string]int{"s-up": 16, "s-down": 1, "s-none": 1, "s-off": 6}, cells)
	assert.Len(t, named(els, "path"), 4, "one path per state")
}

func TestStripListsAtMostSixFailedHours(t *testing.T) {
	cells := stripCells()
	for i := range cells {
		cells[i].Runs, cells[i].Failed, cells[i].State = 2, 1, models.HourFailure
	}
	title := named(parse(t, svg.Strip("j", cells)), "title")[0].text
	assert.Equal(t, 6, strings.Count(title, " UTC: "))
	assert.True(t, strings.HasSuffix(title, "; 18 more hours with failures"), title)
}

// rectStrip is the strip as 24 <rect>s with a <title> each: the design
// Strip does not use, drawn here to measure it against.
func rectStrip(label string, cells []models.HourCell) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="cp-strip" viewBox="0 0 143 16" width="143" height="16" role="img" aria-label="%s: last 24 hours">`, svg.Escape(label))
	for i, c := range cells {
		fmt.Fprintf(&b, `<rect x="%d" width="5" height="16" class="s-up"><title>%s–%s UTC: %d runs, %d failed</title></rect>`,
			i*6, c.Hour.Format("15:04"), c.Hour.Add(time.Hour).Format("15:04"), c.Runs, c.Failed)
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// TestStripSize measures 50 strips, an overview page's, against the
// page's budget (150 KB, 3,000 elements in all): the worst case
// alternates states, so every subpath is written out.
func TestStripSize(t *testing.T) {
	cells := stripCells()
	for i := range cells {
		cells[i].Runs = 1234
		if i%2 == 0 {
			cells[i].Failed, cells[i].State = 1, models.HourFailure
		}
	}
	label := strings.Repeat("m", 100) // the longest job name
	var bytes, nodes int
	for range 50 {
		out := svg.Strip(label, cells)
		bytes += len(out)
		nodes += len(parse(t, out))
	}
	rects := 50 * len(rectStrip(label, cells))
	t.Logf("50 strips: %d bytes, %d elements (as rects with titles: %d bytes, %d elements)", bytes, nodes, rects, 50*49)
	assert.Less(t, bytes, 50*1100, "under 1.1 KB a strip")
	assert.LessOrEqual(t, nodes, 50*6, "svg, title and at most four paths")
	assert.Less(t, bytes, rects/2)
}

func TestUptimeBars(t *testing.T) {
	days := make([]models.JobDayStats, 90)
	start := time.Date(2026, 9, 2, 0, 0, 0, 0, time.UTC)
	f := func(v float64) *float64 { return &v }
	for i := range days {
		days[i].Date = start.AddDate(0, 0, i).Format(time.DateOnly)
		days[i].Total = 288
		switch {
		case i < 10: // before the job existed
			days[i].Total = 0
		case i == 50:
			days[i].UptimePercent = f(97.5)
		case i == 60:
			days[i].UptimePercent = f(12)
		default:
			days[i].UptimePercent = f(100)
		}
	}
	days[89].UptimePercent = f(99.8)
	days[89].Total = 1
	els := parse(t, svg.UptimeBars("a & b", days))
	bars := named(els, "rect")
	require.Len(t, bars, 90)
	titles := named(els, "title")
	require.Len(t, titles, 91, "the chart's and one per bar")
	assert.Equal(t, "2026-09-02: no data", titles[1].text)
	assert.Equal(t, "2026-11-30: 99.8 % up, 1 run", titles[90].text)
	assert.Equal(t, "2026-11-29: 100 % up, 288 runs", titles[89].text)
	classes := map[string]int{}
	for _, b := range bars {
		classes[b.attrs["class"]]++
	}
	assert.Equal(t, map[string]int{"s-none": 10, "s-up": 77, "s-part": 2, "s-down": 1}, classes)
	assert.Equal(t, "s-down", bars[60].attrs["class"])
	assert.Equal(t, "s-part", bars[50].attrs["class"])
	assert.Contains(t, els[0].attrs["aria-label"], "a & b: 90 days")
	assert.Contains(t, els[0].attrs["aria-label"], "3 below 99.9 %")
	for i, b := range bars {
		assert.Equal(t, fmt.Sprint(i*4), b.attrs["x"], "bar %d in order", i)
	}
}

func TestResponseChart(t *testing.T) {
	from := time.Date(2026, 11, 29, 13, 0, 0, 0, time.UTC)
	ms := func(v int64) *int64 { return &v }
	var points []models.SeriesPoint
	for i := range 24 {
		p := models.SeriesPoint{From: from.Add(time.Duration(i) * time.Hour), To: from.Add(time.Duration(i+1) * time.Hour)}
		if i < 5 || i > 6 && i != 12 { // a gap of two, and a lone point at 11
			p.Runs, p.AvgMs, p.P95Ms = 12, ms(100+int64(i)), ms(300+int64(i)*10)
		}
		points = append(points, p)
	}
	points[11].AvgMs, points[11].P95Ms, points[11].Runs = nil, nil, 0
	els := parse(t, svg.ResponseChart("api <v2>", points, nil))
	assert.Contains(t, els[0].attrs["aria-label"], "api <v2>: response time over 24 points")
	var avg, p95 string
	for _, p := range named(els, "path") {
		switch p.attrs["class"] {
		case "s-avg":
			if strings.Count(p.attrs["d"], "M") > 1 {
				avg = p.attrs["d"]
			}
		case "s-p95":
			if strings.Count(p.attrs["d"], "M") > 1 {
				p95 = p.attrs["d"]
			}
		}
	}
	// Stretches: 0–4, 7–10, 13–23: three; the lone point is at none.
	assert.Equal(t, 3, strings.Count(avg, "M"), avg)
	assert.Equal(t, 3, strings.Count(p95, "M"), p95)
	require.Len(t, named(els, "rect"), 24)
	hover := named(els, "title")[1:]
	require.Len(t, hover, 24, "one title per bucket")
	assert.Equal(t, "Nov 29 17:00: 12 runs, mean 104 ms, p95 340 ms", hover[4].text)
	assert.Equal(t, "Nov 29 18:00: 0 runs", hover[5].text)
	var labels []string
	for _, e := range named(els, "text") {
		labels = append(labels, e.text)
	}
	assert.Contains(t, labels, "13:00")
	assert.Contains(t, labels, "500 ms", "the axis reaches the highest p95 (530 ms) rounded up: 1 s in four steps")
	assert.Contains(t, labels, "1 s")
	assert.Contains(t, labels, "mean")

	empty := parse(t, svg.ResponseChart("idle", points[5:7], nil))
	var texts []string
	for _, e := range named(empty, "text") {
		if e.attrs["class"] == "s-empty" {
			texts = append(texts, e.text)
		}
	}
	assert.Equal(t, []string{"No runs with a duration in this period"}, texts)
}

func TestResponseChartDailyLabels(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	var points []models.SeriesPoint
	d := time.Date(2026, 10, 20, 0, 0, 0, 0, berlin)
	for range 30 {
		next := d.AddDate(0, 0, 1)
		points = append(points, models.SeriesPoint{From: d, To: next, Runs: 1, AvgMs: new(int64(1500)), P95Ms: new(int64(2000))})
		d = next
	}
	els := parse(t, svg.ResponseChart("nightly", points, berlin))
	hover := named(els, "title")[1:]
	require.Len(t, hover, 30)
	assert.Equal(t, "Oct 25: 1 run, mean 1.5 s, p95 2 s", hover[5].text, "the 25-hour day of the change to winter time is a day")
	var labels []string
	for _, e := range named(els, "text") {
		labels = append(labels, e.text)
	}
	assert.Contains(t, labels, "Oct 20")
}
