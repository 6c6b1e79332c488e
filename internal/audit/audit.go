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
	mu      sync.Mutex
	w       io.Writer
	written uint64       // lines written, under mu
	sync    func() error // nil when the destination cannot be synced
	file    *os.File     // owned, closed by Close

	// Group sync: an intent waits for a sync that began after its line
	// was written; the intents written meanwhile share it.
	syncMu  sync.Mutex
	synced  *sync.Cond
	durable uint64 // lines that a finished sync covers
	syncing bool   // a sync is under way
	// failed is the error of the last sync, for the lines it covered:
	// failedUpTo.
	failed     error
	failedUpTo uint64
}

// ErrUnavailable wraps a failure to write the audit trail.
var ErrUnavailable = errors.New("audit trail unavailable")

// New writes to w (for example os.Stderr).
func New(w io.Writer) *Log { return &Log{w: w} }

// OpenFile appends to the file at path, creating it with mode 0600. Every
// intent record is synced to disk before the change it announces is made;
// intents written meanwhile share one sync (one fsync under a lock per
// request made every privileged request wait for all those before it).
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
	return newSynced(f, f.Sync, f), nil
}

// newSynced is a Log on w whose intents wait for syncFn (group sync).
func newSynced(w io.Writer, syncFn func() error, file *os.File) *Log {
	l := &Log{w: w, sync: syncFn, file: file}
	l.synced = sync.NewCond(&l.syncMu)
	return l
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
	if _, err := l.w.Write(line); err != nil {
		l.mu.Unlock()
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	l.written++
	n := l.written
	l.mu.Unlock()
	if durable && l.sync != nil {
		if err := l.waitSynced(n); err != nil {
			return fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
	}
	return nil
}

// waitSynced returns once line n is synced: at once if a sync that began
// after it was written has finished, otherwise after the sync under way
// and, if that one began before line n, one more, which this caller makes.
// It returns the error of the sync that covered line n.
func (l *Log) waitSynced(n uint64) error {
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	for {
		if l.failed != nil && n <= l.failedUpTo && n > l.durable {
			return l.failed
		}
		if n <= l.durable {
			return nil
		}
		if l.syncing {
			l.synced.Wait()
			continue
		}
		l.syncing = true
		l.mu.Lock()
		target := l.written // every line written so far: this sync covers them
		l.mu.Unlock()
		l.syncMu.Unlock()
		err := l.sync()
		l.syncMu.Lock()
		l.syncing = false
		if err != nil {
			l.failed, l.failedUpTo = err, target
		} else {
			l.durable = target
		}
		l.synced.Broadcast()
	}
}

// Close closes a file opened by OpenFile.
func (l *Log) Close() error {
	if l == nil || l.file == nil {
		return nil
	}
	return l.file.Close()
}
