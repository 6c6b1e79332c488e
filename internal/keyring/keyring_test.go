package keyring

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// testKey returns a fixed master key whose bytes are seed, seed+1, ...
func testKey(seed byte) []byte {
	k := make([]byte, KeySize)
	for i := range k {
		k[i] = seed + byte(i)
	}
	return k
}

func mustNew(tb testing.TB, key []byte) *Keyring {
	tb.Helper()
	k, err := New(key)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	return k
}

func TestNewKeyLength(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33, 64} {
		if _, err := New(make([]byte, n)); err == nil {
			t.Errorf("New(%d bytes) succeeded, want an error", n)
		}
	}
}

func TestSealOpen(t *testing.T) {
	k := mustNew(t, testKey(1))
	tests := []struct {
		name      string
		plaintext []byte
		aad       []byte
	}{
		{"empty", nil, nil},
		{"empty with aad", []byte{}, []byte("ca|0123456789abcdef01234567|1")},
		{"pkcs8-sized", bytes.Repeat([]byte{0xA5}, 138), []byte("ca|g|2")},
		{"large", bytes.Repeat([]byte("x"), 1<<16), []byte("ha1|key")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sealed, err := k.Seal(tt.plaintext, tt.aad)
			if err != nil {
				t.Fatalf("Seal: %v", err)
			}
			if got, want := len(sealed), len(tt.plaintext)+Overhead; got != want {
				t.Errorf("len(sealed) = %d, want %d", got, want)
			}
			if sealed[0] != Version {
				t.Errorf("version byte = %d, want %d", sealed[0], Version)
			}
			got, err := k.Open(sealed, tt.aad)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if diff := cmp.Diff(tt.plaintext, got, cmp.Comparer(bytes.Equal)); diff != "" {
				t.Errorf("Open mismatch (-want +got):\n%s", diff)
			}
			again, err := k.Seal(tt.plaintext, tt.aad)
			if err != nil {
				t.Fatalf("Seal: %v", err)
			}
			if bytes.Equal(sealed, again) {
				t.Error("two seals of the same plaintext are equal; the nonce is not random")
			}
		})
	}
}

func TestOpenFailures(t *testing.T) {
	k := mustNew(t, testKey(1))
	other := mustNew(t, testKey(2))
	aad := []byte("ca|0123456789abcdef01234567|1")
	sealed, err := k.Seal([]byte("secret key material"), aad)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte {
		b := bytes.Clone(sealed)
		b[i] ^= 0x01
		return b
	}
	tests := []struct {
		name    string
		k       *Keyring
		sealed  []byte
		aad     []byte
		wantErr error
	}{
		{"wrong aad", k, sealed, []byte("ca|0123456789abcdef01234567|2"), ErrCorrupt},
		{"missing aad", k, sealed, nil, ErrCorrupt},
		{"wrong key", other, sealed, aad, ErrWrongKey},
		{"bad version", k, flip(0), aad, ErrCorrupt},
		{"key id altered", k, flip(3), aad, ErrWrongKey},
		{"nonce altered", k, flip(headerSize), aad, ErrCorrupt},
		{"ciphertext altered", k, flip(headerSize + nonceSize), aad, ErrCorrupt},
		{"tag altered", k, flip(len(sealed) - 1), aad, ErrCorrupt},
		{"truncated", k, sealed[:len(sealed)-1], aad, ErrCorrupt},
		{"header only", k, sealed[:headerSize], aad, ErrCorrupt},
		{"empty", k, nil, aad, ErrCorrupt},
		{"appended byte", k, append(bytes.Clone(sealed), 0), aad, ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.k.Open(tt.sealed, tt.aad)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Open error = %v, want %v", err, tt.wantErr)
			}
			if got != nil {
				t.Errorf("Open returned %d bytes along with an error", len(got))
			}
		})
	}
}

func TestStringHidesKey(t *testing.T) {
	key := testKey(7)
	k := mustNew(t, key)
	for _, s := range []string{k.String(), k.GoString()} {
		if strings.Contains(s, base64.StdEncoding.EncodeToString(key)) || len(s) > 40 {
			t.Errorf("String() = %q, looks like it shows more than the key id", s)
		}
	}
	if got, want := len(k.ID()), 2*idSize; got != want {
		t.Errorf("len(ID()) = %d, want %d", got, want)
	}
}

