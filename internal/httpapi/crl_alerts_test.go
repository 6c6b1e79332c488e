package httpapi

import (
	"crypto"
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

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/app"
	"github.com/atlasx509/atlasx509/internal/atlasapi"
	"github.com/atlasx509/atlasx509/internal/testkit"
)

// operatorCA is an operator's own CA, which signs its CRLs.
type operatorCA struct {
	pem  string
	cert *x509.Certificate
	key  crypto.Signer
}

func newOperatorCA(t testing.TB, cn string, notBefore time.Time) operatorCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn, Organization: []string{"Example"}},
		NotBefore: notBefore, NotAfter: notBefore.AddDate(5, 0, 0), BasicConstraintsValid: true, IsCA: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return operatorCA{string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), cert, key}
}

// crl signs a CRL of number n valid from thisUpdate to nextUpdate.
func (ca operatorCA) crl(t testing.TB, n int64, thisUpdate, nextUpdate time.Time) string {
	t.Helper()
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(n), ThisUpdate: thisUpdate, NextUpdate: nextUpdate}, ca.cert, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}))
}

func userSecurityBody(cas, crls *string) string {
	x := map[string]*string{"cas": cas, "crls": crls}
	if cas == nil {
		delete(x, "cas")
	}
	if crls == nil {
		delete(x, "crls")
	}
	b, _ := json.Marshal(map[string]any{"customerX509": x})
	return string(b)
}

// TestCustomerCRLs: customerX509.crls (an extension) takes the CRLs of the
// self-managed CAs, each signed by one of them and not past its
// nextUpdate; a new CA bundle keeps only the CRLs it signed; each change
// is a CUSTOMER_X509_CRL_UPDATED event.
func TestCustomerCRLs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.group()
	now := time.Now()
	root, other := newOperatorCA(t, "Corp Root", now.Add(-time.Hour)), newOperatorCA(t, "Other Root", now.Add(-time.Hour))
	good := root.crl(t, 1, now.Add(-time.Minute), now.AddDate(0, 0, 7))
	str := func(s string) *string { return &s }

	wantError(t, e.do("PATCH", g+"/userSecurity", userSecurityBody(nil, &good)), http.StatusBadRequest, "VALIDATION_ERROR") // no CA yet
	e.mustDo(http.StatusAccepted, "PATCH", g+"/userSecurity", userSecurityBody(&root.pem, nil))
	for name, crls := range map[string]string{
		"signed by another CA": other.crl(t, 1, now.Add(-time.Minute), now.AddDate(0, 0, 7)),
		"past its nextUpdate":  root.crl(t, 2, now.Add(-2*time.Hour), now.Add(-time.Hour)),
		"not a CRL":            root.pem,
	} {
		rec := e.do("PATCH", g+"/userSecurity", userSecurityBody(nil, &crls))
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s: %d %s", name, rec.Code, rec.Body)
		}
	}
	var us atlasapi.UserSecurity
	if err := json.Unmarshal(e.mustDo(http.StatusAccepted, "PATCH", g+"/userSecurity", userSecurityBody(nil, &good)), &us); err != nil ||
		us.CustomerX509.Crls != good || us.CustomerX509.Cas != root.pem {
		t.Fatalf("after setting the CRL: %+v %v", us, err)
	}
	// The CRL route serves it after the managed CAs' CRLs, as the CA route
	// serves its CA after theirs: one CRLFile for mongod.
	if crlFile := string(e.mustDo(http.StatusOK, "GET", g+"/userSecurity/managedX509/crl", "")); !strings.HasSuffix(crlFile, good) ||
		strings.Count(crlFile, "BEGIN X509 CRL") != 2 {
		t.Errorf("CRL route:\n%s", crlFile)
	}
	if ev := e.lastEvent(g); ev.EventTypeName != "CUSTOMER_X509_CRL_UPDATED" {
		t.Errorf("last event %s, want CUSTOMER_X509_CRL_UPDATED", ev.EventTypeName)
	}
	// The same CA again keeps its CRL; another CA drops it.
	e.mustDo(http.StatusAccepted, "PATCH", g+"/userSecurity", userSecurityBody(&root.pem, nil))
	if us := decode[atlasapi.UserSecurity](t, e.mustDo(http.StatusOK, "GET", g+"/userSecurity", "")); us.CustomerX509.Crls != good {
		t.Errorf("after the same CAs: %+v", us)
	}
	e.mustDo(http.StatusAccepted, "PATCH", g+"/userSecurity", userSecurityBody(str(other.pem+root.pem), str("")))
	e.mustDo(http.StatusAccepted, "PATCH", g+"/userSecurity", userSecurityBody(nil, &good))
	e.mustDo(http.StatusAccepted, "PATCH", g+"/userSecurity", userSecurityBody(&other.pem, nil))
	if us := decode[atlasapi.UserSecurity](t, e.mustDo(http.StatusOK, "GET", g+"/userSecurity", "")); us.CustomerX509.Crls != "" {
		t.Errorf("after another CA: %+v", us)
	}
	e.mustDo(http.StatusAccepted, "DELETE", g+"/userSecurity/customerX509", "")
	if got := eventTypes(e.events(g, "?eventType=CUSTOMER_X509_CRL_UPDATED").Results); len(got) != 4 {
		t.Errorf("CRL events: %v, want 4 (set, cleared, set, dropped with its CA; the DELETE finds none)", got)
	}
}

