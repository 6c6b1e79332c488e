package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// fuzzRoutes is the route table the route-level fuzz targets pick from.
var fuzzRoutes = (&server{}).atlasRoutes()

// fuzzBodies are example bodies of the operations that take one, the seeds
// of the body targets; {{name}} stands for a fixture (see fuzzServer).
var fuzzBodies = map[string][]string{
	"createProject": {`{"name":"fz","orgId":"{{orgId}}"}`, `{"name":"fz (b)","orgId":"{{orgId}}","tags":[{"key":"env","value":"prod"}],"withDefaultAlertsSettings":false}`},
	"updateProject": {`{"name":"renamed"}`, `{"tags":[{"key":"env","value":"prod"},{"key":"a","value":"b"}]}`},
	"updateProjectSettings": {`{"isCollectDatabaseSpecificsStatisticsEnabled":true,"isDataExplorerEnabled":false}`,
		`{"isSchemaAdvisorEnabled":true,"isRealtimePerformancePanelEnabled":true,"isPerformanceAdvisorEnabled":true,"isExtendedStorageSizesEnabled":false}`},
	"setProjectLimit": {`{"value":50}`, `{"value":100,"name":"atlas.project.security.databaseAccess.users"}`},
	"createDatabaseUser": {managedUserBody("carol"), scramUserBody("dave"),
		`{"username":"erin","databaseName":"admin","password":"correct horse battery","groupId":"{{groupId}}","description":"d","labels":[{"key":"k","value":"v"}],"scopes":[{"name":"c0","type":"CLUSTER"}],"roles":[{"roleName":"read","databaseName":"app","collectionName":"c"}],"deleteAfterDate":"2030-01-01T00:00:00Z"}`,
		`{"username":"CN=frank,O=Example","databaseName":"$external","x509Type":"CUSTOMER","roles":[{"roleName":"read","databaseName":"app"}]}`,
		`{"username":"grace","databaseName":"$external","awsIAMType":"USER","ldapAuthType":"NONE","oidcAuthType":"NONE","x509Type":"MANAGED","roles":[{"roleName":"atlasAdmin","databaseName":"admin"}]}`},
	"updateDatabaseUser": {`{"description":"x"}`, `{"labels":[{"key":"a","value":"b"}],"scopes":null,"roles":[{"roleName":"read","databaseName":"app"}]}`,
		`{"password":"another long password","deleteAfterDate":"2031-01-01T00:00:00Z"}`},
	"createDatabaseUserCertificate":  {`{"monthsUntilExpiration":3}`, `{}`, `{"monthsUntilExpiration":24}`},
	"updateUserSecurity":             {`{"customerX509":{"cas":""}}`, `{"ldap":{"authenticationEnabled":false}}`},
	"updateManagedX509":              {`{"leafKeyType":"ECDSA_P256"}`, `{"leafKeyType":"RSA4096"}`, `{}`},
	"createAlertConfig":              {alertConfigBody, `{"eventTypeName":"NDS_X509_USER_AUTHENTICATION_CUSTOMER_CA_EXPIRATION_CHECK","enabled":true,"threshold":{"operator":"LESS_THAN","threshold":7,"units":"DAYS"},"notifications":[{"typeName":"GROUP","roles":["GROUP_OWNER"],"intervalMin":1440,"delayMin":0,"emailEnabled":true}]}`},
	"updateAlertConfig":              {alertConfigBody, `{"eventTypeName":"NDS_X509_USER_AUTHENTICATION_CUSTOMER_CRL_EXPIRATION_CHECK","enabled":false,"threshold":{"operator":"LESS_THAN","threshold":1,"units":"DAYS"},"notifications":[{"typeName":"EMAIL","emailAddress":"ops@example.com","intervalMin":60,"delayMin":5}]}`},
	"toggleAlertConfig":              {`{"enabled":false}`, `{"enabled":true}`},
	"acknowledgeAlert":               {`{"acknowledgedUntil":"2030-01-01T00:00:00Z","acknowledgementComment":"x"}`, `{"unacknowledgeAlert":true}`},
	"renameOrganization":             {`{"name":"renamed org"}`, `{"name":"Acme","skipDefaultAlertsSettings":true}`},
	"createApiKey":                   {`{"desc":"k","roles":["ORG_MEMBER"]}`, `{"desc":"k2","roles":["ORG_READ_ONLY","ORG_GROUP_CREATOR"]}`},
	"updateApiKey":                   {`{"desc":"x"}`, `{"roles":["ORG_OWNER"]}`},
	"createApiKeyAccessList":         {`[{"ipAddress":"198.51.100.7"}]`, `[{"cidrBlock":"203.0.113.0/24"},{"ipAddress":"2001:db8::1"}]`},
	"createProjectApiKey":            {`{"desc":"p","roles":["GROUP_READ_ONLY"]}`},
	"addProjectApiKey":               {`[{"roles":["GROUP_OWNER"]}]`, `[{"roles":["GROUP_READ_ONLY","GROUP_DATABASE_ACCESS_ADMIN"]}]`},
	"updateApiKeyRoles":              {`{"roles":["GROUP_READ_ONLY"]}`, `{"desc":"x","roles":["GROUP_OWNER"]}`},
	"createServiceAccount":           {`{"name":"sa","description":"d","roles":["ORG_MEMBER"],"secretExpiresAfterHours":24}`},
	"updateServiceAccount":           {`{"name":"n","description":"d"}`, `{"roles":["ORG_READ_ONLY"]}`},
	"createServiceAccountSecret":     {`{"secretExpiresAfterHours":8}`},
	"createServiceAccountAccessList": {`[{"ipAddress":"198.51.100.9"}]`, `[{"cidrBlock":"10.0.0.0/8"}]`},
	"createProjectServiceAccount":    {`{"name":"p","description":"d","roles":["GROUP_READ_ONLY"],"secretExpiresAfterHours":24}`},
	"updateProjectServiceAccount":    {`{"roles":["GROUP_OWNER"]}`},
	"addProjectServiceAccount":       {`{"roles":["GROUP_READ_ONLY"]}`},
}

