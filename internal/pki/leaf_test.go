package pki

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// cnOnlyDER is the DER of a name holding one RDN with one commonName of
// ASN.1 string type tag, encoded by hand (short lengths only).
func cnOnlyDER(tag byte, value string) []byte {
	atv := append([]byte{0x06, 0x03, 0x55, 0x04, 0x03, tag, byte(len(value))}, value...)
	seq := append([]byte{0x30, byte(len(atv))}, atv...)
	set := append([]byte{0x31, byte(len(seq))}, seq...)
	return append([]byte{0x30, byte(len(set))}, set...)
}

const (
	tagUTF8String      = 0x0c
	tagPrintableString = 0x13
	// The extension values Atlas's certificates carry.
	kuDigitalSignatureDER = "03020780"                 // BIT STRING, digitalSignature
	ekuClientAuthDER      = "300a06082b06010505070302" // SEQUENCE { id-kp-clientAuth }
)

// verifyLeaf checks der as a client certificate of ca at time at and returns it parsed.
func verifyLeaf(t *testing.T, ca *CA, der []byte, at time.Time) *x509.Certificate {
	t.Helper()
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("ParseCertificate: %v", err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	opts := x509.VerifyOptions{Roots: roots, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if _, err := cert.Verify(opts); err != nil {
		t.Fatalf("Verify as a client certificate: %v", err)
	}
	opts.KeyUsages = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	if _, err := cert.Verify(opts); err == nil {
		t.Error("the certificate verifies for server authentication; want client authentication only")
	}
	return cert
}

func TestIssueLeaf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		ca         *CA
		key        KeyType
		username   string
		months     int
		serial     int64
		wantTag    byte
		wantAfter  time.Time
		wantSigAlg x509.SignatureAlgorithm
	}{
		{"P-256 leaf, Atlas recording", testCA, ECDSAP256, "user389", 3, 1976722359483124370, tagPrintableString,
			time.Date(2026, 11, 10, 3, 6, 35, 0, time.UTC), x509.ECDSAWithSHA256},
		{"RSA 2048 leaf, 1 month", testCA, RSA2048, "alice", 1, 1, tagPrintableString,
			time.Date(2026, 9, 10, 3, 6, 35, 0, time.UTC), x509.ECDSAWithSHA256},
		{"P-384 leaf, 24 months", testCA, ECDSAP384, "bob", 24, 1<<63 - 1, tagPrintableString,
			time.Date(2028, 8, 10, 3, 6, 35, 0, time.UTC), x509.ECDSAWithSHA256},
		{"UTF-8 username", testCA, ECDSAP256, "josé", 3, 42, tagUTF8String,
			time.Date(2026, 11, 10, 3, 6, 35, 0, time.UTC), x509.ECDSAWithSHA256},
		{"username with @", testCA, ECDSAP256, "app@example.com", 12, 43, tagUTF8String,
			time.Date(2027, 8, 10, 3, 6, 35, 0, time.UTC), x509.ECDSAWithSHA256},
		{"DN metacharacters", testCA, RSA2048, `a,b+c"d`, 6, 44, tagUTF8String,
			time.Date(2027, 2, 10, 3, 6, 35, 0, time.UTC), x509.ECDSAWithSHA256},
		{"RSA CA signs with its algorithm", testRSACA, ECDSAP256, "carol", 3, 45, tagPrintableString,
			time.Date(2026, 11, 10, 3, 6, 35, 0, time.UTC), x509.SHA256WithRSA},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := testLeafKey[tt.key]
			der, err := tt.ca.IssueLeaf(LeafRequest{
				Username: tt.username, Months: tt.months, Now: now, Serial: tt.serial, Key: key,
			}, nil)
			if err != nil {
				t.Fatalf("IssueLeaf: %v", err)
			}
			cert := verifyLeaf(t, tt.ca, der, now)
			checkLeaf(t, tt.ca, cert, key)

			if got := cert.SerialNumber; !got.IsInt64() || got.Int64() != tt.serial {
				t.Errorf("serial = %v, want %d", got, tt.serial)
			}
			if diff := cmp.Diff(hex.EncodeToString(cnOnlyDER(tt.wantTag, tt.username)), hex.EncodeToString(cert.RawSubject)); diff != "" {
				t.Errorf("subject DER is not exactly CN=%q (-want +got):\n%s", tt.username, diff)
			}
			if diff := cmp.Diff(hex.EncodeToString(wantCASubject(t, testGroupID)), hex.EncodeToString(cert.RawIssuer)); diff != "" {
				t.Errorf("issuer DER order is not CN, OU, O (-want +got):\n%s", diff)
			}
			if want := now.Add(-time.Hour); !cert.NotBefore.Equal(want) {
				t.Errorf("NotBefore = %v, want %v", cert.NotBefore, want)
			}
			if !cert.NotAfter.Equal(tt.wantAfter) {
				t.Errorf("NotAfter = %v, want %v", cert.NotAfter, tt.wantAfter)
			}
			if cert.SignatureAlgorithm != tt.wantSigAlg {
				t.Errorf("signature algorithm = %v, want %v", cert.SignatureAlgorithm, tt.wantSigAlg)
			}
		})
	}
}

