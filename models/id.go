package models

import (
	"crypto/rand"
	"strconv"
	"strings"
	"time"
)

const idAlphabet = "0123456789abcdefghijklmnopqrstuvwxyz"

// NewID returns a 25-character identifier in the spirit of CronPulse's cuids
// ("cl…"): a "c", the creation time in milliseconds as 9 base-36 digits, and
// 15 random base-36 characters (about 77 bits). IDs sort by creation time,
// which makes them usable as pagination cursors.
func NewID(now time.Time) string {
	ts := strconv.FormatInt(now.UnixMilli(), 36)
	var b strings.Builder
	b.Grow(25)
	b.WriteByte('c')
	for i := len(ts); i < 9; i++ {
		b.WriteByte('0')
	}
	b.WriteString(ts)
	b.WriteString(randomString(15, idAlphabet))
	return b.String()
}

// randomString returns n characters drawn uniformly from alphabet using the
// operating system's CSPRNG.
func randomString(n int, alphabet string) string {
	out := make([]byte, n)
	buf := make([]byte, n*2)
	limit := 256 - 256%len(alphabet) // reject bytes that would bias the draw
	for i := 0; i < n; {
		if _, err := rand.Read(buf); err != nil {
			panic("crypto/rand failed: " + err.Error()) // the OS RNG never fails on supported platforms
		}
		for _, c := range buf {
			if int(c) < limit && i < n {
				out[i] = alphabet[int(c)%len(alphabet)]
				i++
			}
		}
	}
	return string(out)
}
