package keyring

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestRing checks a keyring with older keys: it seals with its sealing key
// only, opens values of every configured key, and refuses the others.
func TestRing(t *testing.T) {
	oldKey, newKey, otherKey := mustNew(t, testKey(1)), mustNew(t, testKey(2)), mustNew(t, testKey(3))
	ring, err := newKey.WithOld(oldKey)
	if err != nil {
		t.Fatal(err)
	}
	aad := []byte("ca|g|1")
	seal := func(k *Keyring, p string) []byte {
		t.Helper()
		s, err := k.Seal([]byte(p), aad)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	byOld, byNew, byOther, byRing := seal(oldKey, "old"), seal(newKey, "new"), seal(otherKey, "other"), seal(ring, "ring")

	if got, want := SealedID(byRing), newKey.ID(); got != want {
		t.Errorf("ring seals with key %s, want the sealing key %s", got, want)
	}
	if diff := cmp.Diff([]string{oldKey.ID()}, ring.OldIDs()); diff != "" {
		t.Errorf("OldIDs (-want +got):\n%s", diff)
	}
	tests := []struct {
		name        string
		k           *Keyring
		sealed      []byte
		want        string
		wantErr     error
		wantCurrent bool
	}{
		{"ring opens the old key's value", ring, byOld, "old", nil, false},
		{"ring opens the new key's value", ring, byNew, "new", nil, true},
		{"ring opens its own value", ring, byRing, "ring", nil, true},
		{"ring refuses another key's value", ring, byOther, "", ErrWrongKey, false},
		{"new key alone refuses the old key's value", newKey, byOld, "", ErrWrongKey, false},
		{"old key alone refuses the ring's value", oldKey, byRing, "", ErrWrongKey, false},
		{"old key alone is current for its own value", oldKey, byOld, "old", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.k.Open(tt.sealed, aad)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Open error = %v, want %v", err, tt.wantErr)
			}
			if string(got) != tt.want {
				t.Errorf("Open = %q, want %q", got, tt.want)
			}
			if c := tt.k.Current(tt.sealed); c != tt.wantCurrent {
				t.Errorf("Current = %v, want %v", c, tt.wantCurrent)
			}
		})
	}
}

// TestRingWrongKeyNamesKeys checks that a value no configured key opens is
// reported with its key id and the configured ones, never a key.
func TestRingWrongKeyNamesKeys(t *testing.T) {
	oldKey, newKey, otherKey := mustNew(t, testKey(1)), mustNew(t, testKey(2)), mustNew(t, testKey(3))
	ring, err := newKey.WithOld(oldKey)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := otherKey.Seal([]byte("x"), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = ring.Open(sealed, nil)
	for _, id := range []string{otherKey.ID(), newKey.ID(), oldKey.ID()} {
		if err == nil || !strings.Contains(err.Error(), id) {
			t.Errorf("Open error %v does not name key id %s", err, id)
		}
	}
}

// TestRingRefusesDuplicateKeys checks that one key id never names two
// configured keys: the same key twice is refused, whichever role it has.
func TestRingRefusesDuplicateKeys(t *testing.T) {
	a, b := mustNew(t, testKey(1)), mustNew(t, testKey(2))
	aAgain := mustNew(t, testKey(1))
	ab, err := a.WithOld(b)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		k    *Keyring
		old  []*Keyring
	}{
		{"sealing key also old", a, []*Keyring{aAgain}},
		{"old key twice", a, []*Keyring{b, b}},
		{"old key of a ring repeated", ab, []*Keyring{b}},
		{"sealing key among a ring's keys", b, []*Keyring{ab}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.k.WithOld(tt.old...); err == nil {
				t.Errorf("WithOld succeeded, want an error")
			}
		})
	}
}

// TestSealedID checks the key id read from a sealed value.
func TestSealedID(t *testing.T) {
	k := mustNew(t, testKey(1))
	sealed, err := k.Seal([]byte("x"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		sealed []byte
		want   string
	}{
		{"sealed value", sealed, k.ID()},
		{"too short", sealed[:Overhead-1], ""},
		{"unknown version", append([]byte{Version + 1}, sealed[1:]...), ""},
	} {
		if got := SealedID(tt.sealed); got != tt.want {
			t.Errorf("%s: SealedID = %q, want %q", tt.name, got, tt.want)
		}
	}
}
