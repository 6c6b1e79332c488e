package httpapi

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/atlasx509/atlasx509/internal/atlasapi"
)

// customerCA makes a self-signed certificate as an operator's own CA would
// be (isCA), or a plain certificate, valid until notAfter.
func customerCA(tb testing.TB, cn string, isCA bool, notAfter time.Time) string {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn, Organization: []string{"Example"}},
		NotBefore: notAfter.AddDate(-2, 0, 0), NotAfter: notAfter,
		BasicConstraintsValid: true, IsCA: isCA, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func TestSelfManagedX509(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.group()
	e.createUser(managedUserBody("alice"))
	e.issue("alice", 3)
	valid := time.Now().AddDate(1, 0, 0)
	ca1, ca2 := customerCA(t, "Corp Root", true, valid), customerCA(t, "Corp Issuing", true, valid)

	// Nothing configured: Atlas's shape, an empty customerX509.
	if got := string(e.mustDo(http.StatusOK, "GET", g+"/userSecurity", "")); got != `{"customerX509":{},"ldap":{"authenticationEnabled":false,"authorizationEnabled":false}}` {
		t.Errorf("empty user security: %s", got)
	}
	body, _ := json.Marshal(map[string]any{"customerX509": map[string]string{"cas": ca1 + "\n" + ca2}})
	got := e.mustDo(http.StatusAccepted, "PATCH", g+"/userSecurity", string(body))
	var us atlasapi.UserSecurity
	if err := json.Unmarshal(got, &us); err != nil || strings.Count(us.CustomerX509.Cas, "BEGIN CERTIFICATE") != 2 {
		t.Fatalf("after PATCH: %v %s", err, got)
	}
	// CUSTOMER users are named by their DN.
	e.createUser(`{"username":"CN=bob,OU=eng,O=Example","databaseName":"$external","x509Type":"CUSTOMER","roles":[{"roleName":"read","databaseName":"app"}]}`)
	// Managed issuance is refused in advanced mode; managed users and their certificates stay listed.
	rec := e.do("POST", g+"/databaseUsers/alice/certs", `{"monthsUntilExpiration":3}`)
	if rec.Code != 400 || apiError(t, rec).ErrorCode != "CANNOT_GENERATE_CERT_IF_ADVANCED_X509" {
		t.Errorf("issuance in advanced mode: %d %s", rec.Code, rec.Body.String())
	}
	if list := string(e.mustDo(http.StatusOK, "GET", g+"/databaseUsers/alice/certs", "")); !strings.Contains(list, `"totalCount":1`) {
		t.Errorf("managed certificates disappeared: %s", list)
	}
	// The CA route gives the managed CA and both customer CAs.
	if n := strings.Count(string(e.mustDo(http.StatusOK, "GET", g+"/userSecurity/managedX509/ca", "")), "BEGIN CERTIFICATE"); n != 3 {
		t.Errorf("CA route holds %d certificates, want 3", n)
	}
	// Disabling brings managed issuance back.
	got = e.mustDo(http.StatusAccepted, "DELETE", g+"/userSecurity/customerX509", "")
	if string(got) != `{"customerX509":{},"ldap":{"authenticationEnabled":false,"authorizationEnabled":false}}` {
		t.Errorf("after DELETE: %s", got)
	}
	e.issue("alice", 1)
	// An empty cas also turns it off.
	e.mustDo(http.StatusAccepted, "PATCH", g+"/userSecurity", string(body))
	e.mustDo(http.StatusAccepted, "PATCH", g+"/userSecurity", `{"customerX509":{"cas":""}}`)
	e.issue("alice", 1)
}

