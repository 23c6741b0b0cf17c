package nlschedule

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/cronpulse/cronpulse/models"
)

// MaxText is the longest text Parse reads, in characters.
const MaxText = 200

// Method is how Parse read a text; it is always the rules of this package.
const Method = "rules"

// Result is a schedule read from text, in the shape POST /jobs takes it.
type Result struct {
	Type        string  // "cron", or "every" for "@every <duration>"
	Expression  string  // the schedule field of a job
	Timezone    string  // the timezone field of a job, an IANA name
	Description string  // models.Schedule.Describe of the result
	Confidence  float64 // in (0, 1]: lower when Parse had to guess
}

// baseConfidence is the confidence of a text read word for word with
// nothing assumed; every guess multiplies it down.
const baseConfidence = 0.95

// Parse reads an English schedule such as "every weekday at 9am Pacific".
// defaultZone is the zone when the text names none ("" is UTC). Errors are
// *models.ValidationError naming "text" (or "timezone" for a bad
// defaultZone). A text that is already a schedule POST /jobs accepts ("0 9
// * * 1-5", "@hourly") is returned as it is.
func Parse(text, defaultZone string) (Result, error) {
	if _, err := models.LoadLocation(defaultZone); err != nil {
		return Result{}, err
	}
	if defaultZone == "" {
		defaultZone = "UTC"
	}
	text = strings.TrimSpace(text)
	switch {
	case text == "":
		return Result{}, textError("is required")
	case utf8.RuneCountInString(text) > MaxText:
		return Result{}, textError("must be at most %d characters", MaxText)
	}
	if _, err := models.ParseSchedule(text, defaultZone); err == nil {
		return result(text, defaultZone, 1)
	}
	toks, err := tokenize(text)
	if err != nil {
		return Result{}, err
	}
	p := &parser{toks: toks, conf: baseConfidence, minute: -1}
	if err := p.parse(); err != nil {
		return Result{}, err
	}
	expr, err := p.build()
	if err != nil {
		return Result{}, err
	}
	zone := defaultZone
	if p.zone != "" {
		zone = p.zone
	}
	return result(expr, zone, p.conf)
}

// result checks expr as POST /jobs will and describes it. The rules never
// knowingly build an expression it refuses; this is the guarantee that they
// cannot (a day that never comes, "on 30 february", ends here).
func result(expr, zone string, conf float64) (Result, error) {
	s, err := models.ParseSchedule(expr, zone)
	if err != nil {
		var ve *models.ValidationError
		if errors.As(err, &ve) {
			return Result{}, textError("reads as %q, which is not a valid schedule: %s", expr, ve.Message)
		}
		return Result{}, fmt.Errorf("check %q: %w", expr, err)
	}
	typ := "cron"
	if s.Every() > 0 {
		typ = "every"
	}
	return Result{Type: typ, Expression: s.String(), Timezone: zone, Description: s.Describe(), Confidence: conf}, nil
}

// textError is a validation error of the text field.
func textError(format string, args ...any) error {
	return &models.ValidationError{Field: "text", Message: fmt.Sprintf(format, args...)}
}

// unreadable is the error for a word no rule reads.
func unreadable(t token) error {
	return textError("cannot read %q", t.raw)
}
