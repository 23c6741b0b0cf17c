package views

import _ "embed" // for the stylesheet below

// SVGStylesheet is static/svg.css, the colours of the charts of package
// views/svg. The status page serves it itself until the dashboard's
// /static route serves it with the other assets.
//
//go:embed static/svg.css
var SVGStylesheet []byte