// TestCustomerCRLAlert: a CUSTOMER_CRL_EXPIRATION_CHECK alert opens when
// a self-managed CRL's nextUpdate comes inside the threshold, stays open
// once it has passed (mongod then refuses that CA's certificates), and
// closes when a newer CRL replaces it.
func TestCustomerCRLAlert(t *testing.T) {
	t.Parallel()
	clock := testkit.NewClock()
	e := newEnvWith(t, func(c *app.Config) { c.Now = clock.Now })
	g := e.group()
	start := clock.Now()
	root := newOperatorCA(t, "Corp Root", start.Add(-time.Hour))
	first := root.crl(t, 1, start.Add(-time.Minute), start.AddDate(0, 0, 60))
	e.mustDo(http.StatusAccepted, "PATCH", g+"/userSecurity", userSecurityBody(&root.pem, &first))
	body := `{"eventTypeName":"NDS_X509_USER_AUTHENTICATION_CUSTOMER_CRL_EXPIRATION_CHECK","enabled":true,
		"threshold":{"operator":"LESS_THAN","threshold":30,"units":"DAYS"},
		"notifications":[{"typeName":"EMAIL","emailAddress":"pki@example.com","intervalMin":1440}]}`
	configID := decodeConfig(t, e.mustDo(http.StatusCreated, "POST", g+"/alertConfigs", body)).ID
	runner := &app.AlertRunner{App: e.app, Holder: "r1", Interval: time.Minute}
	alerts := func() []atlasapi.Alert {
		t.Helper()
		e.refreshToken()
		page := decode[atlasapi.Paginated[atlasapi.Alert]](t, e.mustDo(http.StatusOK, "GET", g+"/alerts", ""))
		var out []atlasapi.Alert
		for _, al := range page.Results {
			if al.AlertConfigID == configID {
				out = append(out, al)
			}
		}
		return out
	}
	steps := []struct {
		advance time.Duration
		want    string // the status of the configuration's alert, "" for none
	}{
		{0, ""},                       // 60 days left
		{35 * 24 * time.Hour, "OPEN"}, // 25 days left
		{30 * 24 * time.Hour, "OPEN"}, // past its nextUpdate
	}
	for i, st := range steps {
		clock.Add(st.advance)
		tick(t, runner)
		got := alerts()
		switch {
		case st.want == "" && len(got) != 0, st.want != "" && (len(got) != 1 || got[0].Status != st.want):
			t.Fatalf("step %d: alerts %+v, want %q", i, got, st.want)
		}
	}
	next := root.crl(t, 2, clock.Now().Add(-time.Minute), clock.Now().AddDate(0, 0, 60))
	e.mustDo(http.StatusAccepted, "PATCH", g+"/userSecurity", userSecurityBody(nil, &next))
	tick(t, runner)
	got := alerts()
	if len(got) != 1 || got[0].Status != atlasx509.AlertClosed || got[0].Resolved == "" {
		t.Fatalf("after a new CRL: %+v", got)
	}
	types := eventTypes(e.events(g, "?eventType=NDS_X509_USER_AUTHENTICATION_CUSTOMER_CRL_EXPIRATION_CHECK&eventType=NDS_X509_USER_AUTHENTICATION_CUSTOMER_CRL_EXPIRATION_RESOLVED").Results)
	if strings.Join(types, " ") != "NDS_X509_USER_AUTHENTICATION_CUSTOMER_CRL_EXPIRATION_RESOLVED NDS_X509_USER_AUTHENTICATION_CUSTOMER_CRL_EXPIRATION_CHECK" {
		t.Errorf("alert events: %v", types)
	}
}
