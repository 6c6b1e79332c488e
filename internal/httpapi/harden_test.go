package httpapi

import (
	"net/http"
	"testing"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/ratelimit"
)

// TestRateLimitChargesOnlyCallersWithAccess: a credential without access to
// a project, hammering its routes, does not drain the project's bucket; the
// project's own owner still gets through.
func TestRateLimitChargesOnlyCallersWithAccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.withHandler(Options{Limits: Limits{
		X509:          ratelimit.Rule{Name: setX509, Capacity: 3, Refill: 1, Period: time.Hour},
		DatabaseUsers: ratelimit.Rule{Name: setDatabaseUsers, Capacity: 3, Refill: 1, Period: time.Hour},
	}})
	other := e.secondOrg()
	// Read-only on another project of the victim's organization, and
	// owner of another organization: neither reaches the victim project.
	p2 := e.createProject("Elsewhere")
	reader := e.tokenWithRoles(atlasx509.RoleAssignment{OrgID: e.boot.OrgID, GroupID: p2, Role: atlasx509.RoleGroupReadOnly})
	for _, tok := range []string{other.token, reader} {
		for i := 0; i < 10; i++ {
			rec := e.doAs(tok, "GET", e.group()+"/databaseUsers/alice/certs", "")
			if rec.Code != http.StatusNotFound {
				t.Fatalf("attacker request %d: %d %s", i, rec.Code, rec.Body.String())
			}
			if rec := e.doAs(tok, "POST", e.group()+"/databaseUsers", managedUserBody("mallory")); rec.Code != http.StatusNotFound {
				t.Fatalf("attacker create %d: %d %s", i, rec.Code, rec.Body.String())
			}
		}
	}
	e.createUser(managedUserBody("alice"))
	if rec := e.do("POST", e.group()+"/databaseUsers/alice/certs", `{}`); rec.Code != http.StatusCreated {
		t.Fatalf("the owner's issuance: %d %s", rec.Code, rec.Body.String())
	}
}
