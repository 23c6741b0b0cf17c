package models_test

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/cronpulse/cronpulse/models"
	"github.com/cronpulse/cronpulse/models/modelstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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

func TestSuccessPingTimes(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, s *models.Store) {
		t0 := time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
		h := modelstest.NewHeartbeat(t, s, "0 2 * * *", "UTC", 5, t0.Add(-time.Hour))
		other := modelstest.NewHeartbeat(t, s, "0 2 * * *", "UTC", 5, t0.Add(-time.Hour))
		var want []time.Time
		for d := 0; d < 4; d++ {
			at := t0.AddDate(0, 0, d)
			h.Ping(models.PingStart, at, "")
			h.Ping(models.PingSuccess, at.Add(time.Minute+time.Duration(d)*time.Millisecond), "")
			other.Ping(models.PingSuccess, at.Add(2*time.Minute), "")
			want = append([]time.Time{at.Add(time.Minute + time.Duration(d)*time.Millisecond)}, want...)
		}
		h.Ping(models.PingFail, t0.AddDate(0, 0, 4), "", 1)

		got, err := s.SuccessPingTimes(h.Job.ID, 50)
		require.NoError(t, err)
		require.Len(t, got, 4, "success pings only, of this job only")
		for i := range want {
			assert.True(t, want[i].Equal(got[i]), "newest first: %d: want %s, got %s", i, want[i], got[i])
		}
		got, err = s.SuccessPingTimes(h.Job.ID, 2)
		require.NoError(t, err)
		require.Len(t, got, 2)
		assert.True(t, want[0].Equal(got[0]))
	})
}
