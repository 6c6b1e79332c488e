package notify

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRoleEmails(t *testing.T) {
	const p1, p2 = "0123456789abcdef01234567", "76543210fedcba9876543210"
	re, err := ParseRoleEmails("GROUP_OWNER=dba@example.com, GROUP_OWNER=lead@example.com,ORG_OWNER=sec@example.com," +
		p1 + "/GROUP_OWNER=p1@example.com,GROUP_READ_ONLY=ro@example.com,GROUP_READ_ONLY=dba@example.com")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		scope   string
		project bool
		roles   []string
		want    []string
	}{
		{"every project", p2, true, []string{"GROUP_OWNER"}, []string{"dba@example.com", "lead@example.com"}},
		{"a project of its own", p1, true, []string{"GROUP_OWNER"}, []string{"p1@example.com"}},
		{"its own replaces only that role", p1, true, []string{"GROUP_OWNER", "GROUP_READ_ONLY"}, []string{"p1@example.com", "ro@example.com", "dba@example.com"}},
		{"no roles: every project role, each address once", p2, true, nil, []string{"dba@example.com", "lead@example.com", "ro@example.com"}},
		{"no roles of an organization", p2, false, nil, []string{"sec@example.com"}},
		{"a role nobody has", p2, true, []string{"GROUP_CLUSTER_MANAGER"}, nil},
	}
	for _, tt := range tests {
		if d := cmp.Diff(tt.want, re.Addresses(tt.scope, tt.project, tt.roles)); d != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, d)
		}
	}
	if got := (RoleEmails{}).Addresses(p1, true, nil); got != nil {
		t.Errorf("zero value: %v", got)
	}
	for _, bad := range []string{"GROUP_OWNER", "OWNER=a@example.com", "GROUP_OWNER=not an address", "GROUP_OWNER=Bob <b@example.com>",
		"xyz/GROUP_OWNER=a@example.com", "GROUP_OWNER=a@example.com\r\nBcc: x@example.com"} {
		if _, err := ParseRoleEmails(bad); err == nil {
			t.Errorf("ParseRoleEmails(%q) succeeded", bad)
		}
	}
}
