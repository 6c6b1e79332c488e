package main

import (
	"crypto/x509"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/mongodb-forks/digest"

	"github.com/atlasx509/atlasx509/internal/atlasapi"
)

// TestConcurrentIssuance issues certificates in parallel in a project that
// has no CA yet: every request succeeds, exactly one CA is created and
// signs them all, and every serial is distinct and listed.
func TestConcurrentIssuance(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	// A transport of its own, whose connections are closed before the
	// server stops: net/http's Shutdown waits up to 5 s for a connection
	// that was dialed but never carried a request, which concurrent
	// clients leave behind.
	tr := &http.Transport{MaxIdleConnsPerHost: 32}
	t.Cleanup(tr.CloseIdleConnections)
	c := &http.Client{Transport: digest.NewTransportWithHTTPRoundTripper(s.Bootstrap.APIKey.PublicKey, s.Bootstrap.APIKey.PrivateKey, tr), Timeout: 60 * time.Second}
	gid := createProject(t, s, "concurrent")
	createManagedUser(t, c, s.URL, gid, "u1")
	createManagedUser(t, c, s.URL, gid, "u2")

	const n = 16
	results := make([]response, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			user := fmt.Sprintf("u%d", 1+i%2)
			results[i] = do(t, c, "POST", s.URL+apiV1+"/groups/"+gid+"/databaseUsers/"+user+"/certs", `{"monthsUntilExpiration":2}`)
		})
	}
	wg.Wait()

	cas := parseCAs(t, fetchCAPEM(t, c, s.URL, gid))
	if len(cas) != 1 {
		t.Fatalf("%d project CAs after concurrent first issuances, want 1", len(cas))
	}
	roots := x509.NewCertPool()
	roots.AddCert(cas[0])
	serials := map[int64]bool{}
	for i, r := range results {
		mustStatus(t, r, http.StatusCreated, fmt.Sprintf("issuance %d", i))
		is := parseCertAndKey(t, r.Body)
		if _, err := is.Cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			t.Errorf("issuance %d does not verify against the project CA: %v", i, err)
		}
		serial := is.Cert.SerialNumber.Int64()
		if serials[serial] {
			t.Errorf("serial %d issued twice", serial)
		}
		serials[serial] = true
	}
	listed := 0
	for _, user := range []string{"u1", "u2"} {
		r := do(t, c, "GET", s.URL+apiV1+"/groups/"+gid+"/databaseUsers/"+user+"/certs", "")
		mustStatus(t, r, http.StatusOK, "list "+user)
		var page atlasapi.Paginated[atlasapi.UserCert]
		decodeJSON(t, r.Body, &page)
		for _, item := range page.Results {
			if !serials[item.ID] || item.Subject != "CN="+user {
				t.Errorf("listed %+v for %s, not one of the issued certificates", item, user)
			}
			listed++
		}
		if page.TotalCount == nil || *page.TotalCount != n/2 {
			t.Errorf("%s: totalCount %v, want %d", user, page.TotalCount, n/2)
		}
	}
	if listed != n {
		t.Errorf("%d certificates listed, want %d", listed, n)
	}
}
