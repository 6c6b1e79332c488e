package pki

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	zx509 "github.com/zmap/zcrypto/x509"
	"github.com/zmap/zlint/v3"
	"github.com/zmap/zlint/v3/lint"
)

var oidReasonCode = asn1.ObjectIdentifier{2, 5, 29, 21}

// crlEntry is what a parsed CRL entry says, for comparison.
type crlEntry struct {
	Serial    int64
	RevokedAt time.Time
	Reason    int
	HasReason bool // a reason code extension is present
}

func parsedEntries(t *testing.T, crl *x509.RevocationList) []crlEntry {
	t.Helper()
	var got []crlEntry
	for _, e := range crl.RevokedCertificateEntries {
		if !e.SerialNumber.IsInt64() {
			t.Fatalf("serial %v does not fit int64", e.SerialNumber)
		}
		has := false
		for _, ext := range e.Extensions {
			if ext.Id.Equal(oidReasonCode) {
				has = true
				if ext.Critical {
					t.Errorf("serial %v: reason code extension is critical", e.SerialNumber)
				}
			}
		}
		got = append(got, crlEntry{e.SerialNumber.Int64(), e.RevocationTime, e.ReasonCode, has})
	}
	return got
}

func TestSignCRL(t *testing.T) {
	t.Parallel()
	this := now.Add(90 * time.Minute)
	next := this.Add(7 * 24 * time.Hour)
	revokedAt := now.Add(30*time.Minute + 500*time.Millisecond) // written at second precision
	at := revokedAt.Truncate(time.Second)
	tests := []struct {
		name    string
		ca      *CA
		number  int64
		entries []RevokedCert
		want    []crlEntry
	}{
		{name: "empty", ca: testCA, number: 0},
		{
			name: "one unspecified", ca: testCA, number: 1,
			entries: []RevokedCert{{Serial: 42, RevokedAt: revokedAt, Reason: ReasonUnspecified}},
			want:    []crlEntry{{42, at, 0, false}},
		},
		{
			name: "every reason, out of order", ca: testCA, number: 1 << 40,
			entries: []RevokedCert{
				{Serial: 9, RevokedAt: revokedAt, Reason: ReasonCessationOfOperation},
				{Serial: 1<<63 - 1, RevokedAt: this, Reason: ReasonSuperseded},
				{Serial: 3, RevokedAt: now, Reason: ReasonKeyCompromise},
				{Serial: 5, RevokedAt: now.In(time.FixedZone("X", 3600)), Reason: ReasonAffiliationChanged},
				{Serial: 1, RevokedAt: now, Reason: ReasonUnspecified},
			},
			want: []crlEntry{
				{1, now, 0, false},
				{3, now, ReasonKeyCompromise, true},
				{5, now, ReasonAffiliationChanged, true},
				{9, at, ReasonCessationOfOperation, true},
				{1<<63 - 1, this, ReasonSuperseded, true},
			},
		},
		{
			name: "RSA CA", ca: testRSACA, number: 7,
			entries: []RevokedCert{{Serial: 2, RevokedAt: now, Reason: ReasonKeyCompromise}},
			want:    []crlEntry{{2, now, ReasonKeyCompromise, true}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			der, err := tt.ca.SignCRL(CRLRequest{
				Number: big.NewInt(tt.number), ThisUpdate: this, NextUpdate: next, Entries: tt.entries,
			}, nil)
			if err != nil {
				t.Fatal(err)
			}
			crl, err := x509.ParseRevocationList(der)
			if err != nil {
				t.Fatal(err)
			}
			if err := crl.CheckSignatureFrom(tt.ca.Cert); err != nil {
				t.Errorf("CheckSignatureFrom the CA: %v", err)
			}
			if err := crl.CheckSignatureFrom(otherCACert(t, tt.ca)); err == nil {
				t.Error("the CRL verifies against another CA")
			}
			if crl.Number.Cmp(big.NewInt(tt.number)) != 0 {
				t.Errorf("number %v, want %d", crl.Number, tt.number)
			}
			if !crl.ThisUpdate.Equal(this) || !crl.NextUpdate.Equal(next) {
				t.Errorf("thisUpdate %v nextUpdate %v, want %v %v", crl.ThisUpdate, crl.NextUpdate, this, next)
			}
			if !bytes.Equal(crl.RawIssuer, tt.ca.Cert.RawSubject) {
				t.Error("issuer is not the CA's subject")
			}
			if !bytes.Equal(crl.AuthorityKeyId, tt.ca.Cert.SubjectKeyId) {
				t.Errorf("authority key id %x, want the CA's %x", crl.AuthorityKeyId, tt.ca.Cert.SubjectKeyId)
			}
			if crl.SignatureAlgorithm != tt.ca.Cert.SignatureAlgorithm {
				t.Errorf("signature algorithm %v, want the CA's %v", crl.SignatureAlgorithm, tt.ca.Cert.SignatureAlgorithm)
			}
			if diff := cmp.Diff(tt.want, parsedEntries(t, crl)); diff != "" {
				t.Errorf("entries (-want +got):\n%s", diff)
			}
			// v2: the version field is present and says 1.
			var tbs struct {
				Raw     asn1.RawContent
				Version int `asn1:"optional"`
			}
			if _, err := asn1.Unmarshal(crl.RawTBSRevocationList, &tbs); err != nil || tbs.Version != 1 {
				t.Errorf("version %d (%v), want 1 (v2)", tbs.Version, err)
			}
		})
	}
}

