package nlschedule_test

import (
	"errors"
	"testing"

	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/nlschedule"
)

// FuzzParse: no text makes Parse panic, every result is a schedule POST
// /jobs accepts with a confidence in (0, 1], and every failure is a
// validation error. The seed corpus is the test table, so plain go test
// runs it; add any input the fuzzer breaks Parse with to that table.
func FuzzParse(f *testing.F) {
	for _, c := range parseCases {
		f.Add(c.text, c.defaultZone)
	}
	f.Fuzz(func(t *testing.T, text, zone string) {
		r, err := nlschedule.Parse(text, zone)
		if err != nil {
			var ve *models.ValidationError
			if !errors.As(err, &ve) || (ve.Field != "text" && ve.Field != "timezone") {
				t.Fatalf("Parse(%q, %q): not a validation error of text or timezone: %T %v", text, zone, err, err)
			}
			return
		}
		if err := jobAccepts(r.Expression, r.Timezone); err != nil {
			t.Fatalf("Parse(%q, %q) = %q in %q, which POST /jobs refuses: %v", text, zone, r.Expression, r.Timezone, err)
		}
		if r.Confidence <= 0 || r.Confidence > 1 {
			t.Fatalf("Parse(%q, %q): confidence %v", text, zone, r.Confidence)
		}
		if r.Description == "" || (r.Type != "cron" && r.Type != "every") {
			t.Fatalf("Parse(%q, %q): %+v", text, zone, r)
		}
	})
}
