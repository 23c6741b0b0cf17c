package models

import (
	"errors"
	"fmt"

	"github.com/cronpulse/cronpulse/models/indoubt"
)

// ErrNotFound is returned when a looked-up record does not exist. The store
// turns gorm.ErrRecordNotFound into it so callers never import GORM.
var ErrNotFound = errors.New("not found")

// ErrInDoubt marks a write of which it cannot be told whether it is stored
// (a lost PostgreSQL connection; see package indoubt): the caller must not
// retry it.
var ErrInDoubt = indoubt.ErrInDoubt

// ErrAmbiguous is returned when a project ping key and slug match more than
// one job.
var ErrAmbiguous = errors.New("ambiguous slug")

// ErrConflict is returned when a write would break a uniqueness rule.
var ErrConflict = errors.New("conflict")

// ValidationError says which field of an input is wrong and why. Handlers
// turn it into a 400 whose message names the field.
type ValidationError struct {
	Field   string
	Message string
}

// Error implements error.
func (e *ValidationError) Error() string {
	return fmt.Sprintf("%s: %s", e.Field, e.Message)
}

// invalid builds a *ValidationError.
func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// IsNotFound reports whether err is (or wraps) ErrNotFound.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
