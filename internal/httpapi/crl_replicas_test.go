package httpapi

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/atlasx509/atlasx509/internal/app"
	"github.com/atlasx509/atlasx509/internal/store/postgres"
	"github.com/atlasx509/atlasx509/internal/testkit"
)

// postgresReplicas returns two servers (App and handler each, with a store
// of their own) on one new PostgreSQL database, initialized, sharing the
// bootstrap credentials.
func postgresReplicas(t *testing.T) []*env {
	dbURL := testkit.PostgresDatabase(t, "atlasx509_crl_")
	ctx := context.Background()
	kr := testkit.Keyring(t)
	var replicas []*env
	for i := 0; i < 2; i++ {
		st, err := postgres.Open(ctx, dbURL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		a, err := app.New(ctx, app.Config{Store: st, Keyring: kr, Keys: testkit.FastKeys{}})
		if err != nil {
			t.Fatal(err)
		}
		replicas = append(replicas, &env{t: t, handler: NewHandler(Options{App: a}), app: a, store: st})
	}
	boot, err := replicas[0].app.Bootstrap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := replicas[1].app.IssueToken(ctx, boot.ServiceAccount.ClientID, boot.ServiceAccount.ClientSecret)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range replicas {
		r.boot, r.token = boot, tok.AccessToken
	}
	return replicas
}

// crlNumbers records the CRLs seen by number, and fails on two different
// CRLs of one number. It is safe for concurrent use.
type crlNumbers struct {
	mu   sync.Mutex
	seen map[string][32]byte // number → SHA-256 of the CRL
}

// record parses the first CRL of a CRL route body and records it.
func (n *crlNumbers) record(body []byte) (*x509.RevocationList, error) {
	block, _ := pem.Decode(body)
	if block == nil {
		return nil, fmt.Errorf("no PEM in %q", body)
	}
	crl, err := x509.ParseRevocationList(block.Bytes)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(block.Bytes)
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.seen == nil {
		n.seen = map[string][32]byte{}
	}
	if prev, ok := n.seen[crl.Number.String()]; ok && prev != sum {
		return nil, fmt.Errorf("two different CRLs numbered %v", crl.Number)
	}
	n.seen[crl.Number.String()] = sum
	return crl, nil
}

// TestCRLNumbersAcrossReplicas: two replicas on one PostgreSQL database
// revoke certificates and serve CRLs, one after another, then
// concurrently. Every CRL either signs has a number no other CRL has, and
// after each revocation, whichever replica made it, the next CRL read from
// either has a greater number than before and lists it.
func TestCRLNumbersAcrossReplicas(t *testing.T) {
	t.Parallel()
	replicas := postgresReplicas(t)
	replicas[0].createUser(managedUserBody("alice"))
	const certs = 24
	var serials []string
	for i := 0; i < certs; i++ {
		serials = append(serials, replicas[i%2].issueSerial("alice"))
	}
	var numbers crlNumbers
	crlPath := replicas[0].group() + "/userSecurity/managedX509/crl"

	// Half of the certificates one after another, alternating replicas.
	var last *x509.RevocationList
	for i := 0; i < certs/2; i++ {
		r := replicas[i%2]
		r.mustDo(http.StatusNoContent, "DELETE", r.group()+"/databaseUsers/alice/certs/"+serials[i], "")
		crl, err := numbers.record(replicas[(i+1)%2].mustDo(http.StatusOK, "GET", crlPath, ""))
		if err != nil {
			t.Fatal(err)
		}
		if last != nil && crl.Number.Cmp(last.Number) <= 0 {
			t.Errorf("revocation %d: CRL number %v after %v", i, crl.Number, last.Number)
		}
		if len(crl.RevokedCertificateEntries) != i+1 {
			t.Errorf("revocation %d: the other replica's CRL lists %d certificates", i, len(crl.RevokedCertificateEntries))
		}
		last = crl
	}

	// The other half concurrently, with reads on both replicas.
	var wg sync.WaitGroup
	errs := make(chan error, certs)
	for i := certs / 2; i < certs; i++ {
		wg.Add(1)
		go func(r *env, serial string) {
			defer wg.Done()
			errs <- revokeAndRead(t, r, serial, crlPath, &numbers)
		}(replicas[i%2], serials[i])
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	var final []string
	for i, r := range replicas {
		body := r.mustDo(http.StatusOK, "GET", crlPath, "")
		final = append(final, string(body))
		crl, err := numbers.record(body)
		if err != nil {
			t.Fatal(err)
		}
		if len(crl.RevokedCertificateEntries) != certs || crl.Number.Cmp(last.Number) <= 0 {
			t.Errorf("replica %d's final CRL: number %v (after %v), %d entries, want %d", i, crl.Number, last.Number, len(crl.RevokedCertificateEntries), certs)
		}
	}
	if final[0] != final[1] {
		t.Errorf("the replicas serve different CRLs once all is committed")
	}
}

// revokeAndRead revokes serial through r, then reads and records its CRL;
// it reports rather than fails, for a goroutine.
func revokeAndRead(t *testing.T, r *env, serial, crlPath string, numbers *crlNumbers) error {
	rec := r.request(t, r.token, "DELETE", r.group()+"/databaseUsers/alice/certs/"+serial, "")
	if rec.Code != http.StatusNoContent {
		return fmt.Errorf("revoke %s: %d %s", serial, rec.Code, rec.Body.String())
	}
	rec = r.request(t, r.token, "GET", crlPath, "")
	if rec.Code != http.StatusOK {
		return fmt.Errorf("CRL: %d %s", rec.Code, rec.Body.String())
	}
	_, err := numbers.record(rec.Body.Bytes())
	return err
}