// fuzzQueries are example query strings, seeds of every target with one.
var fuzzQueries = []string{
	"", "pageNum=2&itemsPerPage=1", "includeCount=false&itemsPerPage=500", "envelope=true&pretty=true",
	"includeRevoked=true", "reason=keyCompromise", "status=OPEN", "name=fuzz",
	"minDate=2020-01-01T00:00:00Z&maxDate=2040-01-01T00:00:00.5%2B02:00&eventType=MANAGED_X509_CERTIFICATE_ISSUED&includeRaw=true",
	"excludedEventType=GROUP_CREATED&eventType=a&eventType=b",
}

// fuzzPath is route's path under prefix with its wildcards filled from
// params ("\n" between values): an empty value is the fixture of the
// wildcard's name, a value naming a fixture ("@other", "alertConfigId")
// is that fixture, any other value is itself, escaped as a client escapes
// it.
func (s *fuzzServer) fuzzPath(prefix string, rt route, params string) string {
	values := strings.Split(params, "\n")
	segs := strings.Split(rt.path, "/")
	for i, seg := range segs {
		if !strings.HasPrefix(seg, "{") {
			continue
		}
		name := strings.Trim(seg, "{}")
		var v string
		if len(values) > 0 {
			v, values = values[0], values[1:]
		}
		switch id, ok := s.ids[v]; {
		case v == "":
			segs[i] = url.PathEscape(s.ids[name])
		case ok:
			segs[i] = url.PathEscape(id)
		default:
			segs[i] = url.PathEscape(v)
		}
	}
	return prefix + strings.Join(segs, "/")
}

// fill replaces the {{name}} fixture markers of a body.
func (s *fuzzServer) fill(body []byte) []byte {
	if !strings.Contains(string(body), "{{") {
		return body
	}
	b := string(body)
	for k, v := range s.ids {
		b = strings.ReplaceAll(b, "{{"+k+"}}", v)
	}
	return []byte(b)
}

