package sqlite

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"time"
)

// timeLayout is how times are stored: UTC, fixed width, nanoseconds, so that
// comparing the text compares the instants.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

// formatTime renders t in timeLayout. Years outside 0000-9999 do not fit the
// fixed width and are refused.
func formatTime(t time.Time) (string, error) {
	u := t.UTC()
	if y := u.Year(); y < 0 || y > 9999 {
		return "", fmt.Errorf("time %v out of the storable range (years 0000-9999)", t)
	}
	return u.Format(timeLayout), nil
}

// parseTime reads a time written by formatTime; the result is in UTC.
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored time %q: %w", s, err)
	}
	return t.UTC(), nil
}

// timeArg is a time.Time query argument in the stored text form.
type timeArg time.Time

// Value implements driver.Valuer.
func (t timeArg) Value() (driver.Value, error) { return formatTime(time.Time(t)) }

// nullTimeArg is a *time.Time query argument: NULL when nil.
type nullTimeArg struct{ t *time.Time }

// Value implements driver.Valuer.
func (t nullTimeArg) Value() (driver.Value, error) {
	if t.t == nil {
		return nil, nil
	}
	return formatTime(*t.t)
}

// blobArg is a []byte query argument that is never NULL: nil is stored as an
// empty BLOB (the driver would bind a nil slice as NULL).
type blobArg []byte

// Value implements driver.Valuer.
func (b blobArg) Value() (driver.Value, error) {
	if b == nil {
		return []byte{}, nil
	}
	return []byte(b), nil
}

// jsonArg is a query argument stored as JSON text; a nil slice is stored as
// "[]" by the caller normalising it first.
type jsonArg struct{ v any }

// Value implements driver.Valuer.
func (j jsonArg) Value() (driver.Value, error) {
	b, err := json.Marshal(j.v)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// boolArg stores a bool as INTEGER 0 or 1.
type boolArg bool

// Value implements driver.Valuer.
func (b boolArg) Value() (driver.Value, error) {
	if b {
		return int64(1), nil
	}
	return int64(0), nil
}

// textOf returns the text of a scanned TEXT value.
func textOf(src any) (string, error) {
	switch v := src.(type) {
	case string:
		return v, nil
	case []byte:
		return string(v), nil
	}
	return "", fmt.Errorf("unexpected stored value of type %T", src)
}

// timeScan scans a stored time into *t.
type timeScan struct{ t *time.Time }

// Scan implements sql.Scanner.
func (s timeScan) Scan(src any) error {
	txt, err := textOf(src)
	if err != nil {
		return err
	}
	*s.t, err = parseTime(txt)
	return err
}

// nullTimeScan scans a nullable stored time into **t (nil for NULL).
type nullTimeScan struct{ t **time.Time }

// Scan implements sql.Scanner.
func (s nullTimeScan) Scan(src any) error {
	if src == nil {
		*s.t = nil
		return nil
	}
	var t time.Time
	if err := (timeScan{&t}).Scan(src); err != nil {
		return err
	}
	*s.t = &t
	return nil
}

// blobScan scans a BLOB into *b, never leaving it nil: an empty BLOB (which
// the driver returns as nil) becomes an empty non-nil slice.
type blobScan struct{ b *[]byte }

// Scan implements sql.Scanner.
func (s blobScan) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*s.b = []byte{}
	case []byte:
		*s.b = append([]byte{}, v...)
	case string:
		*s.b = []byte(v)
	default:
		return fmt.Errorf("unexpected stored value of type %T for a BLOB", src)
	}
	return nil
}

// jsonScan decodes stored JSON text into dst, a pointer to a slice.
type jsonScan struct{ dst any }

// Scan implements sql.Scanner.
func (s jsonScan) Scan(src any) error {
	txt, err := textOf(src)
	if err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(txt), s.dst); err != nil {
		return fmt.Errorf("stored JSON %q: %w", txt, err)
	}
	return nil
}

// nonNil returns s, or an empty non-nil slice when s is nil.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// nonNilMap returns m, or an empty non-nil map when m is nil, so that it
// is stored as {} rather than null.
func nonNilMap[K comparable, V any](m map[K]V) map[K]V {
	if m == nil {
		return map[K]V{}
	}
	return m
}

// emptyNil returns nil for an empty slice: what was stored from a nil one.
func emptyNil[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

// emptyNilMap returns nil for an empty map: what was stored from a nil one.
func emptyNilMap[K comparable, V any](m map[K]V) map[K]V {
	if len(m) == 0 {
		return nil
	}
	return m
}

// jsonText encodes v as JSON text.
func jsonText(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}
