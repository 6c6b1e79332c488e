package pki

import (
	"slices"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	zx509 "github.com/zmap/zcrypto/x509"
	"github.com/zmap/zlint/v3"
	"github.com/zmap/zlint/v3/lint"
)

// caLintExclusions names the zlint lints that a project CA fails on purpose,
// each with the reason it does not apply. All three are CA/Browser Forum
// Baseline Requirements for publicly trusted TLS hierarchies; a project CA
// is private, trusted only by that project's mongod (net.tls.CAFile), and
// signs client-authentication certificates only. Leaves have no exclusions.
// TestZlintCAExclusionsStillFire fails when an entry stops firing, so the
// list cannot hide a lint that would now pass.
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

// failing lists the lints that reported Warn, Error or Fatal on der.
func failing(t *testing.T, der []byte, registry lint.Registry) []string {
	t.Helper()
	cert, err := zx509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("zcrypto cannot parse the certificate: %v", err)
	}
	rs := zlint.LintCertificateEx(cert, registry)
	var names []string
	for name, r := range rs.Results {
		switch r.Status {
		case lint.Warn, lint.Error, lint.Fatal:
			names = append(names, name+": "+r.Status.String()+" "+r.Details)
		}
	}
	sort.Strings(names)
	return names
}

// requireLintClean fails unless every lint except those excluded passes or
// does not apply.
func requireLintClean(t *testing.T, der []byte, excluded map[string]string) {
	t.Helper()
	registry := lint.GlobalRegistry()
	if len(excluded) > 0 {
		var err error
		registry, err = registry.Filter(lint.FilterOptions{ExcludeNames: sortedKeys(excluded)})
		if err != nil {
			t.Fatalf("zlint filter: %v", err)
		}
	}
	if got := failing(t, der, registry); len(got) != 0 {
		t.Errorf("zlint findings:\n%s", cmp.Diff([]string(nil), got))
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func TestZlint(t *testing.T) {
	t.Parallel()
	usernames := []string{"user389", "josé", "app@example.com", `a,b+c"d`}
	tests := []struct {
		name string
		ca   *CA
		key  KeyType
	}{
		{"RSA 2048 leaf", testCA, RSA2048},
		{"P-256 leaf", testCA, ECDSAP256},
		{"P-384 leaf", testCA, ECDSAP384},
		{"P-256 leaf of an RSA CA", testRSACA, ECDSAP256},
	}
	for _, tt := range tests {
		for i, u := range usernames {
			t.Run(tt.name+"/"+u, func(t *testing.T) {
				for _, months := range []int{MinMonths, MaxMonths} {
					der, err := tt.ca.IssueLeaf(LeafRequest{
						Username: u, Months: months, Now: now, Serial: int64(100 + i), Key: testLeafKey[tt.key],
					}, nil)
					if err != nil {
						t.Fatal(err)
					}
					requireLintClean(t, der, nil)
				}
			})
		}
	}
	t.Run("CA", func(t *testing.T) {
		requireLintClean(t, testCADER, caLintExclusions)
	})
}

func TestZlintCAExclusionsStillFire(t *testing.T) {
	t.Parallel()
	var got []string
	cert, err := zx509.ParseCertificate(testCADER)
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range zlint.LintCertificate(cert).Results {
		if r.Status == lint.Warn || r.Status == lint.Error || r.Status == lint.Fatal {
			got = append(got, name)
		}
	}
	slices.Sort(got)
	if diff := cmp.Diff(sortedKeys(caLintExclusions), got); diff != "" {
		t.Errorf("lints the CA fails differ from the documented exclusions (-want +got):\n%s", diff)
	}
}

// TestZlintUsernameLimits documents what zlint says about usernames that
// Atlas accepts (up to 1024 characters) but RFC 5280 frowns on; IssueLeaf
// does not refuse them, the API layer decides.
func TestZlintUsernameLimits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		username string
		want     []string
	}{
		{"u234567890123456789012345678901234567890123456789012345678901234", nil}, // 64: the limit
		{"u2345678901234567890123456789012345678901234567890123456789012345", []string{"e_subject_common_name_max_length: error "}},
		{" alice", []string{"w_subject_dn_leading_whitespace: warn "}},
		{"alice ", []string{"w_subject_dn_trailing_whitespace: warn "}},
	}
	for _, tt := range tests {
		t.Run(tt.username, func(t *testing.T) {
			der, err := testCA.IssueLeaf(LeafRequest{Username: tt.username, Months: 3, Now: now, Serial: 5, Key: testLeafKey[ECDSAP256]}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, failing(t, der, lint.GlobalRegistry())); diff != "" {
				t.Errorf("zlint findings (-want +got):\n%s", diff)
			}
		})
	}
}
