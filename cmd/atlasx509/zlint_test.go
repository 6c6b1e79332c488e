package main

import (
	"crypto/rsa"
	"slices"
	"testing"

	zx509 "github.com/zmap/zcrypto/x509"
	"github.com/zmap/zlint/v3"
	"github.com/zmap/zlint/v3/lint"
)

// caLintExclusions restates caLintExclusions of internal/pki/zlint_test.go,
// with the same reasons: test helpers cannot be imported across packages.
// Keep the two lists identical; internal/pki's TestZlintCAExclusionsStillFire
// checks that every entry still fires. Leaves have no exclusions.
var caLintExclusions = map[string]string{
	"e_ca_country_name_missing": "BR 7.1.2.10.2 requires countryName in public CA subjects. " +
		"Our issuer DN is CN=<groupId>, OU=Atlas, O=atlasx509 in Atlas's order and shape, which has no C; " +
		"a project has no country to state.",
	"e_subj_orgunit_in_ca_cert": "BR 7.1.2.10.2 (ballot SC62) prohibits OU in root and TLS CA subjects. " +
		"Atlas's managed-X.509 issuer carries OU=Atlas and we keep its shape; this CA issues no TLS server certificates.",
	"w_root_ca_basic_constraints_path_len_constraint_field_present": "BR 7.1.2.1.4 leaves pathLenConstraint off public roots " +
		"so they can add intermediates later. A project CA must never certify another CA: pathLenConstraint 0 " +
		"makes every verifier enforce that, so it is deliberate.",
}

// requireLintClean fails unless every zlint lint but the excluded ones
// passes or does not apply to der.
func requireLintClean(tb testing.TB, what string, der []byte, excluded map[string]string) {
	tb.Helper()
	cert, err := zx509.ParseCertificate(der)
	if err != nil {
		tb.Fatalf("%s: zcrypto cannot parse the certificate: %v", what, err)
	}
	registry := lint.GlobalRegistry()
	if len(excluded) > 0 {
		names := make([]string, 0, len(excluded))
		for name := range excluded {
			names = append(names, name)
		}
		if registry, err = registry.Filter(lint.FilterOptions{ExcludeNames: names}); err != nil {
			tb.Fatalf("zlint filter: %v", err)
		}
	}
	var findings []string
	for name, r := range zlint.LintCertificateEx(cert, registry).Results {
		switch r.Status {
		case lint.Warn, lint.Error, lint.Fatal:
			findings = append(findings, name+": "+r.Status.String()+" "+r.Details)
		}
	}
	slices.Sort(findings)
	for _, f := range findings {
		tb.Errorf("%s: zlint %s", what, f)
	}
}

// TestZlint lints a certificate issued over the API with an RSA 2048 leaf
// key, and the project CA that signed it.
func TestZlint(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{keys: newRSAKeys(t)})
	c := s.digestClient()
	gid := s.Bootstrap.ProjectID
	createManagedUser(t, c, s.URL, gid, "user389")
	for _, months := range []int{1, 24} {
		is := issueCert(t, c, s.URL, gid, "user389", months)
		if k, ok := is.Key.(*rsa.PrivateKey); !ok || k.N.BitLen() != 2048 {
			t.Fatalf("leaf key %T, want the test source's RSA 2048 key", is.Key)
		}
		requireLintClean(t, "RSA 2048 leaf", is.Cert.Raw, nil)
	}
	for _, ca := range parseCAs(t, fetchCAPEM(t, c, s.URL, gid)) {
		requireLintClean(t, "project CA", ca.Raw, caLintExclusions)
	}
}
