package main

import (
	"context"
	"crypto"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/atlasx509/atlasx509/internal/atlasapi"
	"github.com/atlasx509/atlasx509/internal/pki"
	"github.com/atlasx509/atlasx509/internal/testkit"
)

// blockingKeys is a pki.KeySource whose keys wait until the test releases
// them, so that an issuance request stays in flight.
type blockingKeys struct {
	once    sync.Once
	started chan struct{} // closed when the first key is asked for
	release chan struct{} // close to let keys be made
}

func (k *blockingKeys) NewKey(ctx context.Context, t pki.KeyType) (crypto.Signer, error) {
	k.once.Do(func() { close(k.started) })
	select {
	case <-k.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return testkit.FastKeys{}.NewKey(ctx, t)
}

// TestGracefulShutdown cancels serve while an issuance is in flight: the
// request still completes with 201, runServe returns nil, and the
// certificate is recorded in the store, which a new serve reopens.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	keys := &blockingKeys{started: make(chan struct{}), release: make(chan struct{})}
	var releaseOnce sync.Once
	release := func() { releaseOnce.Do(func() { close(keys.release) }) }
	t.Cleanup(release) // never leave the server blocked
	s := startServer(t, serverOptions{keys: keys})
	c := s.digestClient()
	gid := s.Bootstrap.ProjectID
	createManagedUser(t, c, s.URL, gid, "alice")

	type result struct {
		status int
		body   []byte
		err    error
	}
	inflight := make(chan result, 1)
	go func() {
		req, err := http.NewRequest("POST", s.URL+apiV1+"/groups/"+gid+"/databaseUsers/alice/certs", nil)
		if err != nil {
			inflight <- result{err: err}
			return
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.Do(req)
		if err != nil {
			inflight <- result{err: err}
			return
		}
		defer resp.Body.Close()
		var r result
		r.status = resp.StatusCode
		r.body, r.err = io.ReadAll(resp.Body)
		inflight <- r
	}()
	select {
	case <-keys.started:
	case r := <-inflight:
		t.Fatalf("the issuance finished before its key was released: %+v", r)
	case <-time.After(30 * time.Second):
		t.Fatal("the issuance never asked for a key")
	}

	// Stop serving, and wait until the listener is closed: shutdown has begun.
	s.cancel()
	probe := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 2 * time.Second}
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err := probe.Get(s.URL + "/healthz")
		if err != nil {
			break
		}
		resp.Body.Close()
		if time.Now().After(deadline) {
			t.Fatal("the server still accepts connections 30s after the cancellation")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-s.done:
		t.Fatalf("runServe returned %v with a request in flight", err)
	default:
	}

	release()
	var r result
	select {
	case r = <-inflight:
	case <-time.After(30 * time.Second):
		t.Fatal("the in-flight issuance did not complete")
	}
	if r.err != nil || r.status != http.StatusCreated {
		t.Fatalf("in-flight issuance: status %d, error %v, body %s", r.status, r.err, r.body)
	}
	is := parseCertAndKey(t, r.body)
	// No body: the default validity, 3 months.
	if want := pki.AddMonths(is.Cert.NotBefore.Add(time.Hour), 3); !is.Cert.NotAfter.Equal(want) {
		t.Errorf("notAfter %v, want %v (the default 3 months)", is.Cert.NotAfter, want)
	}
	if err := s.stop(); err != nil {
		t.Fatalf("runServe returned %v, want nil", err)
	}

	// The store was closed cleanly and holds the certificate.
	s2 := startServer(t, serverOptions{dataDir: s.DataDir, initialized: true})
	s2.Bootstrap = s.Bootstrap
	lr := do(t, s2.digestClient(), "GET", s2.URL+apiV1+"/groups/"+gid+"/databaseUsers/alice/certs", "")
	mustStatus(t, lr, http.StatusOK, "list certificates after the restart")
	var page atlasapi.Paginated[atlasapi.UserCert]
	decodeJSON(t, lr.Body, &page)
	if len(page.Results) != 1 || page.Results[0].ID != is.Cert.SerialNumber.Int64() || page.TotalCount == nil || *page.TotalCount != 1 {
		t.Errorf("certificates after the restart: %s, want the one with serial %d", lr.Body, is.Cert.SerialNumber.Int64())
	}
}