// checkLeaf checks what every issued certificate shares: version,
// extensions and their criticality, key identifiers and the public key.
func checkLeaf(t *testing.T, ca *CA, cert *x509.Certificate, key crypto.Signer) {
	t.Helper()
	type summary struct {
		Version     int
		Extensions  map[string]bool
		KeyUsage    x509.KeyUsage
		KUValue     string
		ExtKeyUsage []x509.ExtKeyUsage
		EKUValue    string
		IsCA        bool
		SKI         string
		AKI         string
		DNSNames    []string
	}
	want := summary{
		Version: 3,
		// Exactly these four: no subject alternative name, no basic constraints.
		Extensions:  map[string]bool{extKU: true, extEKU: true, extSKI: false, extAKI: false},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		KUValue:     kuDigitalSignatureDER,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		EKUValue:    ekuClientAuthDER,
		SKI:         hex.EncodeToString(rfc7093KeyID(t, key.Public())),
		AKI:         hex.EncodeToString(ca.Cert.SubjectKeyId),
	}
	got := summary{
		Version:     cert.Version,
		Extensions:  extensions(cert),
		KeyUsage:    cert.KeyUsage,
		KUValue:     hex.EncodeToString(extensionValue(cert, extKU)),
		ExtKeyUsage: cert.ExtKeyUsage,
		EKUValue:    hex.EncodeToString(extensionValue(cert, extEKU)),
		IsCA:        cert.IsCA,
		SKI:         hex.EncodeToString(cert.SubjectKeyId),
		AKI:         hex.EncodeToString(cert.AuthorityKeyId),
		DNSNames:    cert.DNSNames,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("certificate (-want +got):\n%s", diff)
	}
	if _, ok := extensions(cert)[extSAN]; ok {
		t.Error("certificate has a subject alternative name")
	}
	if _, ok := extensions(cert)[extBC]; ok {
		t.Error("certificate has basic constraints")
	}
	if pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(cert.PublicKey) {
		t.Error("certificate public key is not the request's key")
	}
}

func TestIssueLeafRSA4096(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("RSA 4096 key generation takes about a second; run without -short")
	}
	key, err := Generator{}.NewKey(context.Background(), DefaultKeyType)
	if err != nil {
		t.Fatal(err)
	}
	der, err := testCA.IssueLeaf(LeafRequest{Username: "user389", Months: 3, Now: now, Serial: 1976722359483124370, Key: key}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cert := verifyLeaf(t, testCA, der, now)
	checkLeaf(t, testCA, cert, key)
	requireLintClean(t, der, nil)
	body, err := EncodeCertAndKeyPEM(der, key)
	if err != nil {
		t.Fatal(err)
	}
	// Atlas's answer with an RSA 4096 key and an RSA CA is about 5073 bytes;
	// ours is smaller by the shorter ECDSA issuer signature.
	if n := len(body); n < 4000 || n > 5200 {
		t.Errorf("answer is %d bytes, want about 4.5 KB", n)
	}
}

func TestIssueLeafValidityWindow(t *testing.T) {
	t.Parallel()
	der, err := testCA.IssueLeaf(LeafRequest{Username: "alice", Months: 1, Now: now, Serial: 9, Key: testLeafKey[ECDSAP256]}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(testCA.Cert)
	tests := []struct {
		name  string
		at    time.Time
		valid bool
	}{
		{"issue time", now, true},
		{"backdated hour start", now.Add(-time.Hour), true},
		{"before the backdate", now.Add(-time.Hour - time.Second), false},
		{"last second", time.Date(2026, 9, 10, 3, 6, 35, 0, time.UTC), true},
		{"expired", time.Date(2026, 9, 10, 3, 6, 36, 0, time.UTC), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := cert.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: tt.at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
			if (err == nil) != tt.valid {
				t.Errorf("Verify at %v: err = %v, want valid = %v", tt.at, err, tt.valid)
			}
		})
	}
}

