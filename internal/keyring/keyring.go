// Package keyring seals secrets at rest (CA private keys, Digest HA1 values)
// with AES-256-GCM under a master key read from a file.
//
// A Keyring seals with one master key and may open with older ones too (see
// WithOld), so that the master key can be rotated: values sealed under a
// retired key still open, and re-sealing them (Current tells which need it)
// retires that key.
//
// A sealed value is self-describing:
//
//	version (1 byte, = 1) || key id (8 bytes) || nonce (12 bytes) || ciphertext || tag (16 bytes)
//
// The key id is the first 8 bytes of SHA-256 of the master key: Open picks
// the key by it, and a server started without the right master key file fails
// with ErrWrongKey instead of a vague authentication failure. The caller's additional data binds a
// secret to its owner (for example "ca|<groupId>|<generation>"): a sealed
// value copied to another row does not open. The version byte and key id are
// authenticated too.
package keyring

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the length in bytes of a master key (AES-256).
const KeySize = 32

// Version is the format version written as the first byte of every sealed value.
const Version = 1

const (
	idSize     = 8
	nonceSize  = 12
	tagSize    = 16
	headerSize = 1 + idSize
)

// Overhead is the number of bytes Seal adds to a plaintext.
const Overhead = headerSize + nonceSize + tagSize

// ErrWrongKey reports a sealed value that was sealed under another master key.
var ErrWrongKey = errors.New("keyring: sealed with a different master key")

// ErrCorrupt reports a sealed value that is malformed, was altered, or is
// opened with additional data other than the one it was sealed with.
var ErrCorrupt = errors.New("keyring: sealed value is corrupt or bound to other data")

// Keyring seals secrets with one master key and opens them with that key or
// any of its older keys. It is safe for concurrent use. Its String method
// never shows a key.
type Keyring struct {
	aead cipher.AEAD
	id   [idSize]byte
	// old are the keys that open but never seal, none with the id of
	// another (WithOld refuses that).
	old []*Keyring
}

// New returns a Keyring for key, which must be KeySize bytes. The key is
// copied into the cipher; the caller may clear its slice afterwards.
func New(key []byte) (*Keyring, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("keyring: master key is %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	k := &Keyring{aead: aead}
	sum := sha256.Sum256(key)
	copy(k.id[:], sum[:idSize])
	return k, nil
}

// WithOld returns a Keyring that seals with k's sealing key and opens with
// it, with k's older keys and with the sealing keys of old, which only open.
// It refuses two keys with the same key id (the same key given twice), so
// that the key id of a sealed value names exactly one key.
func (k *Keyring) WithOld(old ...*Keyring) (*Keyring, error) {
	r := &Keyring{aead: k.aead, id: k.id, old: append([]*Keyring(nil), k.old...)}
	for _, o := range old {
		r.old = append(r.old, &Keyring{aead: o.aead, id: o.id})
		r.old = append(r.old, o.old...)
	}
	seen := map[[idSize]byte]bool{r.id: true}
	for _, o := range r.old {
		if seen[o.id] {
			return nil, fmt.Errorf("keyring: master key %s is configured twice", hex.EncodeToString(o.id[:]))
		}
		seen[o.id] = true
	}
	return r, nil
}

// ID returns the key id (hex) of the sealing key, which identifies the
// master key without revealing it; it is safe to log.
func (k *Keyring) ID() string { return hex.EncodeToString(k.id[:]) }

// OldIDs returns the key ids of the keys that only open, in the order given.
func (k *Keyring) OldIDs() []string {
	ids := make([]string, len(k.old))
	for i, o := range k.old {
		ids[i] = o.ID()
	}
	return ids
}

// SealedID returns the key id (hex) written in a sealed value, or "" when
// the value is too short or of an unknown version to hold one.
func SealedID(sealed []byte) string {
	if len(sealed) < Overhead || sealed[0] != Version {
		return ""
	}
	return hex.EncodeToString(sealed[1:headerSize])
}

// Current reports whether sealed names the sealing key: a value that does
// not needs re-sealing before the key it names is dropped. It does not
// authenticate the value (Open does).
func (k *Keyring) Current(sealed []byte) bool {
	return len(sealed) >= Overhead && sealed[0] == Version &&
		subtle.ConstantTimeCompare(sealed[1:headerSize], k.id[:]) == 1
}

// Names reports whether sealed names one of k's keys, sealing or old, so
// that Open can try it. It does not authenticate the value (Open does).
func (k *Keyring) Names(sealed []byte) bool {
	return len(sealed) >= Overhead && sealed[0] == Version && k.keyFor(sealed[1:headerSize]) != nil
}

// String implements fmt.Stringer without revealing the key.
func (k *Keyring) String() string {
	if len(k.old) == 0 {
		return "keyring(" + k.ID() + ")"
	}
	return "keyring(" + k.ID() + ", old " + strings.Join(k.OldIDs(), ",") + ")"
}

// GoString implements fmt.GoStringer so that %#v does not print the key schedule.
func (k *Keyring) GoString() string { return k.String() }

// Seal encrypts plaintext and binds it to aad. Each call uses a fresh random
// nonce, so sealing the same plaintext twice gives different outputs.
func (k *Keyring) Seal(plaintext, aad []byte) ([]byte, error) {
	out := make([]byte, headerSize+nonceSize, Overhead+len(plaintext))
	out[0] = Version
	copy(out[1:headerSize], k.id[:])
	nonce := out[headerSize : headerSize+nonceSize]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("keyring: nonce: %w", err)
	}
	return k.aead.Seal(out, nonce, plaintext, k.additionalData(out[:headerSize], aad)), nil
}

