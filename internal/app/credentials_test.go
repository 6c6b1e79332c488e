package app

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/store"
	"github.com/atlasx509/atlasx509/internal/testkit"
)

func TestParseAccessPrefix(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string // "" = refused
	}{
		{"192.0.2.7", "192.0.2.7/32"},
		{"192.0.2.7/32", "192.0.2.7/32"},
		{"192.0.2.7/24", "192.0.2.0/24"}, // host bits cleared
		{"192.0.2.0%2F24", "192.0.2.0/24"},
		{"192.0.2.0%2f24", "192.0.2.0/24"},
		{"::ffff:192.0.2.7", "192.0.2.7/32"},
		{"::ffff:192.0.2.0/120", "192.0.2.0/24"},
		{"2001:DB8::1", "2001:db8::1/128"},
		{"2001:db8::1/48", "2001:db8::/48"},
		{"0.0.0.0/0", "0.0.0.0/0"},
		{"", ""},
		{"300.1.1.1", ""},
		{"192.0.2.0/33", ""},
		{"fe80::1%eth0", ""},
		{"::ffff:0:0/90", ""},
		{"192.0.2.0/24/8", ""},
		{" 192.0.2.7", ""},
		{"example.com", ""},
	}
	for _, tt := range tests {
		p, ok := parseAccessPrefix(tt.in)
		got := ""
		if ok {
			got = p.String()
		}
		if got != tt.want {
			t.Errorf("parseAccessPrefix(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestExpiredSecretMintsNoToken: a secret past its expiresAt no longer
// obtains tokens, while a newer secret of the same account does.
func TestExpiredSecretMintsNoToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testkit.FastKeys{})
	ctx := context.Background()
	eight := 8
	sa, err := f.app.CreateServiceAccount(ctx, f.owner, f.boot.OrgID, ServiceAccountInput{
		Name: ptr("ci"), Description: ptr("pipeline"), Roles: &[]string{"ORG_MEMBER"}, SecretExpiresAfterHours: &eight})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.app.IssueToken(ctx, sa.Account.ClientID, sa.NewSecret); err != nil {
		t.Fatalf("fresh secret: %v", err)
	}
	f.clock.Set(f.clock.Now().Add(7 * time.Hour))
	hours := 24
	second, err := f.app.CreateServiceAccountSecret(ctx, f.owner, f.boot.OrgID, sa.Account.ClientID, &hours)
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Set(f.clock.Now().Add(time.Hour))
	var oe *OAuthError
	if _, err := f.app.IssueToken(ctx, sa.Account.ClientID, sa.NewSecret); !errors.As(err, &oe) || oe.Code != "invalid_client" {
		t.Errorf("expired secret: %v, want invalid_client", err)
	}
	if _, err := f.app.IssueToken(ctx, sa.Account.ClientID, second.Value); err != nil {
		t.Errorf("second secret: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

// TestDeleteServiceAccountLeavesNothing: deleting a service account
// deletes, in the store, its roles in the organization and its projects,
// its access list, its secrets and its token records, and nothing of
// another credential.
func TestDeleteServiceAccountLeavesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testkit.FastKeys{})
	ctx := context.Background()
	hours := 24
	sa, err := f.app.CreateProjectServiceAccount(ctx, f.owner, f.boot.ProjectID, ServiceAccountInput{
		Name: ptr("ci"), Description: ptr("pipeline"), Roles: &[]string{"GROUP_OWNER"}, SecretExpiresAfterHours: &hours})
	if err != nil {
		t.Fatal(err)
	}
	id := sa.Account.ClientID
	if _, err := f.app.CreateServiceAccountSecret(ctx, f.owner, f.boot.OrgID, id, &hours); err != nil {
		t.Fatal(err)
	}
	c := Credential{OrgID: f.boot.OrgID, Kind: atlasx509.PrincipalServiceAccount, ID: id}
	if _, err := f.app.AddAccessList(ctx, f.owner, c, []AccessListInput{{CIDRBlock: ptr("192.0.2.0/24")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.app.IssueToken(ctx, id, sa.NewSecret); err != nil {
		t.Fatal(err)
	}
	if err := f.app.DeleteServiceAccount(ctx, f.owner, f.boot.OrgID, id); err != nil {
		t.Fatal(err)
	}
	err = f.store.View(ctx, func(tx store.Tx) error {
		for _, c := range []struct {
			what string
			n    func() (int, error)
		}{
			{"roles", func() (int, error) { l, err := tx.ListRoleAssignments(ctx, id); return len(l), err }},
			{"access list", func() (int, error) { l, err := tx.ListAccessListEntries(ctx, id); return len(l), err }},
			{"secrets", func() (int, error) { l, err := tx.ListServiceAccountSecrets(ctx, id); return len(l), err }},
			{"project principals", func() (int, error) {
				return tx.CountProjectPrincipals(ctx, f.boot.ProjectID, atlasx509.PrincipalServiceAccount)
			}},
		} {
			if n, err := c.n(); err != nil || n != 0 {
				t.Errorf("%s of the deleted account: %d, %v; want none", c.what, n, err)
			}
		}
		if _, err := tx.GetServiceAccount(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetServiceAccount of the deleted account: %v, want ErrNotFound", err)
		}
		// The bootstrap credentials keep their roles.
		for _, other := range []string{f.boot.APIKey.ID, f.boot.ServiceAccount.ClientID} {
			if l, err := tx.ListRoleAssignments(ctx, other); err != nil || len(l) != 1 {
				t.Errorf("roles of %s after the delete: %+v, %v; want its ORG_OWNER", other, l, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestProjectCredentialPages: a project's API keys and service accounts
// are listed apart, a page at a time in id order, with their totals, and
// the projects of a service account too.
func TestProjectCredentialPages(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testkit.FastKeys{})
	ctx := context.Background()
	hours := 24
	var keyIDs, accountIDs []string
	for range 3 {
		k, err := f.app.CreateProjectAPIKey(ctx, f.owner, f.boot.ProjectID, APIKeyInput{Desc: ptr("k"), Roles: &[]string{"GROUP_READ_ONLY"}})
		if err != nil {
			t.Fatal(err)
		}
		keyIDs = append(keyIDs, k.Key.ID)
	}
	for range 2 {
		sa, err := f.app.CreateProjectServiceAccount(ctx, f.owner, f.boot.ProjectID, ServiceAccountInput{
			Name: ptr("sa"), Description: ptr("d"), Roles: &[]string{"GROUP_READ_ONLY"}, SecretExpiresAfterHours: &hours})
		if err != nil {
			t.Fatal(err)
		}
		accountIDs = append(accountIDs, sa.Account.ClientID)
	}
	slices.Sort(keyIDs)
	slices.Sort(accountIDs)
	for _, tc := range []struct {
		opts       ListOptions
		keys, accs []string
	}{
		{ListOptions{PageNum: 1, ItemsPerPage: 2}, keyIDs[:2], accountIDs},
		{ListOptions{PageNum: 2, ItemsPerPage: 2}, keyIDs[2:], nil},
		{ListOptions{PageNum: 1, ItemsPerPage: 1}, keyIDs[:1], accountIDs[:1]},
		{ListOptions{PageNum: 9, ItemsPerPage: 500}, nil, nil},
	} {
		keys, total, err := f.app.ListProjectAPIKeys(ctx, f.owner, f.boot.ProjectID, tc.opts)
		var got []string
		for _, k := range keys {
			got = append(got, k.Key.ID)
		}
		if err != nil || total != 3 || !slices.Equal(got, tc.keys) {
			t.Errorf("ListProjectAPIKeys(%+v) = %v, %d, %v; want %v, 3", tc.opts, got, total, err, tc.keys)
		}
		accs, total, err := f.app.ListProjectServiceAccounts(ctx, f.owner, f.boot.ProjectID, tc.opts)
		got = nil
		for _, sa := range accs {
			got = append(got, sa.Account.ClientID)
		}
		if err != nil || total != 2 || !slices.Equal(got, tc.accs) {
			t.Errorf("ListProjectServiceAccounts(%+v) = %v, %d, %v; want %v, 2", tc.opts, got, total, err, tc.accs)
		}
	}
	groups, total, err := f.app.ListServiceAccountProjects(ctx, f.owner, f.boot.OrgID, accountIDs[0], ListOptions{PageNum: 1, ItemsPerPage: 10})
	if err != nil || total != 1 || !slices.Equal(groups, []string{f.boot.ProjectID}) {
		t.Errorf("ListServiceAccountProjects = %v, %d, %v; want [%s], 1", groups, total, err, f.boot.ProjectID)
	}
	groups, total, err = f.app.ListServiceAccountProjects(ctx, f.owner, f.boot.OrgID, accountIDs[0], ListOptions{PageNum: 2, ItemsPerPage: 10})
	if err != nil || total != 1 || len(groups) != 0 {
		t.Errorf("ListServiceAccountProjects page 2 = %v, %d, %v; want none, 1", groups, total, err)
	}
}
