package models

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
)

// RollupCounters returns the counters r gathered for job id (of any
// hour), for tests.
func RollupCounters(r *Rollups, id string) Counters {
	var c Counters
	for k, v := range r.jobs {
		if k.id == id {
			c.Merge(v)
		}
	}
	return c
}

// PBKDF2Hash is a password hash as `cronpulse user create` wrote them
// before argon2id, for tests that old hashes still verify.
func PBKDF2Hash(password string, iterations int) string {
	salt := []byte("0123456789abcdef")
	key, err := pbkdf2.Key(sha256.New, password, salt, iterations, 32)
	if err != nil {
		panic(err)
	}
	enc := base64.RawStdEncoding
	return fmt.Sprintf("pbkdf2-sha256$%d$%s$%s", iterations, enc.EncodeToString(salt), enc.EncodeToString(key))
}
