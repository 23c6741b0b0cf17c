package nlschedule

import (
	"regexp"
	"strings"
	"unicode"

	"github.com/cronpulse/cronpulse/models"
)

// token is one word of the text: lower-cased in word, as written in raw
// (for messages), and for an IANA zone name its canonical spelling in zone.
type token struct {
	word, raw, zone string
}

var (
	// numberUnit splits "15min", "30s" and "2h" into number and unit.
	numberUnit = regexp.MustCompile(`^(\d+)(s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?)$`)
	// ianaShape is what an IANA zone name looks like: Area/Location.
	ianaShape = regexp.MustCompile(`^[A-Za-z_]+(/[A-Za-z0-9_+-]+)+$`)
	// rangeable words may stand either side of a "-" meaning "to".
	rangeable = regexp.MustCompile(`^(\d{1,2}(:\d{2})?(am|pm)?|\d{1,2}(st|nd|rd|th)|noon|midnight)$`)
	spelling  = strings.NewReplacer("a.m.", "am", "p.m.", "pm", "a.m", "am", "p.m", "pm", "o'clock", "oclock", "’", "'", "–", "-", "—", "-")
)

// tokenize splits text into words. Commas, semicolons, brackets and
// quotes only separate words; a "-" between days, times or numbers means
// "to" ("mon-fri", "9am-5pm") and elsewhere only separates ("half-hourly").
func tokenize(text string) ([]token, error) {
	var out []token
	fields := strings.FieldsFunc(text, func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune(",;()[]!?\"", r)
	})
	for _, f := range fields {
		if strings.Contains(f, "/") {
			zone, err := ianaZone(strings.TrimRight(f, "."))
			if err != nil {
				return nil, err
			}
			out = append(out, token{word: "/zone", raw: f, zone: zone})
			continue
		}
		w := spelling.Replace(strings.ToLower(f))
		w = strings.TrimRight(w, ".")
		parts := strings.Split(w, "-")
		for i, part := range parts {
			if part == "" {
				if len(parts) > 1 { // a stray "-": "-5", "9-"
					return nil, textError("cannot read %q", f)
				}
				continue
			}
			if i > 0 && isRangeable(parts[i-1]) && isRangeable(part) {
				out = append(out, token{word: "to", raw: "-"})
			}
			if m := numberUnit.FindStringSubmatch(part); m != nil {
				out = append(out, token{word: m[1], raw: m[1]}, token{word: m[2], raw: m[2]})
				continue
			}
			out = append(out, token{word: part, raw: part})
		}
	}
	return out, nil
}

func isRangeable(w string) bool {
	_, day := dayWords[w]
	_, month := monthWords[w]
	return day || month || rangeable.MatchString(w)
}

// ianaZone resolves a zone name as models.LoadLocation does, also trying
// the usual capitalisation of a lower-case name ("america/new_york").
func ianaZone(name string) (string, error) {
	if !ianaShape.MatchString(name) {
		return "", textError("cannot read %q", name)
	}
	if _, err := models.LoadLocation(name); err == nil {
		return name, nil
	}
	titled := []byte(strings.ToLower(name))
	for i := range titled {
		if i == 0 || strings.ContainsRune("/_-", rune(titled[i-1])) {
			titled[i] = byte(unicode.ToUpper(rune(titled[i])))
		}
	}
	if _, err := models.LoadLocation(string(titled)); err == nil {
		return string(titled), nil
	}
	return "", textError("unknown time zone %q (use an IANA name such as Europe/Berlin)", name)
}
