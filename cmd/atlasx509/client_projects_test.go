package main

import (
	"context"
	"net/http"
	"testing"

	"go.mongodb.org/atlas/mongodbatlas"
)

// TestOfficialClientOrganizationsAndProjects drives the organization and
// project routes with go.mongodb.org/atlas: listing, reading and renaming
// organizations, their projects, a project by name, a rename, its teams,
// and assigning an organization API key to a project with PATCH (the
// client's ProjectAPIKeys.Assign), which needs no prior POST.
func TestOfficialClientOrganizationsAndProjects(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	c := newAtlasClient(t, s)
	ctx := context.Background()
	orgID, groupID := s.Bootstrap.OrgID, s.Bootstrap.ProjectID

	// The Root resource names the key's organization, as Terraform's
	// mongodbatlas_roles_org_id reads it.
	root, _, err := c.Root.List(ctx, nil)
	if err != nil {
		t.Fatalf("Root.List: %v", err)
	}
	if root.APIKey.ID != s.Bootstrap.APIKey.ID || root.APIKey.PublicKey != s.Bootstrap.APIKey.PublicKey ||
		len(root.APIKey.Roles) != 1 || root.APIKey.Roles[0].OrgID != orgID || root.APIKey.Roles[0].RoleName != "ORG_OWNER" {
		t.Fatalf("Root.List: %+v", root)
	}

	orgs, _, err := c.Organizations.List(ctx, &mongodbatlas.OrganizationsListOptions{Name: "atlas"})
	if err != nil {
		t.Fatalf("Organizations.List: %v", err)
	}
	if orgs.TotalCount != 1 || len(orgs.Results) != 1 || orgs.Results[0].ID != orgID {
		t.Fatalf("Organizations.List: %+v", orgs)
	}
	if _, _, err := c.Organizations.Update(ctx, orgID, &mongodbatlas.Organization{Name: "Acme Corp"}); err != nil {
		t.Fatalf("Organizations.Update: %v", err)
	}
	org, _, err := c.Organizations.Get(ctx, orgID)
	if err != nil || org.Name != "Acme Corp" || org.IsDeleted == nil || *org.IsDeleted {
		t.Fatalf("Organizations.Get: %+v, %v", org, err)
	}
	projects, _, err := c.Organizations.Projects(ctx, orgID, nil)
	if err != nil || projects.TotalCount != 1 || projects.Results[0].ID != groupID {
		t.Fatalf("Organizations.Projects: %+v, %v", projects, err)
	}
	_, _, err = c.Organizations.Get(ctx, "0123456789abcdef01234567")
	wantAtlasError(t, err, http.StatusNotFound, "ORG_NOT_FOUND")

	renamed, _, err := c.Projects.Update(ctx, groupID, &mongodbatlas.ProjectUpdateRequest{Name: "Payments"})
	if err != nil || renamed.Name != "Payments" {
		t.Fatalf("Projects.Update: %+v, %v", renamed, err)
	}
	byName, _, err := c.Projects.GetOneProjectByName(ctx, "Payments")
	if err != nil || byName.ID != groupID {
		t.Fatalf("Projects.GetOneProjectByName: %+v, %v", byName, err)
	}
	teams, _, err := c.Projects.GetProjectTeamsAssigned(ctx, groupID)
	if err != nil || teams.TotalCount != 0 || len(teams.Results) != 0 {
		t.Fatalf("Projects.GetProjectTeamsAssigned: %+v, %v", teams, err)
	}

	key, _, err := c.APIKeys.Create(ctx, orgID, &mongodbatlas.APIKeyInput{Desc: "ci", Roles: []string{"ORG_MEMBER"}})
	if err != nil {
		t.Fatalf("APIKeys.Create: %v", err)
	}
	if _, err := c.ProjectAPIKeys.Assign(ctx, groupID, key.ID, &mongodbatlas.AssignAPIKey{Roles: []string{"GROUP_READ_ONLY"}}); err != nil {
		t.Fatalf("ProjectAPIKeys.Assign of a key not yet in the project: %v", err)
	}
	keys, _, err := c.ProjectAPIKeys.List(ctx, groupID, nil)
	if err != nil {
		t.Fatalf("ProjectAPIKeys.List: %v", err)
	}
	found := false
	for _, k := range keys {
		found = found || k.ID == key.ID
	}
	if !found {
		t.Errorf("the assigned key is not among the project's keys: %+v", keys)
	}
	_, err = c.ProjectAPIKeys.Assign(ctx, groupID, "0123456789abcdef01234567", &mongodbatlas.AssignAPIKey{Roles: []string{"GROUP_READ_ONLY"}})
	wantAtlasError(t, err, http.StatusBadRequest, "API_KEY_NOT_FOUND")
}
