package app

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/atlasapi"
	"github.com/atlasx509/atlasx509/internal/pki"
	"github.com/atlasx509/atlasx509/internal/store"
	"github.com/atlasx509/atlasx509/internal/testkit"
)

type fixture struct {
	app   *App
	store store.Store
	clock *testkit.Clock
	boot  atlasapi.Bootstrap
	owner atlasx509.Principal
}

func newFixture(tb testing.TB, keys pki.KeySource) *fixture {
	tb.Helper()
	ctx := context.Background()
	st := testkit.Store(tb)
	c := testkit.NewClock()
	a, err := New(ctx, Config{Store: st, Keyring: testkit.Keyring(tb), Keys: keys, Now: c.Now})
	if err != nil {
		tb.Fatal(err)
	}
	boot, err := a.Bootstrap(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	owner := atlasx509.Principal{ID: boot.APIKey.ID, Kind: atlasx509.PrincipalAPIKey, OrgID: boot.OrgID,
		Roles: []atlasx509.RoleAssignment{{PrincipalID: boot.APIKey.ID, OrgID: boot.OrgID, Role: atlasx509.RoleOrgOwner}}}
	return &fixture{app: a, store: st, clock: c, boot: boot, owner: owner}
}

func (f *fixture) managedUser(tb testing.TB, name string) {
	tb.Helper()
	str := func(s string) *string { return &s }
	roles := []atlasx509.DatabaseRole{{RoleName: "read", DatabaseName: "app"}}
	_, err := f.app.CreateDatabaseUser(context.Background(), f.owner, f.boot.ProjectID, DatabaseUserInput{
		Username: str(name), DatabaseName: str("$external"), X509Type: str("MANAGED"), Roles: &roles,
	})
	if err != nil {
		tb.Fatal(err)
	}
}

func (f *fixture) issue(tb testing.TB, name string, months int) *x509.Certificate {
	tb.Helper()
	out, err := f.app.CreateDatabaseUserCertificate(context.Background(), f.owner, f.boot.ProjectID, name, &months)
	if err != nil {
		tb.Fatal(err)
	}
	block, _ := pem.Decode(out)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		tb.Fatal(err)
	}
	return cert
}

// TestCARotation: when a certificate would outlive the newest CA, a new CA
// generation signs it, and the CA route returns both until the old expires.
func TestCARotation(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testkit.FastKeys{})
	ctx := context.Background()
	f.managedUser(t, "alice")
	start := f.clock.Now()
	first := f.issue(t, "alice", 24)

	f.clock.Set(start.AddDate(9, 0, 0)) // the first CA has one year left
	short := f.issue(t, "alice", 6)     // fits in the first CA
	long := f.issue(t, "alice", 24)     // does not
	if string(short.RawIssuer) != string(first.RawIssuer) || short.AuthorityKeyId == nil ||
		string(short.AuthorityKeyId) != string(first.AuthorityKeyId) {
		t.Error("a certificate that fits in the first CA was signed by another")
	}
	if string(long.AuthorityKeyId) == string(first.AuthorityKeyId) {
		t.Fatal("a certificate outliving the first CA was signed by it")
	}
	caPEM, err := f.app.ProjectCAPEM(ctx, f.owner, f.boot.ProjectID)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(caPEM), "BEGIN CERTIFICATE"); n != 2 {
		t.Fatalf("CA route holds %d certificates, want 2", n)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	for _, c := range []*x509.Certificate{short, long} {
		if _, err := c.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: f.clock.Now(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			t.Errorf("serial %d: %v", c.SerialNumber, err)
		}
	}
	// Once the first CA has expired, the route stops listing it.
	f.clock.Set(start.AddDate(10, 0, 1))
	caPEM, _ = f.app.ProjectCAPEM(ctx, f.owner, f.boot.ProjectID)
	if n := strings.Count(string(caPEM), "BEGIN CERTIFICATE"); n != 1 {
		t.Errorf("after the first CA expired the route holds %d certificates, want 1", n)
	}
	// Expired certificates drop out of the list.
	certs, total, err := f.app.ListDatabaseUserCertificates(ctx, f.owner, f.boot.ProjectID, "alice", ListOptions{PageNum: 1, ItemsPerPage: 100}, false)
	if err != nil || total != 1 || len(certs) != 1 || certs[0].Serial != long.SerialNumber.Int64() {
		t.Errorf("list after ten years: %v %d %+v", err, total, certs)
	}
}