// Open decrypts a value made by Seal with the same aad, with the key whose
// id the value names: the sealing key or an old one. It returns an error
// matching ErrWrongKey when none of k's keys has that id, and ErrCorrupt for
// any other failure.
func (k *Keyring) Open(sealed, aad []byte) ([]byte, error) {
	if len(sealed) < Overhead || sealed[0] != Version {
		return nil, ErrCorrupt
	}
	key := k.keyFor(sealed[1:headerSize])
	if key == nil {
		return nil, fmt.Errorf("%w (the value names master key %s; configured: %s)", ErrWrongKey, SealedID(sealed), k.configured())
	}
	return key.open(sealed, aad)
}

// keyFor returns the key whose id is id, or nil. Every key is compared, in
// constant time, so that the time taken does not tell which matched.
func (k *Keyring) keyFor(id []byte) *Keyring {
	var found *Keyring
	if subtle.ConstantTimeCompare(id, k.id[:]) == 1 {
		found = k
	}
	for _, o := range k.old {
		if subtle.ConstantTimeCompare(id, o.id[:]) == 1 {
			found = o
		}
	}
	return found
}

// configured lists the key ids k opens with, for error messages.
func (k *Keyring) configured() string {
	return strings.Join(append([]string{k.ID()}, k.OldIDs()...), ", ")
}

// open decrypts with k's own key, whose id the value names.
func (k *Keyring) open(sealed, aad []byte) ([]byte, error) {
	nonce := sealed[headerSize : headerSize+nonceSize]
	plaintext, err := k.aead.Open(nil, nonce, sealed[headerSize+nonceSize:], k.additionalData(sealed[:headerSize], aad))
	if err != nil {
		return nil, ErrCorrupt
	}
	return plaintext, nil
}

// additionalData is the GCM additional data: the header followed by the
// caller's aad, so that the version and key id are authenticated too.
func (k *Keyring) additionalData(header, aad []byte) []byte {
	ad := make([]byte, 0, len(header)+len(aad))
	ad = append(ad, header...)
	return append(ad, aad...)
}

// Load reads the master key file at path: KeySize bytes in standard base64,
// optionally followed by a newline. It refuses a file that the group or
// others may access, since the key unlocks every CA of the server.
func Load(path string) (*Keyring, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("keyring: open master key: %w", err)
	}
	defer f.Close()
	// Stat the open file, not the path, so the checked file is the read one.
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("keyring: stat master key: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("keyring: master key %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("keyring: master key %s has mode %#o: group and others must have no access (chmod 600)", path, perm)
	}
	// A valid file is 45 bytes; read one byte past the limit to detect a
	// larger file without reading all of it.
	const maxFile = 128
	buf, err := io.ReadAll(io.LimitReader(f, maxFile+1))
	defer clear(buf)
	if err != nil {
		return nil, fmt.Errorf("keyring: read master key: %w", err)
	}
	if len(buf) > maxFile {
		return nil, fmt.Errorf("keyring: master key %s is larger than %d bytes: not a key file", path, maxFile)
	}
	text := buf
	text = bytes.TrimSuffix(text, []byte("\n"))
	text = bytes.TrimSuffix(text, []byte("\r"))
	key := make([]byte, base64.StdEncoding.DecodedLen(len(text)))
	defer clear(key)
	n, err := base64.StdEncoding.Decode(key, text)
	if err != nil {
		return nil, fmt.Errorf("keyring: master key %s is not standard base64 text", path)
	}
	if n != KeySize {
		return nil, fmt.Errorf("keyring: master key %s holds %d bytes, want %d", path, n, KeySize)
	}
	return New(key[:n])
}

// Create makes a new master key file at path from crypto/rand, with mode
// 0600, creating its parent directory with mode 0700 when missing. It never
// overwrites: an existing file gives an error matching fs.ErrExist. The file
// and its directory are synced before Create returns, so a key that sealed
// data is not lost in a crash.
func Create(path string) (*Keyring, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("keyring: create key directory: %w", err)
	}
	key := make([]byte, KeySize)
	defer clear(key)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("keyring: generate master key: %w", err)
	}
	text := make([]byte, base64.StdEncoding.EncodedLen(KeySize)+1)
	defer clear(text)
	base64.StdEncoding.Encode(text, key)
	text[len(text)-1] = '\n'

	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("keyring: create master key: %w", err)
	}
	if err := writeSync(f, text); err != nil {
		// The file is ours (O_EXCL): remove it so that a retry starts clean.
		os.Remove(path)
		return nil, fmt.Errorf("keyring: write master key %s: %w", path, err)
	}
	syncDir(dir)
	return New(key)
}

// writeSync writes b to f, syncs and closes it.
func writeSync(f *os.File, b []byte) error {
	_, err := f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir makes the new directory entry durable. It is best effort: some
// systems cannot sync a directory, and the file itself is already synced.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}

// LoadOrCreate loads the master key file at path, or creates it when it does
// not exist; created reports which happened, so that the caller can warn that
// a production master key belongs elsewhere.
func LoadOrCreate(path string) (k *Keyring, created bool, err error) {
	k, err = Load(path)
	if err == nil {
		return k, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	k, err = Create(path)
	if errors.Is(err, fs.ErrExist) {
		// Another process created it between our Load and Create.
		k, err = Load(path)
		return k, false, err
	}
	if err != nil {
		return nil, false, err
	}
	return k, true, nil
}