func TestIssueLeafTruncatesToSeconds(t *testing.T) {
	t.Parallel()
	at := now.Add(999 * time.Millisecond)
	der, err := testCA.IssueLeaf(LeafRequest{Username: "alice", Months: 3, Now: at, Serial: 10, Key: testLeafKey[ECDSAP256]}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if want := now.Add(-time.Hour); !cert.NotBefore.Equal(want) {
		t.Errorf("NotBefore = %v, want %v", cert.NotBefore, want)
	}
}

func TestIssueLeafErrors(t *testing.T) {
	t.Parallel()
	key := testLeafKey[ECDSAP256]
	// The CA ends 2036-08-10 03:06:35: a 24-month certificate issued two
	// years before ends exactly then, one second later is too late.
	lastFit := time.Date(2034, 8, 10, 3, 6, 35, 0, time.UTC)
	valid := LeafRequest{Username: "alice", Months: 3, Now: now, Serial: 1, Key: key}
	with := func(f func(*LeafRequest)) LeafRequest {
		r := valid
		f(&r)
		return r
	}
	tests := []struct {
		name    string
		ca      *CA
		req     LeafRequest
		wantErr error // nil: success
		anyErr  bool  // an error without a sentinel
	}{
		{"valid", testCA, valid, nil, false},
		{"months 0", testCA, with(func(r *LeafRequest) { r.Months = 0 }), ErrMonths, false},
		{"months -1", testCA, with(func(r *LeafRequest) { r.Months = -1 }), ErrMonths, false},
		{"months 25", testCA, with(func(r *LeafRequest) { r.Months = 25 }), ErrMonths, false},
		{"months 1", testCA, with(func(r *LeafRequest) { r.Months = 1 }), nil, false},
		{"months 24", testCA, with(func(r *LeafRequest) { r.Months = 24 }), nil, false},
		{"empty username", testCA, with(func(r *LeafRequest) { r.Username = "" }), ErrUsername, false},
		{"invalid UTF-8 username", testCA, with(func(r *LeafRequest) { r.Username = "a\xffb" }), ErrUsername, false},
		{"serial 0", testCA, with(func(r *LeafRequest) { r.Serial = 0 }), ErrSerial, false},
		{"negative serial", testCA, with(func(r *LeafRequest) { r.Serial = -5 }), ErrSerial, false},
		{"ends with the CA", testCA, with(func(r *LeafRequest) { r.Now, r.Months = lastFit, 24 }), nil, false},
		{"ends a second after the CA", testCA, with(func(r *LeafRequest) { r.Now, r.Months = lastFit.Add(time.Second), 24 }), ErrBeyondCA, false},
		{"ends a year after the CA", testCA, with(func(r *LeafRequest) { r.Now = now.AddDate(10, 0, 0) }), ErrBeyondCA, false},
		{"no key", testCA, with(func(r *LeafRequest) { r.Key = nil }), nil, true},
		{"no CA", nil, valid, nil, true},
		{"CA without signer", &CA{Cert: testCA.Cert}, valid, nil, true},
		{"signer of another CA", &CA{Cert: testCA.Cert, Signer: testRSACA.Signer}, valid, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			der, err := tt.ca.IssueLeaf(tt.req, nil)
			switch {
			case tt.anyErr:
				if err == nil {
					t.Fatal("IssueLeaf succeeded, want an error")
				}
			case tt.wantErr == nil:
				if err != nil {
					t.Fatalf("IssueLeaf: %v", err)
				}
				verifyLeaf(t, testCA, der, tt.req.Now)
			default:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("IssueLeaf error = %v, want %v", err, tt.wantErr)
				}
			}
			if err != nil && der != nil {
				t.Error("IssueLeaf returned a certificate along with an error")
			}
		})
	}
}

