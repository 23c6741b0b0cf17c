package models

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"
	"gorm.io/gorm"
)

// User roles, from least to most privileged.
const (
	RoleViewer   = "viewer"
	RoleOperator = "operator"
	RoleAdmin    = "admin"
)

// Roles lists the valid roles.
var Roles = []string{RoleViewer, RoleOperator, RoleAdmin}

// rolePerms are the API permissions each role holds: a viewer reads
// everything, an operator also writes projects and jobs, an admin holds
// "*" (also users, API keys and channels).
var rolePerms = map[string]PermSet{
	RoleViewer:   {PermReadProjects, PermReadJobs},
	RoleOperator: {PermReadProjects, PermReadJobs, PermWriteProjects, PermWriteJobs},
	RoleAdmin:    {PermAll},
}

// RolePermissions returns the permissions of role (none for an unknown
// role).
func RolePermissions(role string) PermSet { return rolePerms[role] }

// Can reports whether the user's role grants perm, as a key holding the
// role's permissions would.
func (u *User) Can(perm string) bool { return RolePermissions(u.Role).Can(perm) }

// User is a person who signs in to the dashboard.
type User struct {
	ID           string    `json:"id" gorm:"primaryKey"`
	Email        string    `json:"email"`
	PasswordHash string    `json:"-"`
	Role         string    `json:"role"`
	CreatedAt    time.Time `json:"createdAt"`
	UpdatedAt    time.Time `json:"updatedAt"`
}

// Password hashes are argon2id (RFC 9106) with OWASP's minimum figures for
// it: 19 MiB of memory, 2 passes, 1 lane; about 30 ms a hash. Hashes made
// before argon2id (PBKDF2-SHA256, "pbkdf2-sha256$iterations$salt$hash", as
// `cronpulse user create` wrote them) are still verified.
const (
	argonMemory  = 19 * 1024 // KiB
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
)

// MinPasswordLen is the shortest password a user may have.
const MinPasswordLen = 8

// hashPassword returns the PHC string of an argon2id hash of password:
// "$argon2id$v=19$m=19456,t=2,p=1$salt$hash".
func hashPassword(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// dummyHash is verified against when no user has the e-mail address given
// at login, so that an unknown address costs as long as a wrong password.
var dummyHash = sync.OnceValue(func() string {
	h, err := hashPassword("not a password anyone has")
	if err != nil {
		return ""
	}
	return h
})

// CheckPassword reports whether password matches the user's hash.
func (u *User) CheckPassword(password string) bool {
	return checkPassword(u.PasswordHash, password)
}

// WastePasswordCheck costs what CheckPassword does, for a login whose
// e-mail address matches no user.
func WastePasswordCheck(password string) {
	checkPassword(dummyHash(), password)
}

func checkPassword(hash, password string) bool {
	if strings.HasPrefix(hash, "$argon2id$") {
		return checkArgon2id(hash, password)
	}
	return checkPBKDF2(hash, password)
}

// checkArgon2id verifies a PHC argon2id string, with the parameters it
// names (so that hashes keep verifying when the defaults change).
func checkArgon2id(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 {
		return false
	}
	var version int
	var mem, iter uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &iter, &threads); err != nil ||
		mem < 8 || mem > 1<<20 || iter < 1 || iter > 100 || threads < 1 {
		return false
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[4])
	want, err2 := enc.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) < 16 || len(want) > 64 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, iter, mem, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// checkPBKDF2 verifies a "pbkdf2-sha256$iterations$salt$hash" string.
func checkPBKDF2(hash, password string) bool {
	var iter int
	parts := strings.Split(hash, "$")
	if len(parts) != 4 || parts[0] != "pbkdf2-sha256" {
		return false
	}
	if _, err := fmt.Sscan(parts[1], &iter); err != nil || iter < 1 || iter > 10_000_000 {
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
	u, err := s.newUser(email, password, role)
	if err != nil {
		return nil, err
	}
	if err := s.db.Create(u).Error; err != nil {
		return nil, translate(err, "create user")
	}
	return u, nil
}

// ErrSetupDone is CreateFirstAdmin's answer once any user exists.
var ErrSetupDone = errors.New("the first user has already been created")

// CreateFirstAdmin adds an admin if there is no user yet, and answers
// ErrSetupDone otherwise. Two setups at once create one user: on
// PostgreSQL they take turns on an advisory lock, on SQLite the write
// transaction is taken at BEGIN (_txlock=immediate).
func (s *Store) CreateFirstAdmin(email, password string) (*User, error) {
	u, err := s.newUser(email, password, RoleAdmin)
	if err != nil {
		return nil, err
	}
	err = s.userAdminTx(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&User{}).Count(&n).Error; err != nil {
			return translate(err, "count users")
		}
		if n > 0 {
			return ErrSetupDone
		}
		return translate(tx.Create(u).Error, "create user")
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// firstUserLockKey serialises CreateFirstAdmin across instances.
const firstUserLockKey = 72_617_009

// newUser validates a new user's fields and hashes the password.
func (s *Store) newUser(email, password, role string) (*User, error) {
	addr, err := mail.ParseAddress(strings.TrimSpace(email))
	if err != nil || addr.Address != strings.TrimSpace(email) {
		return nil, invalid("email", "is not a valid e-mail address")
	}
	if len(password) < MinPasswordLen {
		return nil, invalid("password", "must be at least %d characters", MinPasswordLen)
	}
	if !slices.Contains(Roles, role) {
		return nil, invalid("role", "must be one of %s", strings.Join(Roles, ", "))
	}
	hash, err := hashPassword(password)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	now := s.Now()
	return &User{ID: NewID(now), Email: strings.ToLower(addr.Address), PasswordHash: hash, Role: role, CreatedAt: now, UpdatedAt: now}, nil
}

// User looks a user up by id.
func (s *Store) User(id string) (*User, error) {
	var u User
	if err := s.db.Where("id = ?", id).Take(&u).Error; err != nil {
		return nil, translate(err, "user "+id)
	}
	return &u, nil
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
