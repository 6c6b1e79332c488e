package pki

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"net"
	"testing"
	"time"
)

// serverCert returns a self-signed TLS server certificate for "mongod.test"
// and a pool that trusts it.
func serverCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "mongod.test"},
		DNSNames:     []string{"mongod.test"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, pool
}

// handshake runs a TLS handshake in which the server, trusting ca, requires
// a client certificate, and returns the subject the server saw as mongod
// would print it.
func handshake(t *testing.T, ca *x509.Certificate, clientDER []byte, clientKey crypto.Signer) (string, error) {
	t.Helper()
	return handshakeWith(t, ca, clientDER, clientKey, nil)
}

// handshakeWith is handshake with verify as the server's additional check
// of the verified client chains (tls.Config.VerifyPeerCertificate).
func handshakeWith(t *testing.T, ca *x509.Certificate, clientDER []byte, clientKey crypto.Signer,
	verify func([][]byte, [][]*x509.Certificate) error) (string, error) {
	t.Helper()
	srvCert, srvPool := serverCert(t)
	clientCAs := x509.NewCertPool()
	clientCAs.AddCert(ca)
	clock := func() time.Time { return now }
	c, s := net.Pipe()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	type result struct {
		subject string
		err     error
	}
	done := make(chan result, 1)
	go func() {
		defer s.Close()
		srv := tls.Server(s, &tls.Config{
			Certificates: []tls.Certificate{srvCert},
			ClientAuth:   tls.RequireAndVerifyClientCert,
			ClientCAs:    clientCAs,
			Time:         clock,

			VerifyPeerCertificate: verify,
		})
		if err := srv.HandshakeContext(ctx); err != nil {
			done <- result{err: err}
			return
		}
		var rdns pkix.RDNSequence
		_, err := asn1.Unmarshal(srv.ConnectionState().PeerCertificates[0].RawSubject, &rdns)
		done <- result{subject: rdns.String(), err: err}
	}()
	cli := tls.Client(c, &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{clientDER}, PrivateKey: clientKey}},
		RootCAs:      srvPool,
		ServerName:   "mongod.test",
		Time:         clock,
	})
	cliErr := cli.HandshakeContext(ctx)
	c.Close()
	r := <-done
	return r.subject, errors.Join(r.err, cliErr)
}

// TestTLSClientAuth checks that Go's TLS server accepts the issued
// certificates for client authentication (critical EKU, ECDSA CA over RSA
// and ECDSA leaves) and refuses one from another project's CA.
func TestTLSClientAuth(t *testing.T) {
	t.Parallel()
	otherCA, err := newCAOfType(ECDSAP256, now)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		issuer  *CA
		key     KeyType
		wantErr bool
	}{
		{"RSA 2048 leaf", testCA, RSA2048, false},
		{"P-256 leaf", testCA, ECDSAP256, false},
		{"P-384 leaf", testCA, ECDSAP384, false},
		{"another project's CA", otherCA, ECDSAP256, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := testLeafKey[tt.key]
			der, err := tt.issuer.IssueLeaf(LeafRequest{Username: "user389", Months: 3, Now: now, Serial: 77, Key: key}, nil)
			if err != nil {
				t.Fatal(err)
			}
			subject, err := handshake(t, testCA.Cert, der, key)
			if tt.wantErr {
				if err == nil {
					t.Fatal("handshake succeeded with a certificate of another CA")
				}
				return
			}
			if err != nil {
				t.Fatalf("handshake: %v", err)
			}
			if want := SubjectDN("user389"); subject != want {
				t.Errorf("server saw subject %q, want %q", subject, want)
			}
		})
	}
}
