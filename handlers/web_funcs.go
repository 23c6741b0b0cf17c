package handlers

import (
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/cronpulse/cronpulse/models"
)

// templateFuncs are the functions every dashboard template may call:
//
//	thousands N       9950 → "9,950"
//	statusIcon S      a symbol for a status, shown beside its word (never
//	                  colour alone)
//	rel T             *time.Time → "3 min ago", "in 5 min", "never"
//	datetime T        *time.Time → RFC 3339 for <time datetime>
//	asset NAME        the versioned URL of views/static/NAME
//	chart KIND STATS  a job page chart ("response" or "uptime") of its
//	                  *models.JobStats (trusted SVG); "" until views/svg's
//	                  ResponseChart and UptimeBars are wired in, the
//	                  page's tables show the same data meanwhile
//	pct F             *float64 → "99.5 %", nil → "–"
//	share A B         A of B as "75 %", "–" when B is 0
//	ms N              *int64 → "120 ms", nil → "–"
func (w *Web) templateFuncs() template.FuncMap {
	return template.FuncMap{
		"thousands":  thousands,
		"statusIcon": statusIcon,
		"rel":        func(t *time.Time) string { return relTime(t, w.now()) },
		"datetime": func(t *time.Time) string {
			if t == nil {
				return ""
			}
			return t.UTC().Format(time.RFC3339)
		},
		"asset": w.assets.url,
		"chart": func(kind string, stats *models.JobStats) template.HTML { return "" },
		"pct": func(f *float64) string {
			if f == nil {
				return "–"
			}
			return strconv.FormatFloat(*f, 'f', -1, 64) + " %"
		},
		"share": func(a, b int64) string {
			if b == 0 {
				return "–"
			}
			return strconv.FormatFloat(math.Round(1000*float64(a)/float64(b))/10, 'f', -1, 64) + " %"
		},
		"ms": func(n *int64) string {
			if n == nil {
				return "–"
			}
			return thousands(*n) + " ms"
		},
	}
}

// thousands formats n with a comma between groups of three digits.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// statusIcons are distinct shapes, so that the status reads without
// colour (and the word is always beside them).
var statusIcons = map[string]string{
	models.StatusUp:     "✓",
	models.StatusDown:   "✕",
	models.StatusLate:   "!",
	models.StatusNew:    "○",
	models.StatusPaused: "‖",
}

func statusIcon(status string) string {
	if s, ok := statusIcons[status]; ok {
		return s
	}
	return "?"
}

// relTime says how long before or after now t is, in the largest whole
// unit: "just now", "5 min ago", "in 2 h", "3 d ago"; nil is "never".
func relTime(t *time.Time, now time.Time) string {
	if t == nil {
		return "never"
	}
	d := t.Sub(now)
	future := d > 0
	if !future {
		d = -d
	}
	var amount string
	switch {
	case d < time.Minute:
		if future {
			return "in under a minute"
		}
		return "just now"
	case d < time.Hour:
		amount = strconv.Itoa(int(d/time.Minute)) + " min"
	case d < 48*time.Hour:
		amount = strconv.Itoa(int(d/time.Hour)) + " h"
	default:
		amount = strconv.Itoa(int(d/(24*time.Hour))) + " d"
	}
	if future {
		return "in " + amount
	}
	return amount + " ago"
}
