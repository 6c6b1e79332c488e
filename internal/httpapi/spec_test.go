package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// The spec conformance check: every answer that goes through the handler of
// an HTTP test (newEnv wraps it with withSpecCheck) is validated against
// Atlas's published OpenAPI document, testdata/atlas-openapi.yaml.
//
// That file is a copy of the project's shared atlas-openapi.yaml: the part of
// openapi/atlas-api-transformed.yaml of mongodb/atlas-sdk-go (commit
// 68a9d51c470a) that covers the operations served here, with every component
// they reference (its info.description says so), plus, cut from the same
// commit with every component they reference, the operations the Terraform
// provider calls besides (listClusters, listGroupUsers, listOrgUsers,
// getOrgSettings, getManagedSlowMs, enableManagedSlowMs, disableManagedSlowMs). Replace it by
// a newer cut of the same document when Atlas's spec moves.
//
// What is checked, for each answer under /api/atlas/ whose route is a spec
// operation (matched by method and path template with kin-openapi's router):
//   - the status is one the operation declares, or one of the transversal
//     statuses Atlas answers on any route (transversalStatus);
//   - the media type is the declared one: the versioned type on v2, and
//     application/json for errors;
//   - the body validates against the declared schema; errors against ApiError.
//
// v1.0 answers are checked too, against the v2 operation: same statuses, same
// schemas, with application/json as the media type (Atlas's v1.0 answers
// share the v2 2023-01-01 representations; the v1.0 spec references the same
// schema names). Answers under envelope=true are unwrapped first.
//
// Routes that Atlas does not have are listed in specExtensions; a served
// route that is neither a spec operation nor on that list fails the check, so
// a new route cannot slip by unchecked. Answers to paths no route serves
// (404, 405) must still be ApiError bodies.

// specExtensions are the served operations that are not in Atlas's spec,
// with why. Their error answers are still checked against ApiError.
var specExtensions = map[string]string{
	"getManagedX509CA":    "atlasx509 extension: the project CA certificate",
	"getManagedX509":      "atlasx509 extension: managed X.509 settings",
	"updateManagedX509":   "atlasx509 extension: managed X.509 settings",
	"getManagedX509CRL":   "atlasx509 extension: the CRLs of the project CAs",
	"rotateManagedX509CA": "atlasx509 extension: rotation of the project CA",

	"revokeDatabaseUserCertificate":  "atlasx509 extension: revocation of one managed certificate",
	"revokeDatabaseUserCertificates": "atlasx509 extension: revocation of a user's managed certificates",
}

// specOutsideCopy are Atlas operations served here that the repository's
// copy of the spec does not include; like extensions, only their errors are
// checked.
var specOutsideCopy = map[string]string{
	"getSystemStatus": "Atlas's Root resource (GET /api/atlas/v2), which mongodbatlas_roles_org_id of Terraform providers 1.20 and 2.0 reads (2.16 reads GET /orgs)",
}

// transversalStatus are statuses Atlas answers on any operation whether or
// not the operation lists them [atlas-contract.md §4 and §7]: 400 for a
// malformed body, path or query parameter (MALFORMED_JSON, INVALID_JSON,
// INVALID_PATH_PARAMETER, INVALID_QUERY_PARAMETER: Atlas's error table
// applies them to every request, while the spec omits 400 on some
// operations, e.g. createOrgApiKey), 401 for missing
// or bad credentials, 403 outside the API access list, 406 for an unknown
// Accept version, 410 for a sunset version, 415 for a body that is not
// JSON, 429 when rate limited. Their body is still an ApiError.
var transversalStatus = map[int]bool{400: true, 401: true, 403: true, 406: true, 410: true, 415: true, 429: true}

// specPathAliases maps a route whose path template cannot be written the
// spec's way in a ServeMux pattern to the spec's template.
var specPathAliases = map[string]string{
	// ServeMux wildcards span whole segments; Atlas's path is …/{clientId}:invite.
	"addProjectServiceAccount": "/groups/{groupId}/serviceAccounts/{clientId}:invite",
	// A literal byName segment would conflict with /groups/{groupId}/apiKeys.
	"getProjectByName": "/groups/byName/{groupName}",
}