// accept is the Accept header that picks the newest version of rt on v2.
func accept(rt route) string {
	return vndPrefix + rt.versions[len(rt.versions)-1].date + vndSuffix
}

// FuzzRoute sends a request to a route of the table through the real
// handler, as the bootstrap owner: the fuzzer picks the route, the version
// prefix, the path parameters, the query, the Content-Type and Accept
// headers (a value may hold more header lines) and the body. The property
// is fuzzServer's: never a 5xx, errors in Atlas's shape with nothing
// changed, answers as the spec says.
func FuzzRoute(f *testing.F) {
	for i, rt := range fuzzRoutes {
		bodies := append([]string{""}, fuzzBodies[rt.op]...)
		for j, body := range bodies {
			ct := ""
			if body != "" {
				ct = "application/json"
			}
			f.Add(uint8(i), j%2 == 1, "", fuzzQueries[(i+j)%len(fuzzQueries)], ct, accept(rt), []byte(body))
		}
	}
	f.Add(uint8(0), true, "", "", "application/vnd.atlas.2023-01-01+json;charset=utf-8", "application/vnd.atlas.2099-12-31+json", []byte(`{"name":"x","orgId":"{{orgId}}"}`))
	f.Add(uint8(0), false, "", "", "text/plain", "", []byte(`{"name":"x","orgId":"{{orgId}}"}`))
	f.Add(uint8(2), true, "@other", "", "", "application/vnd.atlas.2022-12-31+json", []byte(nil))
	s := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, which uint8, v2 bool, params, query, contentType, acceptHeader string, body []byte) {
		rt := fuzzRoutes[int(which)%len(fuzzRoutes)]
		prefix := versionPrefixes[0]
		if v2 {
			prefix = v2Prefix
		}
		target := s.fuzzPath(prefix, rt, params)
		if query != "" {
			target += "?" + query
		}
		var header []string
		if contentType != "" {
			header = append(header, "Content-Type: "+contentType)
		}
		if acceptHeader != "" {
			header = append(header, "Accept: "+acceptHeader)
		}
		s.serve(t, fuzzRequest{method: rt.method, target: target, header: header, body: s.fill(body)})
	})
}

// fuzzBodyTarget is a fuzz target that sends JSON bodies to the routes of
// ops (on v1.0, with the fixtures as path parameters): the fuzzer picks
// the route and the body.
func fuzzBodyTarget(f *testing.F, ops ...string) {
	var rts []route
	for _, op := range ops {
		i := slices.IndexFunc(fuzzRoutes, func(rt route) bool { return rt.op == op })
		if i < 0 {
			f.Fatalf("no route %s", op)
		}
		rts = append(rts, fuzzRoutes[i])
		for _, b := range fuzzBodies[op] {
			f.Add(uint8(len(rts)-1), []byte(b))
		}
	}
	f.Add(uint8(0), []byte(`{}`))
	f.Add(uint8(0), []byte(`null`))
	s := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		rt := rts[int(which)%len(rts)]
		s.serve(t, fuzzRequest{method: rt.method, target: s.fuzzPath(versionPrefixes[0], rt, ""),
			header: []string{"Content-Type: application/json"}, body: s.fill(body)})
	})
}

// FuzzDatabaseUserBody fuzzes the database user bodies (create, update).
func FuzzDatabaseUserBody(f *testing.F) {
	fuzzBodyTarget(f, "createDatabaseUser", "updateDatabaseUser", "createDatabaseUserCertificate")
}

// FuzzAlertConfigBody fuzzes the alert configuration bodies.
func FuzzAlertConfigBody(f *testing.F) {
	fuzzBodyTarget(f, "createAlertConfig", "updateAlertConfig", "toggleAlertConfig", "acknowledgeAlert")
}

