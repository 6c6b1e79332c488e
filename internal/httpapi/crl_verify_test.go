package httpapi

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCRLWithOpenSSL: openssl verify -crl_check with the CA route's body
// as CAfile and the CRL route's as CRLfile refuses the revoked certificates
// (one revoked by serial, one by deleting its user) and accepts the others.
func TestCRLWithOpenSSL(t *testing.T) {
	t.Parallel()
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed")
	}
	e := newEnv(t)
	g := e.group()
	e.createUser(managedUserBody("alice"))
	e.createUser(managedUserBody("bob"))
	_, revoked := e.issue("alice", 1)
	_, kept := e.issue("alice", 1)
	_, gone := e.issue("bob", 1)
	serial := func(pemBody []byte) string {
		c, err := parseLeaf(pemBody)
		if err != nil {
			t.Fatal(err)
		}
		return c.SerialNumber.String()
	}
	e.mustDo(http.StatusNoContent, "DELETE", g+"/databaseUsers/alice/certs/"+serial(revoked)+"?reason=keyCompromise", "")
	e.mustDo(http.StatusNoContent, "DELETE", g+"/databaseUsers/$external/bob", "")

	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	caFile := write("ca.pem", e.mustDo(http.StatusOK, "GET", g+"/userSecurity/managedX509/ca", ""))
	crlFile := write("crl.pem", e.mustDo(http.StatusOK, "GET", g+"/userSecurity/managedX509/crl", ""))
	for _, tc := range []struct {
		name   string
		cert   []byte
		wantOK bool
	}{
		{"unrevoked", kept, true},
		{"revoked", revoked, false},
		{"of a deleted user", gone, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Only the certificate block: openssl reads the first one.
			leaf := write(tc.name+".pem", tc.cert[:bytes.Index(tc.cert, []byte("-----BEGIN PRIVATE KEY"))])
			out, err := exec.Command(openssl, "verify", "-crl_check", "-purpose", "sslclient",
				"-CAfile", caFile, "-CRLfile", crlFile, leaf).CombinedOutput()
			switch {
			case tc.wantOK && err != nil:
				t.Errorf("openssl refused an unrevoked certificate: %v\n%s", err, out)
			case !tc.wantOK && (err == nil || !strings.Contains(string(out), "certificate revoked")):
				t.Errorf("openssl did not refuse a revoked certificate as revoked: %v\n%s", err, out)
			}
		})
	}
}

func parseLeaf(pemBody []byte) (*x509.Certificate, error) {
	cert, err := tls.X509KeyPair(pemBody, pemBody)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(cert.Certificate[0])
}

// TestCRLTLSHandshake: a TLS server that requires a client certificate of
// the CA route and checks it against the CRL route refuses a revoked client
// certificate and accepts an unrevoked one.
func TestCRLTLSHandshake(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.group()
	e.createUser(managedUserBody("alice"))
	_, revoked := e.issue("alice", 1)
	_, kept := e.issue("alice", 1)
	leaf, err := parseLeaf(revoked)
	if err != nil {
		t.Fatal(err)
	}
	e.mustDo(http.StatusNoContent, "DELETE", g+"/databaseUsers/alice/certs/"+leaf.SerialNumber.String(), "")

	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(e.mustDo(http.StatusOK, "GET", g+"/userSecurity/managedX509/ca", "")) {
		t.Fatal("CA route holds no certificate")
	}
	crls := e.crls()
	// checkCRL is what a CRL-checking server does: find the CRL of the
	// issuer, check it is signed by it and current, then look the serial up.
	checkCRL := func(_ [][]byte, chains [][]*x509.Certificate) error {
		leaf, issuer := chains[0][0], chains[0][1]
		for _, crl := range crls {
			if !bytes.Equal(crl.RawIssuer, issuer.RawSubject) {
				continue
			}
			if err := crl.CheckSignatureFrom(issuer); err != nil {
				return err
			}
			if now := time.Now(); now.Before(crl.ThisUpdate) || !now.Before(crl.NextUpdate) {
				return errors.New("CRL not current")
			}
			for _, entry := range crl.RevokedCertificateEntries {
				if entry.SerialNumber.Cmp(leaf.SerialNumber) == 0 {
					return fmt.Errorf("certificate %v revoked", leaf.SerialNumber)
				}
			}
			return nil
		}
		return errors.New("no CRL for the issuer")
	}
	for _, tc := range []struct {
		name   string
		pem    []byte
		wantOK bool
	}{{"unrevoked", kept, true}, {"revoked", revoked, false}} {
		t.Run(tc.name, func(t *testing.T) {
			client, err := tls.X509KeyPair(tc.pem, tc.pem)
			if err != nil {
				t.Fatal(err)
			}
			serverErr, clientErr := handshakeCRL(t, roots, checkCRL, client)
			if tc.wantOK && (serverErr != nil || clientErr != nil) {
				t.Errorf("handshake refused: server %v, client %v", serverErr, clientErr)
			}
			if !tc.wantOK && (serverErr == nil || !strings.Contains(serverErr.Error(), "revoked")) {
				t.Errorf("the server accepted a revoked client certificate (server error %v)", serverErr)
			}
		})
	}
}

// handshakeCRL runs one TLS 1.3 handshake over a pipe between a server that
// requires a client certificate from roots and checks it with verify, and
// a client presenting client; it returns both sides' errors.
func handshakeCRL(t *testing.T, roots *x509.CertPool, verify func([][]byte, [][]*x509.Certificate) error, client tls.Certificate) (error, error) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mongod.test"}, DNSNames: []string{"mongod.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	serverRoots := x509.NewCertPool()
	serverCert, _ := x509.ParseCertificate(der)
	serverRoots.AddCert(serverCert)
	c, s := net.Pipe()
	defer c.Close()
	defer s.Close()
	server := tls.Server(s, &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: roots, VerifyPeerCertificate: verify, MinVersion: tls.VersionTLS13})
	cl := tls.Client(c, &tls.Config{Certificates: []tls.Certificate{client}, RootCAs: serverRoots, ServerName: "mongod.test", MinVersion: tls.VersionTLS13})
	done := make(chan error, 1)
	go func() {
		err := server.Handshake()
		server.Close() // the client learns of a refusal
		done <- err
	}()
	clientErr := cl.Handshake()
	if clientErr == nil {
		// In TLS 1.3 the server checks the client certificate after the
		// client's handshake ends: a read sees the refusal.
		cl.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, clientErr = cl.Read(make([]byte, 1))
		if clientErr != nil && strings.Contains(clientErr.Error(), "EOF") {
			clientErr = nil
		}
	}
	return <-done, clientErr
}
