package notifier

import (
	"errors"
	"time"
)

// PermanentError marks a delivery failure that retrying cannot fix (a
// revoked token, a deleted channel, a webhook that answers 404): the
// notification is marked failed with the reason and not retried.
type PermanentError struct{ Err error }

// Error implements error.
func (e *PermanentError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent marks the error for callers that cannot name this type.
func (e *PermanentError) Permanent() bool { return true }

// Permanent wraps err as a PermanentError.
func Permanent(err error) error { return &PermanentError{Err: err} }

// IsPermanent reports whether err is (or wraps) a PermanentError.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// RetryAfterError is a transient failure whose receiver said when to come
// back (HTTP 429 with Retry-After).
type RetryAfterError struct {
	Err   error
	After time.Duration
}

// Error implements error.
func (e *RetryAfterError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *RetryAfterError) Unwrap() error { return e.Err }

// retryAfter returns the wait a RetryAfterError asks for, or 0.
func retryAfter(err error) time.Duration {
	var r *RetryAfterError
	if errors.As(err, &r) {
		return r.After
	}
	return 0
}
