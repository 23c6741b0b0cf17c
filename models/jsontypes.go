package models

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
)

// Headers are the HTTP headers a check sends, stored as a JSON object.
type Headers map[string]string

// Value implements driver.Valuer.
func (h Headers) Value() (driver.Value, error) {
	if h == nil {
		return "{}", nil
	}
	b, err := json.Marshal(map[string]string(h))
	return string(b), err
}

// Scan implements sql.Scanner.
func (h *Headers) Scan(src any) error { return scanJSON(src, h) }

// Tags label a job, stored as a JSON array.
type Tags []string

// Value implements driver.Valuer.
func (t Tags) Value() (driver.Value, error) {
	if t == nil {
		return "[]", nil
	}
	b, err := json.Marshal([]string(t))
	return string(b), err
}

// Scan implements sql.Scanner.
func (t *Tags) Scan(src any) error { return scanJSON(src, t) }

// JSONMap is a free-form JSON object column (a channel's config).
type JSONMap map[string]any

// Value implements driver.Valuer.
func (m JSONMap) Value() (driver.Value, error) {
	if m == nil {
		return "{}", nil
	}
	b, err := json.Marshal(map[string]any(m))
	return string(b), err
}

// Scan implements sql.Scanner.
func (m *JSONMap) Scan(src any) error { return scanJSON(src, m) }

func scanJSON(src any, dst any) error {
	switch v := src.(type) {
	case nil:
		return nil
	case string:
		return json.Unmarshal([]byte(v), dst)
	case []byte:
		return json.Unmarshal(v, dst)
	default:
		return fmt.Errorf("cannot scan %T into JSON", src)
	}
}

// Nullable is a JSON field that distinguishes "not sent" (Set false), an
// explicit null (Set true, Value nil) and a value. PUT uses it for fields
// that may be cleared, such as a job's body.
type Nullable[T any] struct {
	Set   bool
	Value *T
}

// UnmarshalJSON implements json.Unmarshaler.
func (n *Nullable[T]) UnmarshalJSON(b []byte) error {
	n.Set = true
	if string(b) == "null" {
		n.Value = nil
		return nil
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	n.Value = &v
	return nil
}
