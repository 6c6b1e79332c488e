package console_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var (
	newID     = regexp.MustCompile(`id="new-id">([^<]+)<`)
	newSecret = regexp.MustCompile(`id="new-secret-value">([^<]+)<`)
)

// TestAccessPage: an API key and a service account made in the console
// show their secret once, work for signing in, get access list entries,
// and are deleted.
func TestAccessPage(t *testing.T) {
	e := newEnv(t, envOptions{})
	b := e.browser()
	b.signInBootstrap()
	access := b.get("/console/access")
	if access.status != http.StatusOK || !strings.Contains(access.body, e.boot.APIKey.PublicKey) || !strings.Contains(access.body, e.boot.ServiceAccount.ClientID) {
		t.Fatalf("access page: status %d; body %s", access.status, access.body)
	}
	csrf := access.csrf(t)

	bad := b.post("/console/access/apiKey", url.Values{"csrf": {csrf}, "desc": {"no roles"}})
	if bad.status != http.StatusBadRequest || !strings.Contains(bad.body, `class="error"`) {
		t.Errorf("API key without roles: status %d", bad.status)
	}
	created := b.post("/console/access/apiKey", url.Values{"csrf": {csrf}, "desc": {"ci"}, "roles": {"ORG_READ_ONLY"}})
	pub, priv := newID.FindStringSubmatch(created.body), newSecret.FindStringSubmatch(created.body)
	if created.status != http.StatusOK || pub == nil || priv == nil || created.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("new API key: status %d, Cache-Control %q; body %s", created.status, created.header.Get("Cache-Control"), created.body)
	}
	if again := b.get("/console/access"); strings.Contains(again.body, priv[1]) {
		t.Error("the private key is shown again")
	}
	other := e.browser()
	other.signIn(pub[1], priv[1])
	if p := other.get("/console/access"); strings.Contains(p.body, `id="new-api-key"`) || strings.Contains(p.body, "/delete") {
		t.Error("an ORG_READ_ONLY key sees the forms that change credentials")
	}

	sa := b.post("/console/access/serviceAccount", url.Values{"csrf": {csrf}, "name": {"deployer"}, "desc": {"deploys"}, "roles": {"ORG_MEMBER"}, "hours": {"2160"}})
	id, secret := newID.FindStringSubmatch(sa.body), newSecret.FindStringSubmatch(sa.body)
	if sa.status != http.StatusOK || id == nil || secret == nil || !strings.HasPrefix(secret[1], "mdb_sa_sk_") {
		t.Fatalf("new service account: status %d; body %s", sa.status, sa.body)
	}

	rotated := b.post("/console/access/serviceAccount/"+id[1]+"/secrets", url.Values{"csrf": {csrf}, "hours": {"24"}})
	second := newSecret.FindStringSubmatch(rotated.body)
	if rotated.status != http.StatusOK || second == nil || second[1] == secret[1] {
		t.Fatalf("new secret: status %d; body %s", rotated.status, rotated.body)
	}
	secretIDs := regexp.MustCompile(`name="secretId" value="([0-9a-f]{24})"`).FindAllStringSubmatch(b.get("/console/access").body, -1)
	if strings.Contains(b.get("/console/access").body, second[1]) {
		t.Error("the new secret is shown again")
	}
	before := len(secretIDs)
	if p := b.post("/console/access/serviceAccount/"+id[1]+"/secrets/delete", url.Values{"csrf": {csrf}, "secretId": {secretIDs[len(secretIDs)-1][1]}}); p.status != http.StatusSeeOther {
		t.Fatalf("delete secret: status %d: %s", p.status, p.body)
	}
	if after := len(regexp.MustCompile(`name="secretId"`).FindAllString(b.get("/console/access").body, -1)); after != before-1 {
		t.Errorf("secrets listed after a deletion: %d, want %d", after, before-1)
	}

	keyID := regexp.MustCompile(`/console/access/apiKey/([0-9a-f]{24})/delete`)
	var newKeyID string
	for _, m := range keyID.FindAllStringSubmatch(b.get("/console/access").body, -1) {
		if m[1] != e.boot.APIKey.ID {
			newKeyID = m[1]
		}
	}
	if newKeyID == "" {
		t.Fatal("no delete form for the new key")
	}
	if p := b.post("/console/access/apiKey/"+newKeyID+"/accesslist", url.Values{"csrf": {csrf}, "address": {"not an address"}}); p.status != http.StatusBadRequest {
		t.Errorf("a bad address: status %d", p.status)
	}
	if p := b.post("/console/access/apiKey/"+newKeyID+"/accesslist", url.Values{"csrf": {csrf}, "address": {"192.0.2.0/24"}}); p.status != http.StatusSeeOther {
		t.Fatalf("add entry: status %d: %s", p.status, p.body)
	}
	// The key's session is now refused: 127.0.0.1 is not on its list.
	if p := other.get("/console/projects"); p.status != http.StatusForbidden {
		t.Errorf("the key's session from outside its access list: status %d, want 403", p.status)
	}
	if p := b.post("/console/access/apiKey/"+newKeyID+"/accesslist/delete", url.Values{"csrf": {csrf}, "cidr": {"192.0.2.0/24"}}); p.status != http.StatusSeeOther {
		t.Fatalf("remove entry: status %d: %s", p.status, p.body)
	}
	if p := b.post("/console/access/apiKey/"+newKeyID+"/delete", url.Values{"csrf": {csrf}}); p.status != http.StatusSeeOther {
		t.Fatalf("delete key: status %d: %s", p.status, p.body)
	}
	if p := other.get("/console/projects"); p.status != http.StatusSeeOther {
		t.Errorf("the deleted key's session: status %d, want a redirect to sign-in", p.status)
	}
	if p := b.post("/console/access/serviceAccount/"+id[1]+"/delete", url.Values{"csrf": {csrf}}); p.status != http.StatusSeeOther {
		t.Fatalf("delete service account: status %d: %s", p.status, p.body)
	}
	if p := b.get("/console/access"); strings.Contains(p.body, id[1]) {
		t.Error("the deleted service account is still listed")
	}
}
