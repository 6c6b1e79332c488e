package console_test

import (
	"context"
	"errors"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/app"
	"github.com/google/go-cmp/cmp"
)

// TestAccessRoles: the organization owner changes an API key's and a
// service account's organization roles, assigns each to a project with
// project roles (the use cases then see them there), and removes them; a
// wrong role shows Atlas's detail next to the form and changes nothing.
func TestAccessRoles(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	owner := bootPrincipal(t, e)
	desc, member := "ci", []string{"ORG_MEMBER"}
	key, err := e.app.CreateAPIKey(ctx, owner, owner.OrgID, app.APIKeyInput{Desc: &desc, Roles: &member})
	if err != nil {
		t.Fatal(err)
	}
	name, hours := "deployer", 24
	sa, err := e.app.CreateServiceAccount(ctx, owner, owner.OrgID, app.ServiceAccountInput{Name: &name, Description: &desc, Roles: &member, SecretExpiresAfterHours: &hours})
	if err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	csrf := b.signInBootstrap().csrf(t)
	g := e.boot.ProjectID

	for _, tc := range []struct {
		kind, id string
		// orgRoles and projectRoles read the credential back through the
		// use cases the API serves.
		orgRoles     func() []string
		projectRoles func() []string
		// badOrg and badProject are Atlas's answers to a wrong role.
		badOrg, badProject func() error
	}{
		{
			kind: "apiKey", id: key.Key.ID,
			orgRoles: func() []string {
				d, err := e.app.GetAPIKey(ctx, owner, owner.OrgID, key.Key.ID)
				if err != nil {
					t.Fatal(err)
				}
				var out []string
				for _, ra := range d.Roles {
					if ra.GroupID == "" {
						out = append(out, string(ra.Role))
					}
				}
				return out
			},
			projectRoles: func() []string {
				keys, _, err := e.app.ListProjectAPIKeys(ctx, owner, g, app.ListOptions{PageNum: 1, ItemsPerPage: 100})
				if err != nil {
					t.Fatal(err)
				}
				for _, k := range keys {
					if k.Key.ID == key.Key.ID {
						var out []string
						for _, ra := range k.Roles {
							if ra.GroupID == g {
								out = append(out, string(ra.Role))
							}
						}
						return out
					}
				}
				return nil
			},
			badOrg: func() error {
				roles := []string{"GROUP_OWNER"}
				_, err := e.app.UpdateAPIKey(ctx, owner, owner.OrgID, key.Key.ID, app.APIKeyInput{Roles: &roles})
				return err
			},
			badProject: func() error {
				roles := []string{"ORG_OWNER"}
				_, err := e.app.UpdateProjectAPIKeyRoles(ctx, owner, g, key.Key.ID, app.APIKeyInput{Roles: &roles})
				return err
			},
		},
		{
			kind: "serviceAccount", id: sa.Account.ClientID,
			orgRoles: func() []string {
				d, err := e.app.GetServiceAccount(ctx, owner, owner.OrgID, sa.Account.ClientID)
				if err != nil {
					t.Fatal(err)
				}
				var out []string
				for _, r := range d.Roles {
					out = append(out, string(r))
				}
				return out
			},
			projectRoles: func() []string {
				d, err := e.app.GetProjectServiceAccount(ctx, owner, g, sa.Account.ClientID)
				if err != nil {
					return nil
				}
				var out []string
				for _, r := range d.Roles {
					out = append(out, string(r))
				}
				return out
			},
			badOrg: func() error {
				roles := []string{"GROUP_OWNER"}
				_, err := e.app.UpdateServiceAccount(ctx, owner, owner.OrgID, sa.Account.ClientID, app.ServiceAccountInput{Roles: &roles})
				return err
			},
			badProject: func() error {
				_, err := e.app.AddProjectServiceAccount(ctx, owner, g, sa.Account.ClientID, []string{"ORG_OWNER"})
				return err
			},
		},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			base := "/console/access/" + tc.kind + "/" + tc.id
			page := b.get("/console/access")
			for _, want := range []string{`action="` + base + `/roles"`, `action="` + base + `/projects"`} {
				if !strings.Contains(page.body, want) {
					t.Errorf("the owner's page lacks %s", want)
				}
			}

			if p := b.post(base+"/roles", url.Values{"csrf": {csrf}, "roles": {"ORG_READ_ONLY", "ORG_BILLING_ADMIN"}}); p.status != http.StatusSeeOther {
				t.Fatalf("save organization roles: status %d: %s", p.status, p.body)
			}
			got := tc.orgRoles()
			slices.Sort(got)
			if diff := cmp.Diff([]string{"ORG_BILLING_ADMIN", "ORG_READ_ONLY"}, got); diff != "" {
				t.Errorf("organization roles (-want +got):\n%s", diff)
			}
			checkAtlasDetail(t, b.post(base+"/roles", url.Values{"csrf": {csrf}, "roles": {"GROUP_OWNER"}}), tc.badOrg())
			if diff := cmp.Diff([]string{"ORG_BILLING_ADMIN", "ORG_READ_ONLY"}, sorted(tc.orgRoles())); diff != "" {
				t.Errorf("organization roles after a refused change (-want +got):\n%s", diff)
			}

			if p := b.post(base+"/projects", url.Values{"csrf": {csrf}, "groupId": {g}, "roles": {"GROUP_READ_ONLY", "GROUP_DATA_ACCESS_READ_ONLY"}}); p.status != http.StatusSeeOther {
				t.Fatalf("assign to the project: status %d: %s", p.status, p.body)
			}
			if diff := cmp.Diff([]string{"GROUP_DATA_ACCESS_READ_ONLY", "GROUP_READ_ONLY"}, sorted(tc.projectRoles())); diff != "" {
				t.Errorf("project roles (-want +got):\n%s", diff)
			}
			if p := b.get("/console/access"); !strings.Contains(p.body, `action="`+base+`/projects/`+g+`/remove"`) {
				t.Error("no remove-from-project form for the assignment")
			}
			checkAtlasDetail(t, b.post(base+"/projects", url.Values{"csrf": {csrf}, "groupId": {g}, "roles": {"ORG_OWNER"}}), tc.badProject())
			if diff := cmp.Diff([]string{"GROUP_DATA_ACCESS_READ_ONLY", "GROUP_READ_ONLY"}, sorted(tc.projectRoles())); diff != "" {
				t.Errorf("project roles after a refused change (-want +got):\n%s", diff)
			}

			if p := b.post(base+"/projects/"+g+"/remove", url.Values{"csrf": {csrf}}); p.status != http.StatusSeeOther {
				t.Fatalf("remove from the project: status %d: %s", p.status, p.body)
			}
			if got := tc.projectRoles(); len(got) != 0 {
				t.Errorf("project roles after the removal: %v", got)
			}
		})
	}
}

