package pki

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// now is the fixed issue time of every test: the time of Atlas's recorded
// certificate in the contract notes.
var now = time.Date(2026, 8, 10, 3, 6, 35, 0, time.UTC)

const testGroupID = "0123456789abcdef01234567"

// Generated once in TestMain: key generation is the slow part of issuance.
var (
	testCADER   []byte
	testCAKey   []byte
	testCA      *CA
	testRSACA   *CA // an RSA 2048 CA, to check that leaves take the CA's algorithm
	testLeafKey = map[KeyType]crypto.Signer{}
)

func TestMain(m *testing.M) {
	if err := setup(); err != nil {
		fmt.Fprintln(os.Stderr, "pki tests setup:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

func setup() error {
	var err error
	testCADER, testCAKey, err = NewCA(testGroupID, now, rand.Reader)
	if err != nil {
		return err
	}
	if testCA, err = ParseCA(testCADER, testCAKey); err != nil {
		return err
	}
	if testRSACA, err = newCAOfType(RSA2048, now); err != nil {
		return err
	}
	for _, t := range []KeyType{ECDSAP256, ECDSAP384, RSA2048} {
		if testLeafKey[t], err = (Generator{}).NewKey(context.Background(), t); err != nil {
			return err
		}
	}
	return nil
}

// newCAOfType makes a CA like NewCA's but with a key of type t, for the
// tests and benchmarks that compare CA key types.
func newCAOfType(t KeyType, now time.Time) (*CA, error) {
	key, err := generateKey(t, rand.Reader)
	if err != nil {
		return nil, err
	}
	subject, err := asn1.Marshal(caSubject(testGroupID))
	if err != nil {
		return nil, err
	}
	ski, err := subjectKeyID(key.Public())
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		RawSubject:            subject,
		NotBefore:             now.Add(-Backdate),
		NotAfter:              now.AddDate(CAValidity, 0, 0),
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		SubjectKeyId:          ski,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return ParseCA(der, keyDER)
}

// wantCASubject is the DER Atlas's issuer order demands, built here
// independently of caSubject.
func wantCASubject(t testing.TB, groupID string) []byte {
	t.Helper()
	der, err := asn1.Marshal(pkix.RDNSequence{
		{{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: groupID}},
		{{Type: asn1.ObjectIdentifier{2, 5, 4, 11}, Value: "Atlas"}},
		{{Type: asn1.ObjectIdentifier{2, 5, 4, 10}, Value: "atlasx509"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// rfc7093KeyID computes the RFC 7093 method 1 key identifier from the key
// itself, not from an encoded certificate.
func rfc7093KeyID(t testing.TB, pub crypto.PublicKey) []byte {
	t.Helper()
	var bits []byte
	switch pub := pub.(type) {
	case *ecdsa.PublicKey:
		k, err := pub.ECDH()
		if err != nil {
			t.Fatal(err)
		}
		bits = k.Bytes() // the uncompressed point
	case *rsa.PublicKey:
		bits = x509.MarshalPKCS1PublicKey(pub) // RSAPublicKey
	default:
		t.Fatalf("unexpected key type %T", pub)
	}
	sum := sha256.Sum256(bits)
	return sum[:20]
}

// extensions maps each extension OID of c to its critical flag.
func extensions(c *x509.Certificate) map[string]bool {
	m := make(map[string]bool, len(c.Extensions))
	for _, e := range c.Extensions {
		m[e.Id.String()] = e.Critical
	}
	return m
}

// extensionValue returns the DER value of c's extension oid, or nil.
func extensionValue(c *x509.Certificate, oid string) []byte {
	for _, e := range c.Extensions {
		if e.Id.String() == oid {
			return e.Value
		}
	}
	return nil
}

// Extension OIDs used in the checks.
const (
	extSKI = "2.5.29.14"
	extKU  = "2.5.29.15"
	extSAN = "2.5.29.17"
	extBC  = "2.5.29.19"
	extAKI = "2.5.29.35"
	extEKU = "2.5.29.37"
)

func TestParseKeyType(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    KeyType
		wantErr bool
	}{
		{"RSA4096", RSA4096, false},
		{"RSA3072", RSA3072, false},
		{"RSA2048", RSA2048, false},
		{"ECDSA_P256", ECDSAP256, false},
		{"ECDSA_P384", ECDSAP384, false},
		{"", "", true},
		{"rsa4096", "", true},
		{"RSA1024", "", true},
		{"ECDSA_P521", "", true},
		{"ED25519", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseKeyType(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrKeyType) {
					t.Fatalf("ParseKeyType(%q) error = %v, want ErrKeyType", tt.in, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseKeyType(%q) = %q, %v; want %q, nil", tt.in, got, err, tt.want)
			}
		})
	}
	if DefaultKeyType != RSA4096 || KeyTypes()[0] != DefaultKeyType {
		t.Errorf("DefaultKeyType = %q and KeyTypes()[0] = %q, want RSA4096", DefaultKeyType, KeyTypes()[0])
	}
}

func TestGeneratorNewKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kt       KeyType
		wantRSA  int    // modulus bits, 0 for ECDSA
		wantEC   string // curve name, "" for RSA
		slowSkip bool
	}{
		{RSA2048, 2048, "", false},
		{RSA3072, 3072, "", true},
		{RSA4096, 4096, "", true},
		{ECDSAP256, 0, "P-256", false},
		{ECDSAP384, 0, "P-384", false},
	}
	for _, tt := range tests {
		t.Run(string(tt.kt), func(t *testing.T) {
			if tt.slowSkip && testing.Short() {
				t.Skip("slow RSA key generation; run without -short")
			}
			key, err := Generator{}.NewKey(context.Background(), tt.kt)
			if err != nil {
				t.Fatalf("NewKey: %v", err)
			}
			switch k := key.(type) {
			case *rsa.PrivateKey:
				if got := k.N.BitLen(); got != tt.wantRSA {
					t.Errorf("RSA modulus = %d bits, want %d", got, tt.wantRSA)
				}
			case *ecdsa.PrivateKey:
				if got := k.Curve.Params().Name; got != tt.wantEC {
					t.Errorf("curve = %s, want %s", got, tt.wantEC)
				}
			default:
				t.Fatalf("key type %T", key)
			}
		})
	}
}

func TestGeneratorNewKeyErrors(t *testing.T) {
	t.Parallel()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name    string
		ctx     context.Context
		kt      KeyType
		wantErr error
	}{
		{"cancelled", cancelled, ECDSAP256, context.Canceled},
		{"cancelled RSA", cancelled, RSA4096, context.Canceled},
		{"unknown type", context.Background(), "DSA1024", ErrKeyType},
		{"empty type", context.Background(), "", ErrKeyType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := Generator{}.NewKey(tt.ctx, tt.kt)
			if !errors.Is(err, tt.wantErr) || key != nil {
				t.Fatalf("NewKey = %v, %v; want nil, %v", key, err, tt.wantErr)
			}
		})
	}
}

func TestNewCA(t *testing.T) {
	t.Parallel()
	cert, err := x509.ParseCertificate(testCADER)
	if err != nil {
		t.Fatal(err)
	}
	wantSubject := wantCASubject(t, testGroupID)
	if diff := cmp.Diff(hex.EncodeToString(wantSubject), hex.EncodeToString(cert.RawSubject)); diff != "" {
		t.Errorf("subject DER (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(hex.EncodeToString(wantSubject), hex.EncodeToString(cert.RawIssuer)); diff != "" {
		t.Errorf("issuer DER (-want +got):\n%s", diff)
	}
	// RFC 2253 lists the RDNs last first, as Atlas's "O=MongoDB Inc,OU=Atlas,CN=<groupId>".
	// (pkix.Name loses the order: parse the raw sequence.)
	var rdns pkix.RDNSequence
	if _, err := asn1.Unmarshal(cert.RawSubject, &rdns); err != nil {
		t.Fatal(err)
	}
	if got, want := rdns.String(), "O=atlasx509,OU=Atlas,CN="+testGroupID; got != want {
		t.Errorf("subject = %q, want %q", got, want)
	}
	if err := cert.CheckSignatureFrom(cert); err != nil {
		t.Errorf("self-signature: %v", err)
	}
	if cert.SerialNumber.Sign() <= 0 || len(cert.SerialNumber.Bytes()) > 16 {
		t.Errorf("serial %x: want positive and at most 16 bytes", cert.SerialNumber)
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		t.Fatalf("CA key is %T, want ECDSA P-256", cert.PublicKey)
	}
	type summary struct {
		Version        int
		SigAlg         x509.SignatureAlgorithm
		NotBefore      time.Time
		NotAfter       time.Time
		IsCA           bool
		MaxPathLen     int
		MaxPathLenZero bool
		KeyUsage       x509.KeyUsage
		ExtKeyUsage    []x509.ExtKeyUsage
		SKI            string
		AKI            string
		Extensions     map[string]bool
	}
	want := summary{
		Version:        3,
		SigAlg:         x509.ECDSAWithSHA256,
		NotBefore:      time.Date(2026, 8, 10, 2, 6, 35, 0, time.UTC),
		NotAfter:       time.Date(2036, 8, 10, 3, 6, 35, 0, time.UTC),
		IsCA:           true,
		MaxPathLen:     0,
		MaxPathLenZero: true,
		KeyUsage:       x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		SKI:            hex.EncodeToString(rfc7093KeyID(t, pub)),
		Extensions:     map[string]bool{extSKI: false, extKU: true, extBC: true},
	}
	got := summary{
		Version:        cert.Version,
		SigAlg:         cert.SignatureAlgorithm,
		NotBefore:      cert.NotBefore,
		NotAfter:       cert.NotAfter,
		IsCA:           cert.IsCA && cert.BasicConstraintsValid,
		MaxPathLen:     cert.MaxPathLen,
		MaxPathLenZero: cert.MaxPathLenZero,
		KeyUsage:       cert.KeyUsage,
		ExtKeyUsage:    cert.ExtKeyUsage,
		SKI:            hex.EncodeToString(cert.SubjectKeyId),
		AKI:            hex.EncodeToString(cert.AuthorityKeyId),
		Extensions:     extensions(cert),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("CA certificate (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(testCA.Cert.Raw, testCADER); diff != "" {
		t.Errorf("ParseCA certificate differs from the DER (-want +got):\n%s", diff)
	}
}

func TestNewCASerialsDiffer(t *testing.T) {
	t.Parallel()
	a, _, err := NewCA(testGroupID, now, nil)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(a)
	if err != nil {
		t.Fatal(err)
	}
	if ca.SerialNumber.Cmp(testCA.Cert.SerialNumber) == 0 {
		t.Error("two CAs got the same serial")
	}
}

func TestNewCAErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		groupID string
		rnd     io.Reader
	}{
		{"empty group id", "", nil},
		{"invalid UTF-8", "\xff\xfe", nil},
		{"random source of zeros", testGroupID, zeroReader{}},
		{"random source fails", testGroupID, iotest.ErrReader(errors.New("boom"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := NewCA(tt.groupID, now, tt.rnd); err == nil {
				t.Fatal("NewCA succeeded, want an error")
			}
		})
	}
}

// zeroReader is a broken random source that yields only zeros.
type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestParseCA(t *testing.T) {
	t.Parallel()
	otherDER, otherKey, err := NewCA(testGroupID, now, nil)
	if err != nil {
		t.Fatal(err)
	}
	leafDER, err := testCA.IssueLeaf(LeafRequest{Username: "alice", Months: 3, Now: now, Serial: 7, Key: testLeafKey[ECDSAP256]}, nil)
	if err != nil {
		t.Fatal(err)
	}
	leafKey, err := x509.MarshalPKCS8PrivateKey(testLeafKey[ECDSAP256])
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		cert     []byte
		key      []byte
		wantErr  error // nil: any error
		wantPass bool
	}{
		{"matching", testCADER, testCAKey, nil, true},
		{"other CA's key", testCADER, otherKey, ErrKeyMismatch, false},
		{"other CA's cert", otherDER, testCAKey, ErrKeyMismatch, false},
		{"a leaf is not a CA", leafDER, leafKey, nil, false},
		{"garbage certificate", []byte("not DER"), testCAKey, nil, false},
		{"garbage key", testCADER, []byte("not DER"), nil, false},
		{"key swapped for cert", testCAKey, testCADER, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ca, err := ParseCA(tt.cert, tt.key)
			if tt.wantPass {
				if err != nil {
					t.Fatalf("ParseCA: %v", err)
				}
				if ca.Cert == nil || ca.Signer == nil {
					t.Fatal("ParseCA returned an incomplete CA")
				}
				return
			}
			if err == nil {
				t.Fatal("ParseCA succeeded, want an error")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseCA error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestSubjectKeyIDMatchesStdlib(t *testing.T) {
	t.Parallel()
	// Go 1.25+ derives a CA's missing SubjectKeyId by RFC 7093 method 1 as
	// well; both must agree.
	for kt, key := range testLeafKey {
		t.Run(string(kt), func(t *testing.T) {
			got, err := subjectKeyID(key.Public())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(hex.EncodeToString(rfc7093KeyID(t, key.Public())), hex.EncodeToString(got)); diff != "" {
				t.Errorf("key id (-want +got):\n%s", diff)
			}
		})
	}
}
