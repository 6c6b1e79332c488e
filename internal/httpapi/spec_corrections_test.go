package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// correctSpec corrects the spec where it is wrong about what Atlas really
// sends, each correction naming the recorded fact (atlas-contract.md in the
// project's shared documents). Nothing here may hide a difference between
// atlasx509 and Atlas: only between Atlas's spec and Atlas.
func correctSpec(doc *openapi3.T) error {
	schema := func(name string) (*openapi3.Schema, error) {
		ref := doc.Components.Schemas[name]
		if ref == nil || ref.Value == nil {
			return nil, fmt.Errorf("correcting the spec: no schema %s", name)
		}
		return ref.Value, nil
	}
	property := func(schemaName, prop string) (*openapi3.Schema, error) {
		s, err := schema(schemaName)
		if err != nil {
			return nil, err
		}
		p := s.Properties[prop]
		if p == nil || p.Value == nil {
			return nil, fmt.Errorf("correcting the spec: no property %s.%s", schemaName, prop)
		}
		return p.Value, nil
	}
	// The spec marks CloudDatabaseUser.groupId writeOnly; Atlas echoes it in
	// every user answer [atlas-contract.md §2, recorded in the Atlas CLI's
	// dbusers e2e snapshots].
	groupID, err := property("CloudDatabaseUser", "groupId")
	if err != nil {
		return err
	}
	groupID.WriteOnly = false
	// The spec's UserCert.subject pattern wants DC= components (an LDAP
	// shape); Atlas answers the managed certificate's subject "CN=<username>"
	// [atlas-contract.md §1, recorded in the Atlas CLI's dbuserscerts e2e
	// snapshots]. The field stays a string.
	subject, err := property("UserCert", "subject")
	if err != nil {
		return err
	}
	subject.Pattern = ""
	// The spec's Group.name pattern has no space, yet Atlas names an
	// organization's first project "Project 0" and its UI and docs allow
	// spaces in project names (atlasx509's bootstrap project copies that
	// name). Only the space is added.
	// The same holds for organizations: Atlas names a new user's
	// organization "<First name>'s Org - <date>".
	for _, schemaName := range []string{"Group", "AtlasOrganization"} {
		name, err := property(schemaName, "name")
		if err != nil {
			return err
		}
		if name.Pattern != `^[\p{L}\p{N}\-_.(),:&@+']{1,64}$` {
			return fmt.Errorf("correcting the spec: %s.name pattern is now %q", schemaName, name.Pattern)
		}
		name.Pattern = `^[\p{L}\p{N}\-_.(),:&@+' ]{1,64}$`
	}
	// updateGroup declares no 409, but renaming a project to a name its
	// organization already uses is the GROUP_ALREADY_EXISTS conflict, a
	// 409 in Atlas's error table (and declared for createGroup). NOT a
	// recorded answer: a judgment that the spec omits it.
	update := doc.Paths.Value("/api/atlas/v2/groups/{groupId}")
	if update == nil || update.Patch == nil {
		return fmt.Errorf("correcting the spec: no PATCH /groups/{groupId}")
	}
	update.Patch.Responses.Set("409", doc.Paths.Value("/api/atlas/v2/groups").Post.Responses.Value("409"))
	// ServiceAccountIPAccessListEntry.cidrBlock and ipAddress: the spec's
	// IPv6 branches cannot match "::" inside an address (2001:db8::1/128),
	// the RFC 5952 text of IPv6 that atlasx509 answers. NOT a recorded fact: no recorded
	// Atlas answer shows an IPv6 service account entry; this is a judgment
	// that the pattern is a spec bug (its branch also allows a bare "::" prefix
	// and suffix, so compressed text was meant), to revisit with a recording.
	// createAlertConfig declares 200; real Atlas answers 201 Created with a
	// Location header [atlas-events-alerts.md §2.1, recorded in the Atlas
	// CLI's alertsettings e2e snapshot Create]. The body is the same.
	alertConfigs := doc.Paths.Value("/api/atlas/v2/groups/{groupId}/alertConfigs")
	if alertConfigs == nil || alertConfigs.Post == nil || alertConfigs.Post.Responses.Value("200") == nil {
		return fmt.Errorf("correcting the spec: no POST /groups/{groupId}/alertConfigs 200")
	}
	alertConfigs.Post.Responses.Set("201", alertConfigs.Post.Responses.Value("200"))
	cidr, err := property("ServiceAccountIPAccessListEntry", "cidrBlock")
	if err != nil {
		return err
	}
	cidr.Pattern = ""
	ip, err := property("ServiceAccountIPAccessListEntry", "ipAddress")
	if err != nil {
		return err
	}
	ip.Pattern = ""
	return nil
}

// lookaheadIPv4 is the one pattern of the spec that Go's regexp (RE2, no
// lookahead) cannot compile; rewritePatterns swaps it for one that accepts
// the same strings: four dotted octets, or eight groups of hex digits.
const (
	lookaheadIPv4 = `^((25[0-5]|(2[0-4]|1\d|[1-9]|)\d)(\.(?!$)|$)){4}|([0-9a-f]{1,4}:){7}[0-9a-f]{1,4}$`
	re2IPv4       = `^((25[0-5]|(2[0-4]|1\d|[1-9]|)\d)\.){3}(25[0-5]|(2[0-4]|1\d|[1-9]|)\d)$|^([0-9a-f]{1,4}:){7}[0-9a-f]{1,4}$`
)