// FuzzCredentialBody fuzzes the API key, service account and access list
// bodies.
func FuzzCredentialBody(f *testing.F) {
	fuzzBodyTarget(f, "createApiKey", "updateApiKey", "createApiKeyAccessList", "createProjectApiKey", "addProjectApiKey",
		"updateApiKeyRoles", "createServiceAccount", "updateServiceAccount", "createServiceAccountSecret",
		"createServiceAccountAccessList", "createProjectServiceAccount", "updateProjectServiceAccount", "addProjectServiceAccount")
}

// FuzzProjectBody fuzzes the project and organization bodies.
func FuzzProjectBody(f *testing.F) {
	fuzzBodyTarget(f, "createProject", "updateProject", "updateProjectSettings", "setProjectLimit", "renameOrganization")
}

// FuzzUserSecurityBody fuzzes the user security body, whose customer CA
// bundle is PEM parsed by the server, and the managed X.509 document.
func FuzzUserSecurityBody(f *testing.F) {
	ca := customerCA(f, "Fuzz Seed Root", true, time.Now().AddDate(3, 0, 0))
	for _, cas := range []string{ca, ca + ca, ca + "\n", strings.Replace(ca, "CERTIFICATE", "X509 CRL", 2),
		customerCA(f, "Not a CA", false, time.Now().AddDate(3, 0, 0)), customerCA(f, "Expired", true, time.Now().AddDate(0, 0, -1)),
		"-----BEGIN CERTIFICATE-----\n" + base64.StdEncoding.EncodeToString([]byte{0x30, 0x03, 0x02, 0x01, 0x01}) + "\n-----END CERTIFICATE-----\n"} {
		b, _ := json.Marshal(map[string]any{"customerX509": map[string]string{"cas": cas}})
		fuzzBodies["updateUserSecurity"] = append(fuzzBodies["updateUserSecurity"], string(b))
	}
	// customerX509.crls (an extension): CRLs checked against the CAs given
	// with them or already held.
	now := time.Now()
	op, other := newOperatorCA(f, "Fuzz CRL Root", now.AddDate(-1, 0, 0)), newOperatorCA(f, "Fuzz Other Root", now.AddDate(-1, 0, 0))
	crl := op.crl(f, 1, now.AddDate(0, 0, -1), now.AddDate(0, 0, 7))
	str := func(s string) *string { return &s }
	for _, c := range []struct{ cas, crls *string }{
		{str(op.pem), str(crl)}, {str(op.pem + ca), str(crl + crl)}, {nil, str(crl)}, {nil, str("")}, {str(op.pem), str("")},
		{str(op.pem), str(op.crl(f, 2, now.AddDate(0, 0, -9), now.AddDate(0, 0, -1)))}, {str(op.pem), str(other.crl(f, 1, now, now.AddDate(0, 0, 7)))},
		{str(op.pem), str(strings.ReplaceAll(crl, "X509 CRL", "CERTIFICATE"))}, {str(op.pem), str(crl + "trailing")},
		{str(op.pem), str("-----BEGIN X509 CRL-----\nMAA=\n-----END X509 CRL-----\n")}, {str(""), str(crl)},
	} {
		fuzzBodies["updateUserSecurity"] = append(fuzzBodies["updateUserSecurity"], userSecurityBody(c.cas, c.crls))
	}
	fuzzBodyTarget(f, "updateUserSecurity", "updateManagedX509")
}

// FuzzListQuery fuzzes the query string of every list route and of the
// routes with query parameters of their own (events, certificates,
// alerts, revocation).
func FuzzListQuery(f *testing.F) {
	var rts []route
	for _, rt := range fuzzRoutes {
		if rt.method == "GET" && (strings.HasPrefix(rt.op, "list") || strings.HasSuffix(rt.op, "Alerts") ||
			strings.HasSuffix(rt.op, "Events")) || rt.op == "revokeDatabaseUserCertificate" {
			rts = append(rts, rt)
		}
	}
	for i := range rts {
		for j, q := range fuzzQueries {
			if (i+j)%3 == 0 || q != "" && strings.Contains(q, "Date") {
				f.Add(uint8(i), q)
			}
		}
	}
	s := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, which uint8, query string) {
		rt := rts[int(which)%len(rts)]
		target := s.fuzzPath(v2Prefix, rt, "")
		if query != "" {
			target += "?" + query
		}
		s.serve(t, fuzzRequest{method: rt.method, target: target, header: []string{"Accept: " + accept(rt)}})
	})
}

