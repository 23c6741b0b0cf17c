package models

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"
)

// User roles, from least to most privileged.
const (
	RoleViewer   = "viewer"
	RoleOperator = "operator"
	RoleAdmin    = "admin"
)

// Roles lists the valid roles.
var Roles = []string{RoleViewer, RoleOperator, RoleAdmin}

// User is a person who signs in to the dashboard.
type User struct {
	ID           string    `json:"id" gorm:"primaryKey"`
	Email        string    `json:"email"`
	PasswordHash string    `json:"-"`
	Role         string    `json:"role"`
	CreatedAt    time.Time `json:"createdAt"`
	UpdatedAt    time.Time `json:"updatedAt"`
}

// PBKDF2 parameters for password hashes (OWASP's 2023 figure for SHA-256).
const pbkdf2Iterations = 600_000

// hashPassword returns "pbkdf2-sha256$iterations$salt$hash".
func hashPassword(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key, err := pbkdf2.Key(sha256.New, password, salt, pbkdf2Iterations, 32)
	if err != nil {
		return "", err
	}
	enc := base64.RawStdEncoding
	return fmt.Sprintf("pbkdf2-sha256$%d$%s$%s", pbkdf2Iterations, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches the user's hash.
func (u *User) CheckPassword(password string) bool {
	var iter int
	parts := strings.Split(u.PasswordHash, "$")
	if len(parts) != 4 || parts[0] != "pbkdf2-sha256" {
		return false
	}
	if _, err := fmt.Sscan(parts[1], &iter); err != nil || iter < 1 {
		return false
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[2])
	want, err2 := enc.DecodeString(parts[3])
	if err1 != nil || err2 != nil {
		return false
	}
	got, err := pbkdf2.Key(sha256.New, password, salt, iter, len(want))
	return err == nil && subtle.ConstantTimeCompare(got, want) == 1
}

// CreateUser adds a dashboard user.
func (s *Store) CreateUser(email, password, role string) (*User, error) {
	addr, err := mail.ParseAddress(strings.TrimSpace(email))
	if err != nil || addr.Address != strings.TrimSpace(email) {
		return nil, invalid("email", "is not a valid e-mail address")
	}
	if len(password) < 8 {
		return nil, invalid("password", "must be at least 8 characters")
	}
	if !slices.Contains(Roles, role) {
		return nil, invalid("role", "must be one of %s", strings.Join(Roles, ", "))
	}
	hash, err := hashPassword(password)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	now := s.Now()
	u := &User{ID: NewID(now), Email: strings.ToLower(addr.Address), PasswordHash: hash, Role: role, CreatedAt: now, UpdatedAt: now}
	if err := s.db.Create(u).Error; err != nil {
		return nil, translate(err, "create user")
	}
	return u, nil
}

// UserByEmail looks a user up by e-mail address.
func (s *Store) UserByEmail(email string) (*User, error) {
	var u User
	if err := s.db.Where("email = ?", strings.ToLower(strings.TrimSpace(email))).Take(&u).Error; err != nil {
		return nil, translate(err, "user")
	}
	return &u, nil
}

// CountUsers returns how many users exist (0 means the setup page shows).
func (s *Store) CountUsers() (int64, error) {
	var n int64
	err := s.db.Model(&User{}).Count(&n).Error
	return n, translate(err, "count users")
}