// failingKeys fails every key request, as a broken key source would.
type failingKeys struct{}

func (failingKeys) NewKey(context.Context, pki.KeyType) (crypto.Signer, error) {
	return nil, errors.New("entropy source unavailable")
}

// TestIssuanceFailureLeavesNothing: a fault before the answer leaves no
// record and no new CA (the project's own came with it), and the client
// sees only "Unexpected error.".
func TestIssuanceFailureLeavesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t, failingKeys{})
	ctx := context.Background()
	f.managedUser(t, "alice")
	_, err := f.app.CreateDatabaseUserCertificate(ctx, f.owner, f.boot.ProjectID, "alice", nil)
	var e *atlasx509.Error
	if !errors.As(err, &e) || e.Kind != atlasx509.KindInternal || e.Detail != "Unexpected error." || strings.Contains(e.Detail, "entropy") {
		t.Fatalf("error %#v", err)
	}
	f.store.View(ctx, func(tx store.Tx) error {
		n, _ := tx.CountCertificates(ctx, store.CertificateFilter{GroupID: f.boot.ProjectID, Username: "alice", IncludeRevoked: true})
		cas, _ := tx.ListProjectCAs(ctx, f.boot.ProjectID)
		if n != 0 || len(cas) != 1 {
			t.Errorf("after a failed issuance: %d records, %d CAs", n, len(cas))
		}
		return nil
	})
}

// TestDeletedUserGetsNoCertificate: a deletion that commits between the
// checks and the write of an issuance wins.
func TestDeletedUserGetsNoCertificate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	gate := &gatedKeys{release: make(chan struct{}), asked: make(chan struct{}, 1)}
	f := newFixture(t, gate)
	f.managedUser(t, "alice")
	done := make(chan error, 1)
	go func() {
		_, err := f.app.CreateDatabaseUserCertificate(ctx, f.owner, f.boot.ProjectID, "alice", nil)
		done <- err
	}()
	<-gate.asked // the issuance passed its checks and waits for its key
	if err := f.app.DeleteDatabaseUser(ctx, f.owner, f.boot.ProjectID, "$external", "alice"); err != nil {
		t.Fatal(err)
	}
	close(gate.release)
	if err := <-done; atlasx509.ErrorCode(err) != "USERNAME_NOT_FOUND" {
		t.Fatalf("issuance for a deleted user: %v", err)
	}
}

type gatedKeys struct {
	release chan struct{}
	asked   chan struct{}
}

func (g *gatedKeys) NewKey(ctx context.Context, t pki.KeyType) (crypto.Signer, error) {
	g.asked <- struct{}{}
	<-g.release
	return testkit.FastKeys{}.NewKey(ctx, t)
}

func TestBootstrapOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testkit.FastKeys{})
	if _, err := f.app.Bootstrap(context.Background()); !errors.Is(err, ErrAlreadyInitialized) {
		t.Fatalf("second bootstrap: %v", err)
	}
}

