// Package audit writes the audit trail: one JSON line per privileged change
// and per refused request, naming who, what, the outcome, when and from
// where. It never records secrets, tokens or keys: callers pass only ids.
//
// Like Vault's audit devices, the trail fails closed: a change whose
// intent cannot be recorded is refused (see Log.Intent).
package audit

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// Event is one audit record.
type Event struct {
	Time time.Time `json:"time"`
	// Phase is "request" for the intent of a change, written before it is
	// made, and "response" for its outcome or for a refused request.
	Phase         string `json:"phase"`
	RequestID     string `json:"requestId"`
	Principal     string `json:"principal,omitempty"` // API key id or service account client id
	PrincipalKind string `json:"principalKind,omitempty"`
	Operation     string `json:"operation,omitempty"` // Atlas operationId
	Method        string `json:"method"`
	Path          string `json:"path"`
	GroupID       string `json:"groupId,omitempty"`
	OrgID         string `json:"orgId,omitempty"`
	Source        string `json:"source"`
	Status        int    `json:"status,omitempty"`
	Outcome       string `json:"outcome,omitempty"` // allowed, denied, failed
	ErrorCode     string `json:"errorCode,omitempty"`
}

// Log writes events as JSON lines to one destination. It is safe for
// concurrent use.
type Log struct {
	mu   sync.Mutex
	w    io.Writer
	sync func() error // nil when the destination cannot be synced
	file *os.File     // owned, closed by Close
}

// ErrUnavailable wraps a failure to write the audit trail.
var ErrUnavailable = errors.New("audit trail unavailable")

// New writes to w (for example os.Stderr).
func New(w io.Writer) *Log { return &Log{w: w} }

// OpenFile appends to the file at path, creating it with mode 0600. Every
// intent record is synced to disk before the change it announces is made.
// An existing file that others may read or write, or its group write, is
// refused: the trail names every credential and source address.
func OpenFile(path string) (*Log, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("audit: %w", err)
	}
	if perm := fi.Mode().Perm(); perm&0o027 != 0 {
		f.Close()
		return nil, fmt.Errorf("audit: %s has mode %04o: others may read or write it; chmod 600 it (or 640 for a reading group)", path, perm)
	}
	return &Log{w: f, sync: f.Sync, file: f}, nil
}

// Intent records that a change is about to be made. An error means the
// change must be refused.
func (l *Log) Intent(e Event) error {
	e.Phase = "request"
	return l.write(e, true)
}

// Outcome records how a change ended, or a refused request.
func (l *Log) Outcome(e Event) error {
	e.Phase = "response"
	return l.write(e, false)
}

func (l *Log) write(e Event, durable bool) error {
	if l == nil {
		return nil
	}
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	line = append(line, '\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := l.w.Write(line); err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if durable && l.sync != nil {
		if err := l.sync(); err != nil {
			return fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
	}
	return nil
}

// Close closes a file opened by OpenFile.
func (l *Log) Close() error {
	if l == nil || l.file == nil {
		return nil
	}
	return l.file.Close()
}
