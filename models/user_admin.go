package models

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"gorm.io/gorm"
)

// ErrLastAdmin is the answer to demoting or deleting the only admin: a
// CronPulse without an admin could never manage users, keys or channels
// again.
var ErrLastAdmin = errors.New("this is the last admin: make another user admin first")

// IsLastAdmin reports whether err is ErrLastAdmin.
func IsLastAdmin(err error) bool { return errors.Is(err, ErrLastAdmin) }

// Users lists every user, oldest first.
func (s *Store) Users() ([]User, error) {
	var out []User
	if err := s.db.Order("created_at, id").Find(&out).Error; err != nil {
		return nil, translate(err, "list users")
	}
	return out, nil
}

// userAdminTx runs fn in a transaction that takes turns with every other
// change to users' roles (and with the first setup): on PostgreSQL through
// the advisory lock CreateFirstAdmin takes, on SQLite through the write
// transaction taken at BEGIN. So two admins demoting each other at once
// cannot leave no admin.
func (s *Store) userAdminTx(fn func(tx *gorm.DB) error) error {
	return s.db.Transaction(func(tx *gorm.DB) error {
		if s.dialect == Postgres {
			if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", firstUserLockKey).Error; err != nil {
				return fmt.Errorf("lock: %w", err)
			}
		}
		return fn(tx)
	})
}

// lockedUser reads user id inside tx, and whether another admin than it
// exists.
func lockedUser(tx *gorm.DB, id string) (*User, bool, error) {
	var u User
	if err := tx.Where("id = ?", id).Take(&u).Error; err != nil {
		return nil, false, translate(err, "user "+id)
	}
	var others int64
	if err := tx.Model(&User{}).Where("role = ? AND id <> ?", RoleAdmin, id).Count(&others).Error; err != nil {
		return nil, false, translate(err, "count admins")
	}
	return &u, others > 0, nil
}

// SetUserRole changes a user's role. Demoting the last admin is
// ErrLastAdmin.
func (s *Store) SetUserRole(id, role string) (*User, error) {
	if !slices.Contains(Roles, role) {
		return nil, invalid("role", "must be one of %s", strings.Join(Roles, ", "))
	}
	var out *User
	err := s.userAdminTx(func(tx *gorm.DB) error {
		u, otherAdmin, err := lockedUser(tx, id)
		if err != nil {
			return err
		}
		if u.Role == RoleAdmin && role != RoleAdmin && !otherAdmin {
			return ErrLastAdmin
		}
		u.Role, u.UpdatedAt = role, s.Now()
		if err := tx.Model(&User{}).Where("id = ?", id).
			Updates(map[string]any{"role": u.Role, "updated_at": u.UpdatedAt}).Error; err != nil {
			return translate(err, "set role of user "+id)
		}
		out = u
		return nil
	})
	return out, err
}

// DeleteUser removes a user; the database cascades to their sessions.
// Deleting the last admin is ErrLastAdmin.
func (s *Store) DeleteUser(id string) error {
	return s.userAdminTx(func(tx *gorm.DB) error {
		u, otherAdmin, err := lockedUser(tx, id)
		if err != nil {
			return err
		}
		if u.Role == RoleAdmin && !otherAdmin {
			return ErrLastAdmin
		}
		return translate(tx.Where("id = ?", id).Delete(&User{}).Error, "delete user "+id)
	})
}

// ChangePassword sets a user's password after checking their current one,
// and signs out every session of the user (the caller starts a new one for
// the browser that asked). A wrong current password is a ValidationError of
// field "current_password".
func (s *Store) ChangePassword(id, current, next string) error {
	u, err := s.User(id)
	if err != nil {
		return err
	}
	if !u.CheckPassword(current) {
		return invalid("current_password", "is not your current password")
	}
	if len(next) < MinPasswordLen {
		return invalid("new_password", "must be at least %d characters", MinPasswordLen)
	}
	hash, err := hashPassword(next)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	return s.db.Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&User{}).Where("id = ?", id).
			Updates(map[string]any{"password_hash": hash, "updated_at": s.Now()})
		if res.Error != nil {
			return translate(res.Error, "change password of user "+id)
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("user %s: %w", id, ErrNotFound)
		}
		return translate(tx.Where("user_id = ?", id).Delete(&Session{}).Error, "sign out user "+id)
	})
}
