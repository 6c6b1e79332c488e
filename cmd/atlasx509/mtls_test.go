package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"testing"
	"time"
)

// mtlsServer is a TLS server that, like a mongod with net.tls.CAFile set to
// the project CA, requires and verifies a client certificate.
type mtlsServer struct {
	addr    string
	rootCAs *x509.CertPool // trusts the server's own certificate
	results chan handshakeResult
}

type handshakeResult struct {
	subject string
	err     error
}

// startMTLSServer listens on loopback with a self-signed server certificate
// and accepts client certificates issued by the CAs in caPEM only.
func startMTLSServer(tb testing.TB, caPEM []byte) *mtlsServer {
	tb.Helper()
	clientCAs := x509.NewCertPool()
	if !clientCAs.AppendCertsFromPEM(caPEM) {
		tb.Fatalf("no certificate in the CA PEM:\n%s", caPEM)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mongod.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		tb.Fatal(err)
	}
	serverCert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    clientCAs,
		MinVersion:   tls.VersionTLS12,
	})
	if err != nil {
		tb.Fatal(err)
	}
	s := &mtlsServer{addr: ln.Addr().String(), rootCAs: x509.NewCertPool(), results: make(chan handshakeResult, 4)}
	s.rootCAs.AddCert(serverCert)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			tc := conn.(*tls.Conn)
			tc.SetDeadline(time.Now().Add(20 * time.Second))
			err = tc.Handshake()
			var res handshakeResult
			if err != nil {
				res.err = err
			} else {
				res.subject = tc.ConnectionState().PeerCertificates[0].Subject.String()
				tc.Write([]byte("ok"))
			}
			tc.Close()
			s.results <- res
		}
	}()
	tb.Cleanup(func() {
		ln.Close()
		<-done
	})
	return s
}

// connect dials s presenting the certificate and key of an issuance answer
// and returns the client's error and the server's view of the handshake.
func (s *mtlsServer) connect(tb testing.TB, certAndKeyPEM []byte) (server handshakeResult, clientErr error) {
	tb.Helper()
	// The answer holds both blocks; X509KeyPair takes the certificate
	// blocks from the first argument and the key block from the second.
	pair, err := tls.X509KeyPair(certAndKeyPEM, certAndKeyPEM)
	if err != nil {
		tb.Fatalf("tls.X509KeyPair on the issuance answer: %v", err)
	}
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", s.addr, &tls.Config{
		// Present the certificate even when its issuer is not among the
		// server's acceptable CAs (Certificates would then send none), so
		// that the server's verification is what is tested.
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &pair, nil },
		RootCAs:              s.rootCAs,
		MinVersion:           tls.VersionTLS12,
	})
	if err == nil {
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		// Under TLS 1.3 the client learns of a refused certificate only on
		// its first read.
		buf := make([]byte, 2)
		_, err = conn.Read(buf)
		conn.Close()
	}
	select {
	case server = <-s.results:
	case <-time.After(20 * time.Second):
		tb.Fatal("the TLS server saw no handshake")
	}
	return server, err
}

// TestMutualTLS presents issued certificates to a TLS server that trusts
// exactly the project CA served by the CA extension route.
func TestMutualTLS(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	c := s.digestClient()
	p1 := s.Bootstrap.ProjectID
	p2 := createProject(t, s, "other project")

	caPEM := fetchCAPEM(t, c, s.URL, p1)
	cas := parseCAs(t, caPEM)
	if len(cas) != 1 || !cas[0].IsCA || cas[0].Subject.CommonName != p1 {
		t.Fatalf("project CA: %d certificates, first %v", len(cas), cas[0].Subject)
	}
	// The CA route creates the CA before any issuance; a second call and
	// the first issuance must keep using it.
	if again := fetchCAPEM(t, c, s.URL, p1); string(again) != string(caPEM) {
		t.Fatalf("the CA changed between two reads:\n%s\n%s", caPEM, again)
	}

	createManagedUser(t, c, s.URL, p1, "alice")
	createManagedUser(t, c, s.URL, p2, "mallory")
	alice := issueCert(t, c, s.URL, p1, "alice", 3)
	mallory := issueCert(t, c, s.URL, p2, "mallory", 3)
	if string(fetchCAPEM(t, c, s.URL, p1)) != string(caPEM) {
		t.Fatal("issuing a certificate changed the project CA")
	}
	if string(fetchCAPEM(t, c, s.URL, p2)) == string(caPEM) {
		t.Fatal("two projects share a CA")
	}

	srv := startMTLSServer(t, caPEM)
	res, clientErr := srv.connect(t, alice.PEM)
	if clientErr != nil || res.err != nil {
		t.Fatalf("handshake with alice's certificate: client %v, server %v", clientErr, res.err)
	}
	if res.subject != "CN=alice" {
		t.Errorf("the server sees subject %q, want CN=alice", res.subject)
	}

	// A certificate of another project's CA: the server refuses it.
	res, clientErr = srv.connect(t, mallory.PEM)
	if res.err == nil {
		t.Fatalf("the server accepted a certificate of another project's CA (subject %q)", res.subject)
	}
	var unknown x509.UnknownAuthorityError
	if !errors.As(res.err, &unknown) {
		t.Errorf("server handshake error %v, want an unknown authority", res.err)
	}
	if clientErr == nil {
		t.Error("the client did not see the refusal")
	}
}
