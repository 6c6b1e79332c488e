package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mongodb-forks/digest"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/atlasx509/atlasx509/internal/atlasapi"
)

// sdkClient sends requests the way atlas-sdk-go v20250312023 does (the
// module is not on the proxy here): v2 paths with every path parameter
// escaped by url.PathEscape, the versioned Accept and Content-Type of the
// operation, and the SDK's User-Agent.
type sdkClient struct {
	tb   testing.TB
	base string
	http *http.Client
}

const (
	sdkVersion   = "application/vnd.atlas.2023-01-01+json"
	sdkUserAgent = "go-atlas-sdk-admin/v20250312023.1.0 (linux;amd64)"
)

func (c sdkClient) call(method, pathTemplate string, params []string, body any) (int, http.Header, []byte) {
	c.tb.Helper()
	path := pathTemplate
	for _, p := range params {
		path = strings.Replace(path, "{}", url.PathEscape(p), 1)
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.tb.Fatal(err)
		}
		rd = strings.NewReader(string(b))
	}
	req, err := http.NewRequestWithContext(context.Background(), method, c.base+"/api/atlas/v2"+path, rd)
	if err != nil {
		c.tb.Fatal(err)
	}
	req.Header.Set("Accept", sdkVersion)
	req.Header.Set("User-Agent", sdkUserAgent)
	if body != nil {
		req.Header.Set("Content-Type", sdkVersion)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// TestSDKv2 drives the v2 API as the official SDK does, with Digest and
// with OAuth, through the real server.
func TestSDKv2(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	ctx := context.Background()
	oauth := (&clientcredentials.Config{
		ClientID: s.Bootstrap.ServiceAccount.ClientID, ClientSecret: s.Bootstrap.ServiceAccount.ClientSecret,
		TokenURL: s.URL + "/api/oauth/token", AuthStyle: oauth2.AuthStyleInHeader,
	}).Client(ctx)
	clients := map[string]sdkClient{
		"digest": {tb: t, base: s.URL, http: &http.Client{Transport: digest.NewTransport(s.Bootstrap.APIKey.PublicKey, s.Bootstrap.APIKey.PrivateKey), Timeout: time.Minute}},
		"oauth":  {tb: t, base: s.URL, http: oauth},
	}
	g := s.Bootstrap.ProjectID
	const vnd = sdkVersion + ";charset=utf-8"
	for name, c := range clients {
		t.Run(name, func(t *testing.T) {
			c.tb = t
			user := "team/svc " + name // "/" and " " reach the server as %2F and %20
			// CreateDatabaseUser
			st, h, b := c.call("POST", "/groups/{}/databaseUsers", []string{g}, map[string]any{
				"groupId": g, "username": user, "databaseName": "$external", "x509Type": "MANAGED",
				"roles": []map[string]string{{"roleName": "readWrite", "databaseName": "app"}},
			})
			if st != 201 || h.Get("Content-Type") != vnd {
				t.Fatalf("createDatabaseUser: %d %s %s", st, h.Get("Content-Type"), b)
			}
			// GetDatabaseUser: the SDK escapes the "/" of the username as %2F.
			st, h, b = c.call("GET", "/groups/{}/databaseUsers/{}/{}", []string{g, "$external", user}, nil)
			var u atlasapi.DatabaseUser
			json.Unmarshal(b, &u)
			if st != 200 || u.Username != user || u.X509Type != "MANAGED" || !strings.HasSuffix(u.Links[0].Href, "/api/atlas/v2/groups/"+g+"/databaseUsers/$external/"+url.PathEscape(user)) {
				t.Fatalf("getDatabaseUser: %d %s", st, b)
			}
			// CreateDatabaseUserCert: raw PEM under the versioned JSON type.
			st, h, b = c.call("POST", "/groups/{}/databaseUsers/{}/certs", []string{g, user}, map[string]int{"monthsUntilExpiration": 3})
			if st != 201 || h.Get("Content-Type") != vnd {
				t.Fatalf("createDatabaseUserCert: %d %s", st, h.Get("Content-Type"))
			}
			block, rest := pem.Decode(b)
			if block == nil || block.Type != "CERTIFICATE" {
				t.Fatalf("answer is not PEM: %.80q", b)
			}
			cert, err := x509.ParseCertificate(block.Bytes)
			if err != nil || cert.Subject.String() != "CN="+user {
				t.Fatalf("certificate: %v %v", err, cert.Subject)
			}
			if key, _ := pem.Decode(rest); key == nil || key.Type != "PRIVATE KEY" {
				t.Fatal("no PKCS#8 key after the certificate")
			}
			// ListDatabaseUserCerts with the SDK's query.
			st, _, b = c.call("GET", "/groups/{}/databaseUsers/{}/certs?includeCount=true&itemsPerPage=100&pageNum=1", []string{g, user}, nil)
			var page atlasapi.Paginated[atlasapi.UserCert]
			json.Unmarshal(b, &page)
			if st != 200 || page.TotalCount == nil || *page.TotalCount != 1 || page.Results[0].ID != cert.SerialNumber.Int64() {
				t.Fatalf("listDatabaseUserCerts: %d %s", st, b)
			}
			// An error is application/json and decodes as the SDK's ApiError.
			st, h, b = c.call("POST", "/groups/{}/databaseUsers/{}/certs", []string{g, user}, map[string]int{"monthsUntilExpiration": 25})
			var apiErr atlasapi.ApiError
			json.Unmarshal(b, &apiErr)
			if st != 400 || h.Get("Content-Type") != "application/json" || apiErr.ErrorCode != "CERT_EXPIRY_CANNOT_EXCEED_TWO_YEARS" || h.Get("X-Error-Code") != apiErr.ErrorCode {
				t.Fatalf("error: %d %v %s", st, h, b)
			}
			// UpdateDatabaseUser and DeleteDatabaseUser.
			st, _, b = c.call("PATCH", "/groups/{}/databaseUsers/{}/{}", []string{g, "$external", user}, map[string]any{"description": "from the SDK"})
			if st != 200 || !strings.Contains(string(b), `"description":"from the SDK"`) {
				t.Fatalf("updateDatabaseUser: %d %s", st, b)
			}
			st, h, _ = c.call("DELETE", "/groups/{}/databaseUsers/{}/{}", []string{g, "$external", user}, nil)
			if st != 204 || h.Get("Content-Type") != vnd {
				t.Fatalf("deleteDatabaseUser: %d %v", st, h)
			}
			// GetUserSecurity / DisableSecurityCustomerX509.
			if st, _, b = c.call("GET", "/groups/{}/userSecurity", []string{g}, nil); st != 200 || !strings.Contains(string(b), `"customerX509":{}`) {
				t.Fatalf("getUserSecurity: %d %s", st, b)
			}
			if st, _, b = c.call("DELETE", "/groups/{}/userSecurity/customerX509", []string{g}, nil); st != 202 {
				t.Fatalf("disableSecurityCustomerX509: %d %s", st, b)
			}
		})
	}
	// A version before any of the resource's is refused as Atlas refuses it.
	c := clients["digest"]
	req, _ := http.NewRequest("GET", s.URL+"/api/atlas/v2/groups/"+url.PathEscape(g), nil)
	req.Header.Set("Accept", "application/vnd.atlas.2022-01-01+json")
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotAcceptable || resp.Header.Get("X-Error-Code") != "INVALID_VERSION_DATE" {
		t.Errorf("old version: %d %v", resp.StatusCode, resp.Header)
	}
}