// FuzzOAuth sends forms to the OAuth endpoints, without an API credential:
// the fuzzer picks the endpoint, the Authorization header (Basic, or
// anything), the Content-Type and the form. {{@basic}}, {{clientId}},
// {{@secret}} and {{@token}} stand for the fixture service account's
// Basic credentials, id and secret, and the owner's access token. The
// property is fuzzServer's (never a 5xx; a refusal changes nothing), and an
// error is an OAuth error body.
func FuzzOAuth(f *testing.F) {
	form := "application/x-www-form-urlencoded"
	for _, s := range []struct {
		revoke             bool
		authz, ctype, body string
	}{
		{false, "Basic {{@basic}}", form, "grant_type=client_credentials"},
		{false, "", form, "grant_type=client_credentials&client_id={{clientId}}&client_secret={{@secret}}"},
		{false, "Basic {{@basic}}", form, "grant_type=password"},
		{false, "Basic {{@basic}}", "", ""},
		{false, "Basic Og==", form, "grant_type=client_credentials"},
		{false, "basic   {{@basic}}", "application/json", `{"grant_type":"client_credentials"}`},
		{false, "Bearer {{@token}}", form, "grant_type=client_credentials&scope=x"},
		{true, "Basic {{@basic}}", form, "token={{@token}}&token_type_hint=access_token"},
		{true, "Basic {{@basic}}", form, "token=a.b.c"},
		{true, "", form, "client_id={{clientId}}&client_secret=wrong&token={{@token}}"},
		{true, "Basic {{@basic}}", form + "; charset=utf-8", "token=%zz"},
	} {
		f.Add(s.revoke, s.authz, s.ctype, []byte(s.body))
	}
	s := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, revoke bool, authz, ctype string, body []byte) {
		target := "/api/oauth/token"
		if revoke {
			target = "/api/oauth/revoke"
		}
		var header []string
		if authz != "" {
			header = append(header, "Authorization: "+string(s.fill([]byte(authz))))
		}
		if ctype != "" {
			header = append(header, "Content-Type: "+ctype)
		}
		_, rec := s.serve(t, fuzzRequest{method: "POST", target: target, header: header, body: s.fill(body), noAuth: true})
		if rec == nil || rec.Code < 400 {
			return
		}
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		dec := json.NewDecoder(strings.NewReader(rec.Body.String()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil || e.Error == "" {
			t.Fatalf("%s: %d answer is not an OAuth error: %v %s", target, rec.Code, err, rec.Body.String())
		}
	})
}

// FuzzAcceptedDate fuzzes the Accept header parsing of v2: a date it
// finds is a real calendar date in YYYY-MM-DD form.
func FuzzAcceptedDate(f *testing.F) {
	for _, s := range []string{"application/vnd.atlas.2023-01-01+json", "application/json, application/vnd.atlas.2024-08-05+json;q=0.9",
		"APPLICATION/VND.ATLAS.2023-02-30+JSON", "application/vnd.atlas.+json", "application/vnd.atlas.99999-01-01+json", "*/*"} {
		f.Add(s, "")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		date, ok := acceptedDate([]string{a, b})
		if !ok {
			if date != "" {
				t.Fatalf("not found, but date %q", date)
			}
			return
		}
		d, err := time.Parse("2006-01-02", date)
		if err != nil || d.Format("2006-01-02") != date || !strings.Contains(strings.ToLower(a+","+b), date) {
			t.Fatalf("acceptedDate(%q, %q) = %q", a, b, date)
		}
	})
}
