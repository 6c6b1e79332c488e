package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mongodb-forks/digest"

	"github.com/atlasx509/atlasx509/internal/atlasapi"
	"github.com/atlasx509/atlasx509/internal/config"
	"github.com/atlasx509/atlasx509/internal/testkit"
)

// TestServeHTTPS serves with --tls-cert and --tls-key and talks to the API
// over TLS with Digest.
func TestServeHTTPS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	certFile, keyFile := filepath.Join(dir, "tls.pem"), filepath.Join(dir, "tls.key")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)

	cfg, err := config.Load("serve", []string{"--data-dir", filepath.Join(dir, "data"), "--listen", "127.0.0.1:0",
		"--tls-cert", certFile, "--tls-key", keyFile, "--audit-log", "off", "--key-pool", "off"}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := &lockedBuffer{}
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- runServe(ctx, cfg, slog.New(slog.DiscardHandler), out, options{keys: testkit.FastKeys{}, ready: func(a string) { ready <- a }})
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("serve: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	boot := parseBootstrap(t, out.String())
	parsed, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(parsed)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	client := &http.Client{Transport: digest.NewTransportWithHTTPTransport(boot.APIKey.PublicKey, boot.APIKey.PrivateKey, tr), Timeout: time.Minute}
	resp, err := client.Get("https://" + addr + "/api/atlas/v1.0/groups/" + boot.ProjectID)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var g atlasapi.Group
	decodeJSON(t, body, &g)
	if resp.StatusCode != 200 || g.ID != boot.ProjectID {
		t.Fatalf("over TLS: %d %s", resp.StatusCode, body)
	}
	if resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
		t.Errorf("answer not over TLS 1.2+: %+v", resp.TLS)
	}
	// Plain HTTP to the TLS port is refused, not served.
	if r, err := http.Get("http://" + addr + "/healthz"); err == nil {
		if r.StatusCode == 200 {
			t.Error("plain HTTP served on the TLS listener")
		}
		r.Body.Close()
	}
	// Links name the listen address's https URL by default.
	if len(g.Links) == 0 || !strings.HasPrefix(g.Links[0].Href, "https://"+addr+"/api/atlas/") {
		t.Errorf("links %+v", g.Links)
	}
	// TLS 1.2 negotiates AEAD suites only; older versions none; HTTP/2 is
	// offered by ALPN.
	dial := func(c *tls.Config) (tls.ConnectionState, error) {
		c.RootCAs = pool
		conn, err := tls.Dial("tcp", addr, c)
		if err != nil {
			return tls.ConnectionState{}, err
		}
		defer conn.Close()
		return conn.ConnectionState(), nil
	}
	for _, suite := range []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256} {
		if _, err := dial(&tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{suite}}); err == nil {
			t.Errorf("TLS 1.2 with %s: handshake succeeded", tls.CipherSuiteName(suite))
		}
	}
	if _, err := dial(&tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}); err == nil {
		t.Error("TLS 1.1: handshake succeeded")
	}
	if st, err := dial(&tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}, NextProtos: []string{"h2", "http/1.1"}}); err != nil || st.NegotiatedProtocol != "h2" {
		t.Errorf("TLS 1.2 GCM with ALPN h2: %v, protocol %q", err, st.NegotiatedProtocol)
	}
	h2 := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
	if r, err := (&http.Client{Transport: h2}).Get("https://" + addr + "/healthz"); err != nil || r.ProtoMajor != 2 {
		t.Errorf("healthz over HTTP/2: %v %+v", err, r)
	} else {
		r.Body.Close()
	}
}
