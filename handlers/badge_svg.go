package handlers

import (
	"fmt"
	"strings"

	"github.com/cronpulse/cronpulse/views/svg"
)

// badgeSVG draws a Shields.io-style flat badge: label on grey on the left,
// message on color on the right. Every text is XML-escaped; the widths are
// estimated from Verdana 11px, and textLength makes the text fit them
// whatever font the viewer has.
func badgeSVG(label, message, color string) string {
	lw, mw := textWidth(label)+10, textWidth(message)+10
	w := lw + mw
	title := svg.Escape(label + ": " + message)
	l, m, col := svg.Escape(label), svg.Escape(message), svg.Escape(color)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="20" role="img" aria-label="%s">`, w, title)
	fmt.Fprintf(&b, `<title>%s</title>`, title)
	b.WriteString(`<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>`)
	fmt.Fprintf(&b, `<clipPath id="r"><rect width="%d" height="20" rx="3" fill="#fff"/></clipPath>`, w)
	fmt.Fprintf(&b, `<g clip-path="url(#r)"><rect width="%d" height="20" fill="#555"/><rect x="%d" width="%d" height="20" fill="%s"/><rect width="%d" height="20" fill="url(#s)"/></g>`,
		lw, lw, mw, col, w)
	b.WriteString(`<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">`)
	for _, t := range []struct {
		x, width int
		text     string
	}{{lw / 2, lw - 10, l}, {lw + mw/2, mw - 10, m}} {
		fmt.Fprintf(&b, `<text x="%d" y="15" fill="#010101" fill-opacity=".3" textLength="%d" lengthAdjust="spacingAndGlyphs">%s</text>`, t.x, t.width, t.text)
		fmt.Fprintf(&b, `<text x="%d" y="14" textLength="%d" lengthAdjust="spacingAndGlyphs">%s</text>`, t.x, t.width, t.text)
	}
	b.WriteString(`</g></svg>`)
	return b.String()
}

// textWidth estimates the width in pixels of s in Verdana 11px.
func textWidth(s string) int {
	w := 0.0
	for _, r := range s {
		switch {
		case strings.ContainsRune("iljI.,:;!|'` ", r):
			w += 3.9
		case strings.ContainsRune("frt()[]{}-/", r):
			w += 4.9
		case strings.ContainsRune("mwMW@%", r):
			w += 10.5
		case r >= 'A' && r <= 'Z':
			w += 7.6
		default:
			w += 6.9
		}
	}
	return max(int(w+0.5), 1)
}