// writeKeyFile writes content to a new file in dir with the given mode.
func writeKeyFile(t *testing.T, content string, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "master.key")
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	// WriteFile is subject to the umask; set the mode exactly.
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoad(t *testing.T) {
	key := testKey(9)
	b64 := base64.StdEncoding.EncodeToString(key)
	want := mustNew(t, key)
	tests := []struct {
		name    string
		content string
		mode    os.FileMode
		wantErr string // substring; empty for success
	}{
		{"no newline", b64, 0o600, ""},
		{"newline", b64 + "\n", 0o600, ""},
		{"crlf", b64 + "\r\n", 0o600, ""},
		{"read only", b64 + "\n", 0o400, ""},
		{"group readable", b64 + "\n", 0o640, "mode 0640"},
		{"world readable", b64 + "\n", 0o644, "mode 0644"},
		{"other writable", b64 + "\n", 0o602, "mode 0602"},
		{"short key", base64.StdEncoding.EncodeToString(key[:16]) + "\n", 0o600, "holds 16 bytes"},
		{"long key", base64.StdEncoding.EncodeToString(append(key, key...)) + "\n", 0o600, "holds 64 bytes"},
		{"not base64", strings.Repeat("!", 44) + "\n", 0o600, "not standard base64"},
		{"url base64", base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xFB}, KeySize)), 0o600, "not standard base64"},
		{"raw bytes", string(key), 0o600, "base64"},
		{"empty", "", 0o600, "holds 0 bytes"},
		{"huge", strings.Repeat("A", 4096), 0o600, "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeKeyFile(t, tt.content, tt.mode)
			k, err := Load(path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Load error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if k.ID() != want.ID() {
				t.Errorf("loaded key id %s, want %s", k.ID(), want.ID())
			}
		})
	}
}

func TestLoadMissing(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "absent.key"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load error = %v, want fs.ErrNotExist", err)
	}
}

func TestLoadDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err == nil {
		t.Fatal("Load of a directory succeeded")
	}
}

func TestCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new", "dir", "master.key")
	k, err := Create(path)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("key file mode = %#o, want 0600", got)
	}
	di, err := os.Stat(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if got := di.Mode().Perm(); got&0o077 != 0 {
		t.Errorf("key directory mode = %#o, want no group/other access", got)
	}
	content, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(content) != 45 || content[44] != '\n' {
		t.Errorf("key file = %q, want 44 base64 characters and a newline", content)
	}
	loaded, err := Load(path)
	if err != nil {
		t.Fatalf("Load after Create: %v", err)
	}
	sealed, err := k.Seal([]byte("x"), []byte("aad"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := loaded.Open(sealed, []byte("aad")); err != nil {
		t.Errorf("the loaded key does not open what the created key sealed: %v", err)
	}
}

func TestCreateNeverOverwrites(t *testing.T) {
	path := writeKeyFile(t, "precious\n", 0o600)
	if _, err := Create(path); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("Create over an existing file: error = %v, want fs.ErrExist", err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff("precious\n", string(got)); diff != "" {
		t.Errorf("existing file changed (-want +got):\n%s", diff)
	}
}

func TestCreateTwiceDiffers(t *testing.T) {
	dir := t.TempDir()
	a, err := Create(filepath.Join(dir, "a.key"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Create(filepath.Join(dir, "b.key"))
	if err != nil {
		t.Fatal(err)
	}
	if a.ID() == b.ID() {
		t.Error("two created keys are equal")
	}
}

func TestLoadOrCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.key")
	first, created, err := LoadOrCreate(path)
	if err != nil || !created {
		t.Fatalf("first LoadOrCreate = created %v, err %v; want created, nil", created, err)
	}
	second, created, err := LoadOrCreate(path)
	if err != nil || created {
		t.Fatalf("second LoadOrCreate = created %v, err %v; want loaded, nil", created, err)
	}
	if first.ID() != second.ID() {
		t.Errorf("second LoadOrCreate gave key %s, want the created %s", second.ID(), first.ID())
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreate(path); err == nil {
		t.Error("LoadOrCreate accepted a 0644 key file")
	}
}

func FuzzOpen(f *testing.F) {
	k := mustNew(f, testKey(1))
	valid, err := k.Seal([]byte("fuzz plaintext"), []byte("ca|g|1"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid, []byte("ca|g|1"))
	f.Add(valid[:Overhead], []byte(nil))
	f.Add([]byte{Version}, []byte("x"))
	f.Fuzz(func(t *testing.T, sealed, aad []byte) {
		plaintext, err := k.Open(sealed, aad)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrWrongKey) {
				t.Fatalf("Open error %v is neither ErrCorrupt nor ErrWrongKey", err)
			}
			if plaintext != nil {
				t.Fatal("Open returned plaintext along with an error")
			}
			return
		}
		// Only a genuine sealed value opens; it must survive a re-seal.
		again, err := k.Seal(plaintext, aad)
		if err != nil {
			t.Fatal(err)
		}
		got, err := k.Open(again, aad)
		if err != nil || !bytes.Equal(got, plaintext) {
			t.Fatalf("re-sealed value does not round-trip: %v", err)
		}
	})
}

func BenchmarkSeal(b *testing.B) {
	k := mustNew(b, testKey(1))
	plaintext := make([]byte, 138) // a PKCS#8 ECDSA P-256 key
	aad := []byte("ca|0123456789abcdef01234567|1")
	b.SetBytes(int64(len(plaintext)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Seal(plaintext, aad); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	k := mustNew(b, testKey(1))
	plaintext := make([]byte, 138)
	aad := []byte("ca|0123456789abcdef01234567|1")
	sealed, err := k.Seal(plaintext, aad)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(plaintext)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Open(sealed, aad); err != nil {
			b.Fatal(err)
		}
	}
}
