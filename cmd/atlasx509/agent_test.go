package main

import (
	"crypto/rand"
	"encoding/json"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atlasx509/atlasx509/internal/config"
	"github.com/atlasx509/atlasx509/internal/pki"
)

// fakeAgentServer answers the token route and the CA and CRL routes of
// project "p1" for a service account, as atlasx509 does, from a CA made
// here; crlStatus other than 200 makes the CRL route fail.
func fakeAgentServer(t *testing.T, tls bool, crlStatus int) (*httptest.Server, []byte, []byte) {
	t.Helper()
	now := time.Now()
	der, key, err := pki.NewCA("p1", now, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := pki.ParseCA(der, key)
	if err != nil {
		t.Fatal(err)
	}
	crlDER, err := ca.SignCRL(pki.CRLRequest{Number: big.NewInt(1), ThisUpdate: now.Add(-time.Minute), NextUpdate: now.Add(time.Hour)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	caPEM, crlPEM := pki.CertPEM(der), pki.CRLPEM(crlDER)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/oauth/token", func(w http.ResponseWriter, r *http.Request) {
		if id, secret, ok := r.BasicAuth(); !ok || id != "sa" || secret != "secret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": "tok", "token_type": "Bearer", "expires_in": 3600})
	})
	serve := func(body []byte, status int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer tok" {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			w.WriteHeader(status)
			w.Write(body)
		}
	}
	const base = "GET /api/atlas/v2/groups/p1/userSecurity/managedX509"
	mux.HandleFunc(base+"/ca", serve(caPEM, http.StatusOK))
	mux.HandleFunc(base+"/crl", serve(crlPEM, crlStatus))
	srv := httptest.NewUnstartedServer(mux)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshakes refused on purpose
	if tls {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv, caPEM, crlPEM
}

// TestAgentOnce checks the agent command's flags, credentials and --once
// exit statuses against a fake server.
func TestAgentOnce(t *testing.T) {
	t.Parallel()
	type served struct{ ca, crl []byte }
	want := map[string]served{}
	start := func(tls bool, crlStatus int) *httptest.Server {
		srv, ca, crl := fakeAgentServer(t, tls, crlStatus)
		want[srv.URL] = served{ca, crl}
		return srv
	}
	plain, failing, tlsSrv := start(false, http.StatusOK), start(false, http.StatusServiceUnavailable), start(true, http.StatusOK)
	dir := t.TempDir()
	serverCA := filepath.Join(dir, "server-ca.pem")
	if err := os.WriteFile(serverCA, pki.CertPEM(tlsSrv.Certificate().Raw), 0o600); err != nil {
		t.Fatal(err)
	}
	sa := map[string]string{config.EnvAgentClientID: "sa", config.EnvAgentClientSecret: "secret"}
	tests := []struct {
		name       string
		url        string
		flags      []string
		env        map[string]string
		wantCode   int
		wantFiles  bool
		wantStderr string
	}{
		{name: "sync once", url: plain.URL, env: sa, wantCode: 0, wantFiles: true, wantStderr: "on-change command succeeded"},
		{name: "HTTPS with --tls-ca-file", url: tlsSrv.URL, flags: []string{"--tls-ca-file", serverCA}, env: sa, wantCode: 0, wantFiles: true},
		{name: "HTTPS without the server's CA", url: tlsSrv.URL, env: sa, wantCode: 1, wantStderr: "certificate"},
		{name: "--tls-ca-file without PEM", url: tlsSrv.URL, flags: []string{"--tls-ca-file", filepath.Join(dir, "missing.pem")}, env: sa, wantCode: 1, wantStderr: "--tls-ca-file"},
		{name: "server fails", url: failing.URL, env: sa, wantCode: 1, wantStderr: "503"},
		{name: "wrong secret", url: plain.URL, env: map[string]string{config.EnvAgentClientID: "sa", config.EnvAgentClientSecret: "nope"}, wantCode: 1},
		{name: "no credentials", url: plain.URL, wantCode: 2, wantStderr: "no credentials"},
		{name: "bad interval", url: plain.URL, flags: []string{"--interval", "0"}, env: sa, wantCode: 2, wantStderr: "--interval"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := filepath.Join(dir, string(rune('a'+i)))
			if err := os.Mkdir(d, 0o700); err != nil {
				t.Fatal(err)
			}
			caFile, crlFile, marker := filepath.Join(d, "ca.pem"), filepath.Join(d, "crl.pem"), filepath.Join(d, "ran")
			args := append([]string{"agent", "--once", "--url", tt.url, "--project", "p1", "--ca-file", caFile, "--crl-file", crlFile,
				"--on-change", "echo run >> " + marker}, tt.flags...)
			r := runCLI(t, tt.env, args...)
			if r.code != tt.wantCode || !strings.Contains(r.stderr, tt.wantStderr) {
				t.Fatalf("exit %d, want %d; stderr (want %q):\n%s", r.code, tt.wantCode, tt.wantStderr, r.stderr)
			}
			ca, _ := os.ReadFile(caFile)
			crl, _ := os.ReadFile(crlFile)
			ran, _ := os.ReadFile(marker)
			if !tt.wantFiles {
				if ca != nil || crl != nil || ran != nil {
					t.Errorf("a failed sync left files: CA %d bytes, CRL %d bytes, command output %q", len(ca), len(crl), ran)
				}
				return
			}
			if w := want[tt.url]; string(ca) != string(w.ca) || string(crl) != string(w.crl) {
				t.Errorf("files differ from the server's answers")
			}
			if string(ran) != "run\n" {
				t.Errorf("on-change command output %q, want one run", ran)
			}
		})
	}
}
