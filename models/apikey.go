package models

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// API key permissions (SPEC §3.1).
const (
	PermReadProjects  = "read:projects"
	PermWriteProjects = "write:projects"
	PermReadJobs      = "read:jobs"
	PermWriteJobs     = "write:jobs"
	PermAll           = "*"
)

// Permissions lists every permission a key may hold.
var Permissions = []string{PermReadProjects, PermWriteProjects, PermReadJobs, PermWriteJobs, PermAll}

// Key format: "cpk_" + 8 characters of public prefix (the lookup key) + 24
// characters of secret, all base-62 (about 5.95 bits each): 32 random
// characters, about 190 bits in all, of which the secret alone carries
// about 143 (the prefix is stored in the clear).
const (
	keyPrefix    = "cpk_"
	keyIDLen     = 8
	keySecretLen = 24
	keyAlphabet  = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)

// APIKey is a credential for the REST API. Only a SHA-256 hash of the key is
// stored: its secret alone is about 143 random bits, so a slow password
// hash would add cost to every request and no protection.
type APIKey struct {
	ID          string     `json:"id" gorm:"primaryKey"`
	Name        string     `json:"name"`
	Prefix      string     `json:"prefix"`
	Hash        string     `json:"-"`
	Permissions string     `json:"-"`
	CreatedAt   time.Time  `json:"createdAt"`
	LastUsedAt  *time.Time `json:"lastUsedAt"`
	RevokedAt   *time.Time `json:"revokedAt"`
}

// TableName pins the table name (GORM would say "api_keys" too, but the
// migration is the authority).
func (APIKey) TableName() string { return "api_keys" }

// PermissionList returns the key's permissions.
func (k *APIKey) PermissionList() []string {
	if k.Permissions == "" {
		return []string{}
	}
	return strings.Split(k.Permissions, ",")
}

// Can reports whether the key grants perm (see PermSet.Can).
func (k *APIKey) Can(perm string) bool { return PermSet(k.PermissionList()).Can(perm) }

// PermSet is a list of permissions: a key's, or a dashboard role's.
type PermSet []string

// Can reports whether the set grants perm. "*" grants everything, and a
// write permission implies reading the same resource.
func (p PermSet) Can(perm string) bool {
	if slices.Contains(p, PermAll) || slices.Contains(p, perm) {
		return true
	}
	switch perm {
	case PermReadJobs:
		return slices.Contains(p, PermWriteJobs)
	case PermReadProjects:
		return slices.Contains(p, PermWriteProjects)
	}
	return false
}

// Matches reports in constant time whether key hashes to k.Hash.
func (k *APIKey) Matches(key string) bool {
	h := hashKey(key)
	return subtle.ConstantTimeCompare([]byte(h), []byte(k.Hash)) == 1
}

func hashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// KeyPrefix returns the lookup part of a presented key ("cpk_" and the next
// 8 characters), or "" if the key is not shaped like a CronPulse key.
func KeyPrefix(key string) string {
	if len(key) != len(keyPrefix)+keyIDLen+keySecretLen || !strings.HasPrefix(key, keyPrefix) {
		return ""
	}
	for _, c := range key[len(keyPrefix):] {
		if !strings.ContainsRune(keyAlphabet, c) {
			return ""
		}
	}
	return key[:len(keyPrefix)+keyIDLen]
}

// ParsePermissions validates a permission list such as
// "read:jobs,write:jobs" (a JSON array is split by the caller).
func ParsePermissions(perms []string) ([]string, error) {
	if len(perms) == 0 {
		return nil, invalid("permissions", "at least one of %s is required", strings.Join(Permissions, ", "))
	}
	out := make([]string, 0, len(perms))
	for _, p := range perms {
		p = strings.TrimSpace(p)
		if !slices.Contains(Permissions, p) {
			return nil, invalid("permissions", "unknown permission %q (known: %s)", truncate(p, 30), strings.Join(Permissions, ", "))
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// CreateAPIKey makes a new key and returns it with the secret, which is
// never stored and cannot be shown again.
func (s *Store) CreateAPIKey(name string, perms []string) (*APIKey, string, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 100 || strings.ContainsAny(name, "\r\n\x00") {
		return nil, "", invalid("name", "must be 1-100 characters on a single line")
	}
	perms, err := ParsePermissions(perms)
	if err != nil {
		return nil, "", err
	}
	now := s.Now()
	secret := keyPrefix + randomString(keyIDLen+keySecretLen, keyAlphabet)
	k := &APIKey{
		ID:          NewID(now),
		Name:        name,
		Prefix:      secret[:len(keyPrefix)+keyIDLen],
		Hash:        hashKey(secret),
		Permissions: strings.Join(perms, ","),
		CreatedAt:   now,
	}
	if err := s.db.Create(k).Error; err != nil {
		return nil, "", translate(err, "create api key")
	}
	return k, secret, nil
}

// APIKeyByPrefix returns the key with the given lookup prefix, revoked or
// not.
func (s *Store) APIKeyByPrefix(prefix string) (*APIKey, error) {
	var k APIKey
	if err := s.db.Where("prefix = ?", prefix).Take(&k).Error; err != nil {
		return nil, translate(err, "api key")
	}
	return &k, nil
}

// APIKeys lists every key, newest last.
func (s *Store) APIKeys() ([]APIKey, error) {
	var out []APIKey
	if err := s.db.Order("id").Find(&out).Error; err != nil {
		return nil, translate(err, "list api keys")
	}
	return out, nil
}

// RevokeAPIKey marks a key revoked; revoking twice is not an error.
func (s *Store) RevokeAPIKey(id string) (*APIKey, error) {
	var k APIKey
	if err := s.db.Where("id = ?", id).Take(&k).Error; err != nil {
		return nil, translate(err, "api key "+id)
	}
	if k.RevokedAt == nil {
		now := s.Now()
		k.RevokedAt = &now
		if err := s.db.Model(&k).Update("revoked_at", now).Error; err != nil {
			return nil, translate(err, "revoke api key")
		}
	}
	return &k, nil
}

// TouchAPIKey records that a key was used at t.
func (s *Store) TouchAPIKey(id string, t time.Time) error {
	err := s.db.Model(&APIKey{}).Where("id = ?", id).Update("last_used_at", t.UTC()).Error
	if err != nil {
		return fmt.Errorf("touch api key %s: %w", id, err)
	}
	return nil
}