// otherCACert returns a CA certificate with ca's subject but another key.
func otherCACert(t *testing.T, ca *CA) *x509.Certificate {
	t.Helper()
	if ca == testRSACA {
		return testCA.Cert
	}
	return testRSACA.Cert
}

func TestSignCRLDeterministicOrder(t *testing.T) {
	t.Parallel()
	entries := []RevokedCert{{Serial: 3, RevokedAt: now}, {Serial: 1, RevokedAt: now}, {Serial: 2, RevokedAt: now}}
	req := CRLRequest{Number: big.NewInt(1), ThisUpdate: now, NextUpdate: now.Add(time.Hour), Entries: entries}
	der, err := testCA.SignCRL(req, nil)
	if err != nil {
		t.Fatal(err)
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatal(err)
	}
	var serials []int64
	for _, e := range crl.RevokedCertificateEntries {
		serials = append(serials, e.SerialNumber.Int64())
	}
	if diff := cmp.Diff([]int64{1, 2, 3}, serials); diff != "" {
		t.Errorf("serial order (-want +got):\n%s", diff)
	}
	if entries[0].Serial != 3 {
		t.Error("SignCRL reordered the caller's slice")
	}
}

func TestSignCRLRefuses(t *testing.T) {
	t.Parallel()
	this := now
	next := now.Add(time.Hour)
	ok := RevokedCert{Serial: 1, RevokedAt: now}
	tests := []struct {
		name    string
		ca      *CA
		req     CRLRequest
		wantErr error // nil: any error
	}{
		{"no CA", nil, CRLRequest{Number: big.NewInt(1), ThisUpdate: this, NextUpdate: next}, nil},
		{"CA without signer", &CA{Cert: testCA.Cert}, CRLRequest{Number: big.NewInt(1), ThisUpdate: this, NextUpdate: next}, nil},
		{"nil number", testCA, CRLRequest{ThisUpdate: this, NextUpdate: next}, nil},
		{"negative number", testCA, CRLRequest{Number: big.NewInt(-1), ThisUpdate: this, NextUpdate: next}, nil},
		{"number over 20 octets", testCA, CRLRequest{Number: new(big.Int).Lsh(big.NewInt(1), 160), ThisUpdate: this, NextUpdate: next}, nil},
		{"zero thisUpdate", testCA, CRLRequest{Number: big.NewInt(1), NextUpdate: next}, nil},
		{"nextUpdate equal", testCA, CRLRequest{Number: big.NewInt(1), ThisUpdate: this, NextUpdate: this.Add(time.Millisecond)}, nil},
		{"nextUpdate before", testCA, CRLRequest{Number: big.NewInt(1), ThisUpdate: next, NextUpdate: this}, nil},
		{"zero serial", testCA, CRLRequest{Number: big.NewInt(1), ThisUpdate: this, NextUpdate: next,
			Entries: []RevokedCert{{Serial: 0, RevokedAt: now}}}, ErrSerial},
		{"negative serial", testCA, CRLRequest{Number: big.NewInt(1), ThisUpdate: this, NextUpdate: next,
			Entries: []RevokedCert{{Serial: -5, RevokedAt: now}}}, ErrSerial},
		{"duplicate serial", testCA, CRLRequest{Number: big.NewInt(1), ThisUpdate: this, NextUpdate: next,
			Entries: []RevokedCert{ok, {Serial: 2, RevokedAt: now}, ok}}, nil},
		{"reason 2 (cACompromise)", testCA, CRLRequest{Number: big.NewInt(1), ThisUpdate: this, NextUpdate: next,
			Entries: []RevokedCert{{Serial: 1, RevokedAt: now, Reason: 2}}}, ErrRevocationReason},
		{"reason 7 (unused)", testCA, CRLRequest{Number: big.NewInt(1), ThisUpdate: this, NextUpdate: next,
			Entries: []RevokedCert{{Serial: 1, RevokedAt: now, Reason: 7}}}, ErrRevocationReason},
		{"reason -1", testCA, CRLRequest{Number: big.NewInt(1), ThisUpdate: this, NextUpdate: next,
			Entries: []RevokedCert{{Serial: 1, RevokedAt: now, Reason: -1}}}, ErrRevocationReason},
		{"zero revocation time", testCA, CRLRequest{Number: big.NewInt(1), ThisUpdate: this, NextUpdate: next,
			Entries: []RevokedCert{{Serial: 1}}}, nil},
		{"revoked after thisUpdate", testCA, CRLRequest{Number: big.NewInt(1), ThisUpdate: this, NextUpdate: next,
			Entries: []RevokedCert{{Serial: 1, RevokedAt: this.Add(time.Second)}}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			der, err := tt.ca.SignCRL(tt.req, nil)
			if err == nil {
				t.Fatalf("signed a CRL (%d bytes), want an error", len(der))
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestCRLPEM(t *testing.T) {
	t.Parallel()
	der, err := testCA.SignCRL(CRLRequest{Number: big.NewInt(1), ThisUpdate: now, NextUpdate: now.Add(time.Hour)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := CRLPEM(der)
	if !bytes.HasPrefix(out, []byte("-----BEGIN X509 CRL-----\n")) || !bytes.HasSuffix(out, []byte("-----END X509 CRL-----\n")) {
		t.Errorf("PEM framing:\n%s", out)
	}
	block, rest := pem.Decode(out)
	if block == nil || block.Type != "X509 CRL" || !bytes.Equal(block.Bytes, der) || len(rest) != 0 {
		t.Errorf("PEM does not decode to the DER: block %v, rest %q", block, rest)
	}
}

func TestParseRevocationReason(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		want    int
		wantErr bool
	}{
		{"unspecified", 0, false},
		{"keyCompromise", 1, false},
		{"affiliationChanged", 3, false},
		{"superseded", 4, false},
		{"cessationOfOperation", 5, false},
		{"", 0, true},
		{"KeyCompromise", 0, true},
		{"keycompromise", 0, true},
		{"cACompromise", 0, true},
		{"certificateHold", 0, true},
		{"privilegeWithdrawn", 0, true},
		{"1", 0, true},
		{" superseded", 0, true},
		{"superseded\x00", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRevocationReason(tt.name)
			if tt.wantErr {
				if !errors.Is(err, ErrRevocationReason) {
					t.Errorf("ParseRevocationReason(%q) = %d, %v; want ErrRevocationReason", tt.name, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseRevocationReason(%q) = %d, %v; want %d", tt.name, got, err, tt.want)
			}
			if name := RevocationReasonName(got); name != tt.name {
				t.Errorf("RevocationReasonName(%d) = %q, want %q", got, name, tt.name)
			}
		})
	}
	for _, code := range []int{-1, 2, 6, 7, 8, 9, 10, 11} {
		if name := RevocationReasonName(code); name != "" {
			t.Errorf("RevocationReasonName(%d) = %q, want \"\"", code, name)
		}
	}
}

// FuzzParseRevocationReason checks that every input either is refused with
// ErrRevocationReason or names a code that names it back.
func FuzzParseRevocationReason(f *testing.F) {
	for _, s := range []string{"unspecified", "keyCompromise", "cessationOfOperation", "", "KEYCOMPROMISE", "5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		code, err := ParseRevocationReason(s)
		if err != nil {
			if !errors.Is(err, ErrRevocationReason) || code != 0 {
				t.Fatalf("ParseRevocationReason(%q) = %d, %v", s, code, err)
			}
			return
		}
		if RevocationReasonName(code) != s {
			t.Fatalf("ParseRevocationReason(%q) = %d, which names %q", s, code, RevocationReasonName(code))
		}
		if _, err := testCA.SignCRL(CRLRequest{Number: big.NewInt(1), ThisUpdate: now, NextUpdate: now.Add(time.Hour),
			Entries: []RevokedCert{{Serial: 1, RevokedAt: now, Reason: code}}}, nil); err != nil {
			t.Fatalf("reason %q (%d) parses but cannot be signed: %v", s, code, err)
		}
	})
}

// requireOpenSSL returns the openssl binary, skipping the test outside CI
// when it is absent.
func requireOpenSSL(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("openssl")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("openssl is required in CI: %v", err)
		}
		t.Skipf("openssl not found: %v", err)
	}
	return path
}

// TestCRLOpenSSL checks with openssl verify -crl_check that a CRL makes
// openssl refuse the revoked leaf and accept another leaf of the same CA.
func TestCRLOpenSSL(t *testing.T) {
	t.Parallel()
	openssl := requireOpenSSL(t)
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tt := range []struct {
		name string
		ca   *CA
	}{{"P-256 CA", testCA}, {"RSA CA", testRSACA}} {
		t.Run(tt.name, func(t *testing.T) {
			leaf := func(serial int64) string {
				der, err := tt.ca.IssueLeaf(LeafRequest{Username: "alice", Months: 3, Now: now, Serial: serial, Key: testLeafKey[ECDSAP256]}, nil)
				if err != nil {
					t.Fatal(err)
				}
				return write(tt.name+strconv.FormatInt(serial, 10)+".pem", CertPEM(der))
			}
			revoked, kept := leaf(1001), leaf(1002)
			crlDER, err := tt.ca.SignCRL(CRLRequest{
				Number: big.NewInt(3), ThisUpdate: now.Add(time.Hour), NextUpdate: now.Add(7 * 24 * time.Hour),
				Entries: []RevokedCert{{Serial: 1001, RevokedAt: now.Add(time.Minute), Reason: ReasonKeyCompromise},
					{Serial: 77, RevokedAt: now}},
			}, nil)
			if err != nil {
				t.Fatal(err)
			}
			caFile := write(tt.name+"ca.pem", CertPEM(tt.ca.Cert.Raw))
			crlFile := write(tt.name+"crl.pem", CRLPEM(crlDER))
			attime := strconv.FormatInt(now.Add(2*time.Hour).Unix(), 10)
			verify := func(leafFile string) (string, error) {
				out, err := exec.Command(openssl, "verify", "-crl_check", "-attime", attime,
					"-CAfile", caFile, "-CRLfile", crlFile, leafFile).CombinedOutput()
				return string(out), err
			}
			if out, err := verify(kept); err != nil {
				t.Errorf("openssl refuses the leaf that is not revoked: %v\n%s", err, out)
			}
			out, err := verify(revoked)
			if err == nil {
				t.Errorf("openssl accepts the revoked leaf:\n%s", out)
			} else if !strings.Contains(out, "certificate revoked") {
				t.Errorf("openssl refuses the revoked leaf for another reason: %v\n%s", err, out)
			}
		})
	}
}

// TestZlintCRL runs zlint's CRL lints (RFC 5280, CA/B Forum BR 7.2 and
// community) on empty and populated CRLs; every lint passes or does not
// apply.
func TestZlintCRL(t *testing.T) {
	t.Parallel()
	registry := lint.GlobalRegistry()
	if len(registry.RevocationListLints().Lints()) == 0 {
		t.Fatal("zlint has no CRL lints registered")
	}
	all := []RevokedCert{
		{Serial: 1, RevokedAt: now, Reason: ReasonUnspecified},
		{Serial: 2, RevokedAt: now, Reason: ReasonKeyCompromise},
		{Serial: 3, RevokedAt: now, Reason: ReasonAffiliationChanged},
		{Serial: 4, RevokedAt: now, Reason: ReasonSuperseded},
		{Serial: 1<<63 - 1, RevokedAt: now, Reason: ReasonCessationOfOperation},
	}
	for _, tt := range []struct {
		name    string
		ca      *CA
		entries []RevokedCert
	}{
		{"P-256 empty", testCA, nil},
		{"P-256 all reasons", testCA, all},
		{"RSA all reasons", testRSACA, all},
	} {
		t.Run(tt.name, func(t *testing.T) {
			der, err := tt.ca.SignCRL(CRLRequest{Number: big.NewInt(12), ThisUpdate: now.Add(time.Hour),
				NextUpdate: now.Add(time.Hour + 7*24*time.Hour), Entries: tt.entries}, nil)
			if err != nil {
				t.Fatal(err)
			}
			crl, err := zx509.ParseRevocationList(der)
			if err != nil {
				t.Fatalf("zcrypto cannot parse the CRL: %v", err)
			}
			rs := zlint.LintRevocationListEx(crl, registry)
			var findings []string
			applied := 0
			for name, r := range rs.Results {
				switch r.Status {
				case lint.Warn, lint.Error, lint.Fatal:
					findings = append(findings, name+": "+r.Status.String()+" "+r.Details)
				case lint.Pass:
					applied++
				}
			}
			if diff := cmp.Diff([]string(nil), findings); diff != "" {
				t.Errorf("zlint findings:\n%s", diff)
			}
			if applied == 0 {
				t.Error("no zlint CRL lint applied")
			}
			t.Logf("%d zlint CRL lints passed, the others do not apply", applied)
		})
	}
}

// crlChecker returns a tls.Config.VerifyPeerCertificate that refuses a
// client certificate whose serial the CRL of its verified issuer lists, and
// any certificate whose issuer has no current CRL, as mongod does with
// net.tls.CRLFile.
func crlChecker(crls []*x509.RevocationList, now time.Time) func([][]byte, [][]*x509.Certificate) error {
	return func(_ [][]byte, chains [][]*x509.Certificate) error {
		for _, chain := range chains {
			leaf, issuer := chain[0], chain[1]
			var found *x509.RevocationList
			for _, crl := range crls {
				if crl.CheckSignatureFrom(issuer) == nil && !now.Before(crl.ThisUpdate) && now.Before(crl.NextUpdate) {
					found = crl
				}
			}
			if found == nil {
				return errors.New("no current CRL for the client certificate's issuer")
			}
			for _, e := range found.RevokedCertificateEntries {
				if e.SerialNumber.Cmp(leaf.SerialNumber) == 0 {
					return errors.New("client certificate revoked")
				}
			}
		}
		return nil
	}
}

// TestTLSHandshakeChecksCRL runs real TLS handshakes against a Go server
// that checks the CRL: it refuses the revoked client certificate and
// accepts another of the same CA.
func TestTLSHandshakeChecksCRL(t *testing.T) {
	t.Parallel()
	key := testLeafKey[ECDSAP256]
	issue := func(serial int64) []byte {
		der, err := testCA.IssueLeaf(LeafRequest{Username: "alice", Months: 3, Now: now, Serial: serial, Key: key}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	crlDER, err := testCA.SignCRL(CRLRequest{Number: big.NewInt(1), ThisUpdate: now.Add(-time.Minute), NextUpdate: now.Add(time.Hour),
		Entries: []RevokedCert{{Serial: 501, RevokedAt: now.Add(-time.Minute), Reason: ReasonKeyCompromise}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	crl, err := x509.ParseRevocationList(crlDER)
	if err != nil {
		t.Fatal(err)
	}
	expired, err := testCA.SignCRL(CRLRequest{Number: big.NewInt(2), ThisUpdate: now.Add(-2 * time.Hour), NextUpdate: now.Add(-time.Hour)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	expiredCRL, err := x509.ParseRevocationList(expired)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		serial  int64
		crls    []*x509.RevocationList
		wantErr string
	}{
		{"not revoked", 502, []*x509.RevocationList{crl}, ""},
		{"revoked", 501, []*x509.RevocationList{crl}, "revoked"},
		{"only an expired CRL", 502, []*x509.RevocationList{expiredCRL}, "no current CRL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := handshakeWith(t, testCA.Cert, issue(tt.serial), key, crlChecker(tt.crls, now))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("handshake: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("handshake error %v, want %q", err, tt.wantErr)
			}
		})
	}
}