func rewritePatterns(spec []byte) []byte {
	return bytes.ReplaceAll(spec, []byte(lookaheadIPv4), []byte(re2IPv4))
}

// correctBody adapts a body the spec describes differently from how Atlas
// sends it.
func correctBody(operationID string, status int, body []byte) []byte {
	if operationID == "createDatabaseUserCert" && status == http.StatusCreated {
		// The spec declares a JSON string; Atlas sends the PEM text itself
		// under the JSON media type [atlas-contract.md §1, recorded in the
		// Atlas CLI's e2e snapshots]. Validate the text as that string.
		b, _ := json.Marshal(string(body))
		return b
	}
	return body
}

// TestSpecRoutes checks the route table against the spec without traffic:
// every route is a spec operation (same method, same path template) or an
// extension listed in specExtensions, and no listed extension is in the spec.
func TestSpecRoutes(t *testing.T) {
	t.Parallel()
	s := loadSpec(t)
	templ := func(p string) string { // {groupId} and {id} alike
		var b strings.Builder
		in := false
		for _, c := range p {
			switch {
			case c == '{':
				in = true
				b.WriteString("{}")
			case c == '}':
				in = false
			case !in:
				b.WriteRune(c)
			}
		}
		return b.String()
	}
	specOps := map[string]string{}
	for path, item := range s.doc.Paths.Map() {
		for method, op := range item.Operations() {
			specOps[method+" "+templ(strings.TrimPrefix(path, "/api/atlas/v2"))] = op.OperationID
		}
	}
	for _, rt := range (&server{}).atlasRoutes() {
		path := rt.path
		if alias, ok := specPathAliases[rt.op]; ok {
			path = alias
		}
		specID, inSpec := specOps[rt.method+" "+templ(path)]
		_, extension := specExtensions[rt.op]
		if _, outside := specOutsideCopy[rt.op]; outside {
			if inSpec {
				t.Errorf("%s is listed as outside the spec copy but is its %s", rt.op, specID)
			}
			continue
		}
		switch {
		case inSpec && extension:
			t.Errorf("%s (%s %s) is listed as an extension but is the spec's %s", rt.op, rt.method, rt.path, specID)
		case !inSpec && !extension:
			t.Errorf("%s (%s %s) is no operation of the spec: add it to specExtensions if Atlas does not have it", rt.op, rt.method, rt.path)
		}
	}
}

// TestSpecCheckRejects makes sure the conformance check fails answers that
// do not conform.
func TestSpecCheckRejects(t *testing.T) {
	t.Parallel()
	s := loadSpec(t)
	const g = "/api/atlas/v2/groups/0123456789abcdef01234567"
	group := `{"clusterCount":0,"created":"2024-01-01T00:00:00Z","id":"0123456789abcdef01234567","links":[],"name":"P","orgId":"0123456789abcdef01234567","withDefaultAlertsSettings":true}`
	v2 := "application/vnd.atlas.2023-01-01+json;charset=utf-8"
	tests := []struct {
		name, method, path, ct, body string
		status                       int
		ok                           bool
	}{
		{"conforming", "GET", g, v2, group, 200, true},
		{"conforming v1.0", "GET", "/api/atlas/v1.0/groups/0123456789abcdef01234567", v1ContentType, group, 200, true},
		{"undeclared status", "POST", "/api/atlas/v2/groups", v2, group, 201, false},
		{"wrong media type", "GET", g, "application/json", group, 200, false},
		{"v1.0 with the versioned type", "GET", "/api/atlas/v1.0/groups/0123456789abcdef01234567", v2, group, 200, false},
		{"wrong field type", "GET", g, v2, `{"clusterCount":"none","name":"P","orgId":"0123456789abcdef01234567"}`, 200, false},
		{"error not an ApiError", "GET", g, v1ContentType, `{"message":"no"}`, 404, false},
		{"error with the versioned type", "GET", g, v2, `{"error":404,"errorCode":"GROUP_NOT_FOUND"}`, 404, false},
		{"transversal error", "GET", g, v1ContentType, `{"error":406,"errorCode":"INVALID_VERSION_DATE"}`, 406, true},
		{"undeclared error status", "GET", g, v1ContentType, `{"error":409,"errorCode":"X"}`, 409, false},
		{"unknown path error", "GET", "/api/atlas/v2/nothing", v1ContentType, `{"error":404,"errorCode":"RESOURCE_NOT_FOUND"}`, 404, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := http.NewRequest(tt.method, "http://example.com"+tt.path, nil)
			err := s.check(r, tt.status, http.Header{"Content-Type": {tt.ct}}, []byte(tt.body))
			if (err == nil) != tt.ok {
				t.Errorf("check: %v, want ok=%v", err, tt.ok)
			}
		})
	}
}