func TestSelfManagedX509Errors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.group()
	valid := time.Now().AddDate(1, 0, 0)
	cas := func(pemText string) string {
		b, _ := json.Marshal(map[string]any{"customerX509": map[string]string{"cas": pemText}})
		return string(b)
	}
	readOnly := e.tokenWithRoles(roleOn(e, "GROUP_READ_ONLY"))
	dbAdmin := e.tokenWithRoles(roleOn(e, "GROUP_DATABASE_ACCESS_ADMIN"))
	tests := []struct {
		name, token, method, body string
		wantStatus                int
		wantCode                  string
	}{
		{"expired CA", "", "PATCH", cas(customerCA(t, "Old", true, time.Now().Add(-time.Hour))), 400, "EXPIRED_X509_CA_CERTIFICATE"},
		{"not a CA", "", "PATCH", cas(customerCA(t, "Leaf", false, valid)), 400, "VALIDATION_ERROR"},
		{"not PEM", "", "PATCH", cas("hello"), 400, "INVALID_ATTRIBUTE"},
		{"trailing junk", "", "PATCH", cas(customerCA(t, "Root", true, valid) + "junk"), 400, "INVALID_ATTRIBUTE"},
		{"a key instead", "", "PATCH", cas("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), 400, "INVALID_ATTRIBUTE"},
		{"garbage DER", "", "PATCH", cas("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), 400, "VALIDATION_ERROR"},
		{"ldap on", "", "PATCH", `{"ldap":{"authenticationEnabled":true,"hostname":"ldap.example.com","port":636}}`, 400, "UNSUPPORTED_FEATURE"},
		{"unknown attribute", "", "PATCH", `{"customerX509":{"cas":"x","crl":"y"}}`, 400, "INVALID_ATTRIBUTE"},
		{"read-only cannot read", readOnly, "GET", "", 401, "USER_UNAUTHORIZED"},
		{"database admin cannot change", dbAdmin, "PATCH", cas(customerCA(t, "Root", true, valid)), 401, "USER_UNAUTHORIZED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token := e.token
			if tt.token != "" {
				token = tt.token
			}
			rec := e.doAs(token, tt.method, g+"/userSecurity", tt.body)
			if rec.Code != tt.wantStatus || apiError(t, rec).ErrorCode != tt.wantCode {
				t.Fatalf("%d %s, want %d %s", rec.Code, rec.Body.String(), tt.wantStatus, tt.wantCode)
			}
			if got := string(e.mustDo(http.StatusOK, "GET", g+"/userSecurity", "")); strings.Contains(got, "cas") {
				t.Errorf("a refused change was stored: %s", got)
			}
		})
	}
}

func TestLeafKeyType(t *testing.T) {
	t.Parallel()
	kinds := &recordingKeys{}
	e := newEnvKeys(t, kinds)
	g := e.group()
	e.createUser(managedUserBody("alice"))
	if got := string(e.mustDo(200, "GET", g+"/userSecurity/managedX509", "")); !strings.Contains(got, `"leafKeyType":"RSA4096"`) {
		t.Errorf("default: %s", got)
	}
	e.mustDo(201, "POST", g+"/databaseUsers/alice/certs", `{}`)
	e.mustDo(200, "PATCH", g+"/userSecurity/managedX509", `{"leafKeyType":"ECDSA_P384"}`)
	e.mustDo(201, "POST", g+"/databaseUsers/alice/certs", `{}`)
	if diff := strings.Join(kinds.asked, ","); diff != "RSA4096,ECDSA_P384" {
		t.Errorf("key types asked: %s", diff)
	}
	rec := e.do("PATCH", g+"/userSecurity/managedX509", `{"leafKeyType":"DSA"}`)
	if rec.Code != 400 || apiError(t, rec).ErrorCode != "INVALID_ENUM_VALUE" {
		t.Errorf("bad key type: %d %s", rec.Code, rec.Body.String())
	}
	readOnly := e.tokenWithRoles(roleOn(e, "GROUP_READ_ONLY"))
	if rec := e.doAs(readOnly, "PATCH", g+"/userSecurity/managedX509", `{"leafKeyType":"RSA2048"}`); rec.Code != 401 {
		t.Errorf("read-only changed the key type: %d", rec.Code)
	}
}