// TestAccessRolesRefused: a read-only key sees a credential's project
// assignment but no form that changes roles, and its posts are refused; a
// post without the CSRF token is refused too. Nothing changes.
func TestAccessRolesRefused(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	owner := bootPrincipal(t, e)
	g := e.boot.ProjectID
	desc, readOnly := "auditor", []string{"ORG_READ_ONLY"}
	auditor, err := e.app.CreateAPIKey(ctx, owner, owner.OrgID, app.APIKeyInput{Desc: &desc, Roles: &readOnly})
	if err != nil {
		t.Fatal(err)
	}
	projectRoles := []string{"GROUP_READ_ONLY"}
	if _, err := e.app.UpdateProjectAPIKeyRoles(ctx, owner, g, auditor.Key.ID, app.APIKeyInput{Roles: &projectRoles}); err != nil {
		t.Fatal(err)
	}
	saID := e.boot.ServiceAccount.ClientID
	keyBase, saBase := "/console/access/apiKey/"+auditor.Key.ID, "/console/access/serviceAccount/"+saID

	b := e.browser()
	b.signIn(auditor.Key.PublicKey, auditor.PrivateKey)
	page := b.get("/console/access")
	if page.status != http.StatusOK || !strings.Contains(page.body, "GROUP_READ_ONLY") {
		t.Fatalf("read-only access page: status %d, no project assignment shown: %s", page.status, page.body)
	}
	for _, hidden := range []string{`/roles"`, `class="inline assign"`, `/remove"`, "Remove from project"} {
		if strings.Contains(page.body, hidden) {
			t.Errorf("a read-only key sees %s", hidden)
		}
	}
	csrf := page.csrf(t)
	owners := e.browser()
	ownerCSRF := owners.signInBootstrap().csrf(t)
	for _, tc := range []struct {
		name string
		b    *browser
		csrf string
		path string
		form url.Values
	}{
		{"read-only org roles of a key", b, csrf, keyBase + "/roles", url.Values{"roles": {"ORG_OWNER"}}},
		{"read-only org roles of an account", b, csrf, saBase + "/roles", url.Values{"roles": {"ORG_READ_ONLY"}}},
		{"read-only assigns a key", b, csrf, keyBase + "/projects", url.Values{"groupId": {g}, "roles": {"GROUP_OWNER"}}},
		{"read-only assigns an account", b, csrf, saBase + "/projects", url.Values{"groupId": {g}, "roles": {"GROUP_OWNER"}}},
		{"read-only removes a key", b, csrf, keyBase + "/projects/" + g + "/remove", url.Values{}},
		{"read-only removes an account", b, csrf, saBase + "/projects/" + g + "/remove", url.Values{}},
		{"owner without CSRF: org roles", owners, "", keyBase + "/roles", url.Values{"roles": {"ORG_OWNER"}}},
		{"owner without CSRF: assign", owners, "", keyBase + "/projects", url.Values{"groupId": {g}, "roles": {"GROUP_OWNER"}}},
		{"owner with a wrong CSRF: remove", owners, ownerCSRF + "x", keyBase + "/projects/" + g + "/remove", url.Values{}},
	} {
		if tc.csrf != "" {
			tc.form.Set("csrf", tc.csrf)
		}
		if p := tc.b.post(tc.path, tc.form); p.status != http.StatusForbidden {
			t.Errorf("%s: POST %s: status %d, want 403", tc.name, tc.path, p.status)
		}
	}
	d, err := e.app.GetAPIKey(ctx, owner, owner.OrgID, auditor.Key.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ra := range d.Roles {
		got = append(got, string(ra.Role)+"@"+ra.GroupID)
	}
	if diff := cmp.Diff([]string{"GROUP_READ_ONLY@" + g, "ORG_READ_ONLY@"}, sorted(got)); diff != "" {
		t.Errorf("the key's roles after the refused posts (-want +got):\n%s", diff)
	}
	sad, err := e.app.GetServiceAccount(ctx, owner, owner.OrgID, saID)
	if err != nil || !slices.Contains(sad.Roles, atlasx509.RoleOrgOwner) {
		t.Errorf("the service account's roles after the refused posts: %v, %v", sad.Roles, err)
	}
}

// checkAtlasDetail checks that a refused form shows, next to the form,
// the detail Atlas gives for the same change through the use case.
func checkAtlasDetail(t *testing.T, p page, want error) {
	t.Helper()
	var e *atlasx509.Error
	if !errors.As(want, &e) || e.Detail == "" {
		t.Fatalf("the use case accepted the wrong role: %v", want)
	}
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, `class="error" role="alert">`+html.EscapeString(e.Detail)+"<") {
		t.Errorf("wrong role: status %d, want 400 with %q next to the form; body %s", p.status, e.Detail, p.body)
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