type loadedSpec struct {
	doc    *openapi3.T
	router routers.Router
	routes *http.ServeMux // the route table, to tell which route a request took
	ops    map[string]string
	apiErr *openapi3.Schema
}

var (
	specOnce sync.Once
	spec     loadedSpec
	specErr  error
)

func loadSpec(tb testing.TB) *loadedSpec {
	tb.Helper()
	specOnce.Do(func() { specErr = spec.load() })
	if specErr != nil {
		tb.Fatalf("loading testdata/atlas-openapi.yaml: %v", specErr)
	}
	return &spec
}

func (s *loadedSpec) load() error {
	data, err := os.ReadFile("testdata/atlas-openapi.yaml")
	if err != nil {
		return err
	}
	doc, err := openapi3.NewLoader().LoadFromData(rewritePatterns(data))
	if err != nil {
		return err
	}
	if err := correctSpec(doc); err != nil {
		return err
	}
	// Match any host: tests serve on example.com and on loopback ports.
	doc.Servers = openapi3.Servers{{URL: "/"}}
	if err := doc.Validate(context.Background(), openapi3.DisableExamplesValidation()); err != nil {
		return fmt.Errorf("spec: %w", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return err
	}
	s.doc, s.router = doc, router
	s.apiErr = doc.Components.Schemas["ApiError"].Value
	s.routes = http.NewServeMux()
	s.ops = map[string]string{}
	for _, prefix := range versionPrefixes {
		for _, rt := range (&server{}).atlasRoutes() {
			pattern := rt.method + " " + prefix + rt.path
			s.routes.Handle(pattern, http.NotFoundHandler())
			s.ops[pattern] = rt.op
		}
	}
	return nil
}

// routeOp is the operationId of the route r takes, or "" when none does.
func (s *loadedSpec) routeOp(r *http.Request) string {
	_, pattern := s.routes.Handler(r)
	return s.ops[pattern]
}

// specSeen records, per route operationId, whether a v2 success answer was
// validated; TestMain checks after a full run that every spec route has one.
var specSeen = struct {
	sync.Mutex
	ok map[string]bool
}{ok: map[string]bool{}}

// withSpecCheck validates every answer h gives against the spec and reports
// what does not conform when tb ends.
func withSpecCheck(tb testing.TB, h http.Handler) http.Handler {
	s := loadSpec(tb)
	var mu sync.Mutex
	var failures []string
	tb.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, f := range failures {
			tb.Errorf("spec conformance: %s", f)
		}
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tw := &teeWriter{ResponseWriter: w}
		h.ServeHTTP(tw, r)
		if !strings.HasPrefix(r.URL.Path, "/api/atlas/") || r.Method == http.MethodHead {
			return // OAuth, health and metrics endpoints are not part of the Administration API spec
		}
		status := tw.status
		if status == 0 {
			status = http.StatusOK
		}
		if err := s.check(r, status, w.Header(), tw.body.Bytes()); err != nil {
			mu.Lock()
			if len(failures) < 50 {
				failures = append(failures, fmt.Sprintf("%s %s → %d: %v\n%s", r.Method, r.URL, status, err, truncate(tw.body.Bytes())))
			}
			mu.Unlock()
		}
	})
}

func truncate(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "…"
	}
	return string(b)
}

// teeWriter keeps a copy of the status and body it passes on.
type teeWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *teeWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *teeWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

