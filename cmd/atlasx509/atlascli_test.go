package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"
)

// TestAtlasCLIRecorded replays, against a real server with Digest auth,
// every request the Atlas CLI 1.58.1 sent in a session run as a new user
// would (organizations, projects with tags, API keys and their assignment,
// events with filters and paging, alert settings with webhook and e-mail
// notifications, alerts and their acknowledgement, database users of the
// three kinds, certificates, customer X.509, service accounts, atlas api):
// see replayRecording. The CLI cannot be built in CI; this keeps what it
// needs working.
func TestAtlasCLIRecorded(t *testing.T) {
	t.Parallel()
	if !replayRecording(t, "atlascli-1.58.1.json", "atlascli/1.58.1 (replay)") {
		t.Error("no step waited for the alert")
	}
}

// customerCAPEM makes a self-signed CA certificate valid for a year, for
// `atlas security customerCerts create --casFile` and Terraform's
// customer_x509_cas ({customerCA} in the recordings).
func customerCAPEM(tb testing.TB) string {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "myca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		tb.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}
