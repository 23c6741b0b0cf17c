package models_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cronpulse/cronpulse/models"
	"github.com/stretchr/testify/assert"
)

func TestCleanPingBody(t *testing.T) {
	cases := []struct {
		name, in string
		limit    int
		want     string
	}{
		{"short", "hello", 10, "hello"},
		{"cut", "hello world", 5, "hello"},
		{"cut inside a character", "ab€", 4, "ab"},
		{"invalid utf-8", "a\xffb", 10, "a\uFFFDb"},
		{"nul dropped", "a\x00b", 10, "ab"},
		{"zero limit", "abc", 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := models.CleanPingBody([]byte(c.in), c.limit)
			assert.Equal(t, c.want, got)
			assert.True(t, utf8.ValidString(got))
			assert.LessOrEqual(t, len(got), c.limit)
			assert.False(t, strings.Contains(got, "\x00"))
		})
	}
}