func TestParseDN(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in    string
		ok    bool
		hasCN bool
	}{
		{"CN=alice", true, true},
		{"CN=alice,OU=eng,O=Example", true, true},
		{"cn=alice+UID=7, ou=eng", true, true},
		{`CN=Smith\, John,O=Example`, true, true},
		{`CN=\23hash`, true, true},
		{"2.5.4.3=#0c05616c696365", true, true},
		{"OU=eng,O=Example", true, false},
		{"alice", false, false},
		{"CN=", false, false},
		{"CN=a,", false, false},
		{"=a", false, false},
		{`CN=a"b`, false, false},
		{`CN=a\`, false, false},
		{"1..2=x", false, false},
	}
	for _, tt := range tests {
		rdns, err := parseDN(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("parseDN(%q) error %v, want ok=%v", tt.in, err, tt.ok)
			continue
		}
		if err == nil && hasCN(rdns) != tt.hasCN {
			t.Errorf("hasCN(%q) = %v", tt.in, !tt.hasCN)
		}
	}
}

func FuzzParseDN(f *testing.F) {
	for _, s := range []string{"CN=alice", `CN=a\,b+OU=c;O=d`, "2.5.4.3=#0c05", " CN = x "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rdns, err := parseDN(s)
		if err == nil && len(rdns) == 0 {
			t.Fatalf("parseDN(%q) accepted an empty DN", s)
		}
	})
}

func TestTemporaryUsersExpire(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testkit.FastKeys{})
	ctx := context.Background()
	str := func(s string) *string { return &s }
	roles := []atlasx509.DatabaseRole{{RoleName: "read", DatabaseName: "app"}}
	for name, after := range map[string]*string{"temp": str(f.clock.Now().Add(time.Hour).Format(time.RFC3339)), "perm": nil} {
		_, err := f.app.CreateDatabaseUser(ctx, f.owner, f.boot.ProjectID, DatabaseUserInput{
			Username: str(name), DatabaseName: str("admin"), Password: str("correct horse"), Roles: &roles, DeleteAfterDate: after,
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if n, err := f.app.DeleteExpiredUsers(ctx); err != nil || n != 0 {
		t.Fatalf("before expiry: %d %v", n, err)
	}
	f.clock.Set(f.clock.Now().Add(2 * time.Hour))
	if n, err := f.app.DeleteExpiredUsers(ctx); err != nil || n != 1 {
		t.Fatalf("after expiry: %d %v", n, err)
	}
	if _, err := f.app.GetDatabaseUser(ctx, f.owner, f.boot.ProjectID, "admin", "temp"); atlasx509.ErrorCode(err) != "USERNAME_NOT_FOUND" {
		t.Errorf("temporary user still there: %v", err)
	}
	if _, err := f.app.GetDatabaseUser(ctx, f.owner, f.boot.ProjectID, "admin", "perm"); err != nil {
		t.Errorf("permanent user gone: %v", err)
	}
}

// TestDeletedSecretEndsItsTokens: a token lives no longer than the secret
// it was minted with; tokens of the account's other secrets keep working.
func TestDeletedSecretEndsItsTokens(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testkit.FastKeys{})
	ctx := context.Background()
	clientID := f.boot.ServiceAccount.ClientID
	tok, err := f.app.IssueToken(ctx, clientID, f.boot.ServiceAccount.ClientSecret)
	if err != nil {
		t.Fatal(err)
	}
	// A second secret, and a token minted with it.
	_, second, plain, err := f.app.newServiceAccount(f.boot.OrgID, "x", f.clock.Now(), 30*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	second.ClientID = clientID
	if err := f.store.Update(ctx, func(tx store.Tx) error { return tx.InsertServiceAccountSecret(ctx, second) }); err != nil {
		t.Fatal(err)
	}
	tok2, err := f.app.IssueToken(ctx, clientID, plain)
	if err != nil {
		t.Fatal(err)
	}
	var first string
	f.store.View(ctx, func(tx store.Tx) error {
		secrets, _ := tx.ListServiceAccountSecrets(ctx, clientID)
		for _, s := range secrets {
			if s.ID != second.ID {
				first = s.ID
			}
		}
		return nil
	})
	if _, err := f.app.AuthenticateBearer(ctx, tok.AccessToken); err != nil {
		t.Fatalf("token refused before its secret was deleted: %v", err)
	}
	if err := f.store.Update(ctx, func(tx store.Tx) error { return tx.DeleteServiceAccountSecret(ctx, clientID, first) }); err != nil {
		t.Fatal(err)
	}
	var ae *AuthError
	if _, err := f.app.AuthenticateBearer(ctx, tok.AccessToken); !errors.As(err, &ae) {
		t.Errorf("token of a deleted secret: %v, want an AuthError", err)
	}
	if _, err := f.app.AuthenticateBearer(ctx, tok2.AccessToken); err != nil {
		t.Errorf("token of the remaining secret refused: %v", err)
	}
	// An expired secret ends its tokens too, before the token's own hour.
	f.clock.Set(f.clock.Now().Add(45 * time.Minute))
	if _, err := f.app.AuthenticateBearer(ctx, tok2.AccessToken); err == nil {
		t.Error("token outlived its expired secret")
	}
}