func TestAddMonths(t *testing.T) {
	t.Parallel()
	paris := time.FixedZone("UTC+2", 2*60*60)
	tests := []struct {
		name string
		t    time.Time
		n    int
		want time.Time
	}{
		{"Atlas recording", now, 3, time.Date(2026, 11, 10, 3, 6, 35, 0, time.UTC)},
		{"zero", now, 0, now},
		{"Jan 31 to Feb 28", time.Date(2027, 1, 31, 12, 0, 0, 0, time.UTC), 1, time.Date(2027, 2, 28, 12, 0, 0, 0, time.UTC)},
		{"Jan 31 to leap Feb 29", time.Date(2028, 1, 31, 12, 0, 0, 0, time.UTC), 1, time.Date(2028, 2, 29, 12, 0, 0, 0, time.UTC)},
		{"Feb 29 plus a year", time.Date(2028, 2, 29, 8, 0, 0, 0, time.UTC), 12, time.Date(2029, 2, 28, 8, 0, 0, 0, time.UTC)},
		{"Feb 29 plus four years", time.Date(2028, 2, 29, 8, 0, 0, 0, time.UTC), 48, time.Date(2032, 2, 29, 8, 0, 0, 0, time.UTC)},
		{"Mar 31 to Apr 30", time.Date(2027, 3, 31, 0, 0, 0, 0, time.UTC), 1, time.Date(2027, 4, 30, 0, 0, 0, 0, time.UTC)},
		{"Oct 31 to Feb 28", time.Date(2026, 10, 31, 23, 59, 59, 0, time.UTC), 4, time.Date(2027, 2, 28, 23, 59, 59, 0, time.UTC)},
		{"year wrap", time.Date(2026, 12, 15, 1, 2, 3, 0, time.UTC), 1, time.Date(2027, 1, 15, 1, 2, 3, 0, time.UTC)},
		{"24 months", time.Date(2026, 8, 31, 0, 0, 0, 0, time.UTC), 24, time.Date(2028, 8, 31, 0, 0, 0, 0, time.UTC)},
		{"Dec 31 plus 2", time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC), 2, time.Date(2027, 2, 28, 0, 0, 0, 0, time.UTC)},
		{"minus one", time.Date(2027, 3, 31, 0, 0, 0, 0, time.UTC), -1, time.Date(2027, 2, 28, 0, 0, 0, 0, time.UTC)},
		{"minus thirteen", time.Date(2027, 1, 15, 0, 0, 0, 0, time.UTC), -13, time.Date(2025, 12, 15, 0, 0, 0, 0, time.UTC)},
		{"minus twelve", time.Date(2027, 1, 15, 0, 0, 0, 0, time.UTC), -12, time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)},
		{"keeps nanoseconds", time.Date(2026, 1, 31, 1, 2, 3, 456, time.UTC), 1, time.Date(2026, 2, 28, 1, 2, 3, 456, time.UTC)},
		{"keeps location", time.Date(2026, 5, 31, 1, 0, 0, 0, paris), 1, time.Date(2026, 6, 30, 1, 0, 0, 0, paris)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AddMonths(tt.t, tt.n)
			if !got.Equal(tt.want) || got.Location() != tt.want.Location() {
				t.Errorf("AddMonths(%v, %d) = %v, want %v", tt.t, tt.n, got, tt.want)
			}
		})
	}
}