func (w *teeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// check validates one answer.
func (s *loadedSpec) check(r *http.Request, status int, header http.Header, body []byte) error {
	if status >= 300 && status < 400 {
		return nil // ServeMux's redirect to a cleaned path ("/a/../b"), before any route
	}
	op := s.routeOp(r)
	if op == "" || specExtensions[op] != "" || specOutsideCopy[op] != "" {
		if status < 400 {
			return nil // an extension's success answer: no spec to hold it to
		}
		return s.checkError(header, body)
	}
	req := r.Clone(context.Background())
	req.URL = &url.URL{Path: "/api/atlas/v2" + strings.TrimPrefix(r.URL.Path, apiPrefix(r)), RawQuery: r.URL.RawQuery}
	if rp := r.URL.RawPath; rp != "" {
		req.URL.RawPath = "/api/atlas/v2" + strings.TrimPrefix(rp, apiPrefix(r))
	}
	req.Host = ""
	route, params, err := s.router.FindRoute(req)
	if err != nil {
		if status >= 400 {
			// A wildcard route answering a path Atlas does not have
			// (…/serviceAccounts/{id}:remove): an error, checked as such.
			return s.checkError(header, body)
		}
		return fmt.Errorf("route %s answered %d but is no operation of the spec (%v): add it to specExtensions if Atlas does not have it", op, status, err)
	}
	if queryBool(r, "envelope") && status < 400 { // errors are never enveloped
		if status, body, err = unenvelope(status, body); err != nil {
			return err
		}
	}
	opID := route.Operation.OperationID
	resp := route.Operation.Responses.Status(status)
	switch {
	case resp == nil && status >= 400 && transversalStatus[status]:
		return s.checkError(header, body)
	case resp == nil:
		return fmt.Errorf("status %d is not declared for %s", status, opID)
	}
	v1 := strings.HasPrefix(r.URL.Path, "/api/atlas/v1.0/")
	if status == http.StatusNoContent && len(body) == 0 {
		s.seen(op, v1) // nothing to validate; v2 still names its media type, v1.0 none
		return nil
	}
	header = header.Clone()
	if v1 && status < 400 {
		if ct := header.Get("Content-Type"); ct != v1ContentType {
			return fmt.Errorf("v1.0 answer has Content-Type %q, want %q", ct, v1ContentType)
		}
		header.Set("Content-Type", firstMediaType(resp.Value.Content))
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(correctBody(opID, status, body))),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), input); err != nil {
		return err
	}
	if status < 400 {
		s.seen(op, v1)
	}
	return nil
}

// seen records that a success answer of op on v2 conformed.
func (s *loadedSpec) seen(op string, v1 bool) {
	if v1 {
		return
	}
	specSeen.Lock()
	specSeen.ok[op] = true
	specSeen.Unlock()
}

// checkError validates an error answer that no operation declares.
func (s *loadedSpec) checkError(header http.Header, body []byte) error {
	if ct := header.Get("Content-Type"); ct != v1ContentType {
		return fmt.Errorf("error answer has Content-Type %q, want %q", ct, v1ContentType)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("error body is not JSON: %v", err)
	}
	return s.apiErr.VisitJSON(v, openapi3.VisitAsResponse(), openapi3.MultiErrors())
}

// unenvelope undoes envelope=true [atlas-contract.md §5]: a single entity
// becomes {"status", "content"}, a list gains a "status" field.
func unenvelope(status int, body []byte) (int, []byte, error) {
	var env map[string]json.RawMessage
	if err := json.Unmarshal(body, &env); err != nil {
		return 0, nil, fmt.Errorf("enveloped answer is not a JSON object: %v", err)
	}
	var inner int
	if err := json.Unmarshal(env["status"], &inner); err != nil || status != http.StatusOK {
		return 0, nil, fmt.Errorf("enveloped answer: status line %d, status field %s", status, env["status"])
	}
	if content, ok := env["content"]; ok {
		if string(content) == "null" {
			return inner, nil, nil
		}
		return inner, content, nil
	}
	delete(env, "status")
	b, err := json.Marshal(env)
	return inner, b, err
}

// firstMediaType is the media type of a declared answer: the oldest resource
// version when there are several.
func firstMediaType(c openapi3.Content) string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) == 0 {
		return ""
	}
	return keys[0]
}

// TestMain runs the tests, then, after a run of the whole package, checks
// that every served spec operation had at least one v2 success answer
// validated against the spec.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 && flagUnset("test.run") && flagUnset("test.skip") && !testing.Short() {
		var missing []string
		specSeen.Lock()
		for _, rt := range (&server{}).atlasRoutes() {
			if specExtensions[rt.op] == "" && specOutsideCopy[rt.op] == "" && !specSeen.ok[rt.op] && !slices.Contains(missing, rt.op) {
				missing = append(missing, rt.op)
			}
		}
		specSeen.Unlock()
		if len(missing) > 0 && len(specSeen.ok) > 0 {
			fmt.Fprintf(os.Stderr, "spec conformance: no test validated a v2 success answer of: %s\nFAIL\n", strings.Join(missing, ", "))
			code = 1
		}
	}
	os.Exit(code)
}

func flagUnset(name string) bool {
	f := flag.Lookup(name)
	return f == nil || f.Value.String() == ""
}