func TestRandomSerial(t *testing.T) {
	t.Parallel()
	zeros8 := make([]byte, 8)
	tests := []struct {
		name    string
		rnd     io.Reader
		want    int64
		wantErr bool
	}{
		{"top bit cleared", bytes.NewReader(bytes.Repeat([]byte{0xff}, 8)), 1<<63 - 1, false},
		{"Atlas recording", bytes.NewReader([]byte{0x1b, 0x6e, 0xba, 0x83, 0x48, 0x90, 0x4a, 0x92}), 1976722359483124370, false},
		{"only the top bit", bytes.NewReader([]byte{0x80, 0, 0, 0, 0, 0, 0, 1}), 1, false},
		{"zero is drawn again", bytes.NewReader(append(append([]byte{}, zeros8...), 0, 0, 0, 0, 0, 0, 0, 2)), 2, false},
		{"top bit only is zero", bytes.NewReader(append([]byte{0x80, 0, 0, 0, 0, 0, 0, 0}, 0, 0, 0, 0, 0, 0, 0, 3)), 3, false},
		{"only zeros", zeroReader{}, 0, true},
		{"short read", bytes.NewReader([]byte{1, 2, 3}), 0, true},
		{"reader error", iotest.ErrReader(errors.New("boom")), 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RandomSerial(tt.rnd)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("RandomSerial = %d, %v; want %d, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
	for range 100 {
		s, err := RandomSerial(nil)
		if err != nil || s <= 0 {
			t.Fatalf("RandomSerial(nil) = %d, %v; want positive", s, err)
		}
	}
}

func TestEncodeCertAndKeyPEM(t *testing.T) {
	t.Parallel()
	for _, kt := range []KeyType{ECDSAP256, RSA2048} {
		t.Run(string(kt), func(t *testing.T) {
			key := testLeafKey[kt]
			der, err := testCA.IssueLeaf(LeafRequest{Username: "alice", Months: 3, Now: now, Serial: 11, Key: key}, nil)
			if err != nil {
				t.Fatal(err)
			}
			body, err := EncodeCertAndKeyPEM(der, key)
			if err != nil {
				t.Fatal(err)
			}
			checkPEMLayout(t, body)
			certBlock, rest := pem.Decode(body)
			keyBlock, rest := pem.Decode(rest)
			if certBlock == nil || keyBlock == nil || len(rest) != 0 {
				t.Fatalf("want exactly two PEM blocks and nothing after, got %q", body)
			}
			if diff := cmp.Diff([]string{"CERTIFICATE", "PRIVATE KEY"}, []string{certBlock.Type, keyBlock.Type}); diff != "" {
				t.Errorf("block types (-want +got):\n%s", diff)
			}
			if len(certBlock.Headers)+len(keyBlock.Headers) != 0 {
				t.Error("PEM blocks carry headers: the key must be unencrypted")
			}
			if !bytes.Equal(certBlock.Bytes, der) {
				t.Error("certificate block is not the issued certificate")
			}
			parsed, err := x509.ParsePKCS8PrivateKey(keyBlock.Bytes)
			if err != nil {
				t.Fatalf("private key block is not PKCS#8: %v", err)
			}
			cert, err := x509.ParseCertificate(certBlock.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			signer, ok := parsed.(crypto.Signer)
			if !ok {
				t.Fatalf("parsed key %T is not a signer", parsed)
			}
			if pub, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(cert.PublicKey) {
				t.Error("the private key does not match the certificate's public key")
			}
		})
	}
}

// checkPEMLayout checks the byte layout of Atlas's answer: lines of at most
// 64 characters, no blank line, a final newline.
func checkPEMLayout(t *testing.T, body []byte) {
	t.Helper()
	if !bytes.HasSuffix(body, []byte("-----END PRIVATE KEY-----\n")) {
		t.Errorf("body does not end with the key block and a newline")
	}
	if !bytes.HasPrefix(body, []byte("-----BEGIN CERTIFICATE-----\n")) {
		t.Errorf("body does not start with the certificate block")
	}
	if !bytes.Contains(body, []byte("-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\n")) {
		t.Errorf("the certificate block is not followed directly by the key block")
	}
	lines := strings.Split(strings.TrimSuffix(string(body), "\n"), "\n")
	for i, line := range lines {
		if line == "" || len(line) > 64 || strings.Contains(line, "\r") {
			t.Errorf("line %d = %q: want 1 to 64 characters, no CR", i+1, line)
		}
	}
}

func TestCertPEM(t *testing.T) {
	t.Parallel()
	got := CertPEM(testCADER)
	block, rest := pem.Decode(got)
	if block == nil || block.Type != "CERTIFICATE" || len(rest) != 0 || !bytes.Equal(block.Bytes, testCADER) {
		t.Fatalf("CertPEM = %q, want one CERTIFICATE block of the DER", got)
	}
}

func TestSubjectDN(t *testing.T) {
	t.Parallel()
	tests := []struct {
		username string
		want     string
		sameAsGo bool // (pkix.Name).String() gives the same
	}{
		{"alice", "CN=alice", true},
		{"user389", "CN=user389", true},
		{"app@example.com", "CN=app@example.com", true},
		{"a,b", `CN=a\,b`, true},
		{"a+b", `CN=a\+b`, true},
		{`a"b`, `CN=a\"b`, true},
		{`a\b`, `CN=a\\b`, true},
		{"a<b>c", `CN=a\<b\>c`, true},
		{"a;b", `CN=a\;b`, true},
		{"a=b", "CN=a=b", true},
		{"#ab", `CN=\#ab`, true},
		{"a#b", "CN=a#b", true},
		{" ab", `CN=\ ab`, true},
		{"abc ", `CN=abc\ `, true},
		{"a b", "CN=a b", true},
		{" ", `CN=\ `, true},
		{"  ", `CN=\ \ `, true},
		{"# ", `CN=\#\ `, true},
		{",,", `CN=\,\,`, true},
		// mongod writes bytes >= 0x80 as \XX; Go keeps UTF-8.
		{"josé", `CN=jos\C3\A9`, false},
		{"日本", `CN=\E6\97\A5\E6\9C\AC`, false},
		// mongod escapes a trailing space only when its output is longer than two bytes.
		{"a ", "CN=a ", false},
	}
	for _, tt := range tests {
		t.Run(tt.username, func(t *testing.T) {
			if got := SubjectDN(tt.username); got != tt.want {
				t.Errorf("SubjectDN(%q) = %q, want %q", tt.username, got, tt.want)
			}
			goDN := pkix.Name{CommonName: tt.username}.String()
			if (goDN == tt.want) != tt.sameAsGo {
				t.Errorf("(pkix.Name).String() = %q; same as SubjectDN: %v, want %v", goDN, goDN == tt.want, tt.sameAsGo)
			}
		})
	}
}
