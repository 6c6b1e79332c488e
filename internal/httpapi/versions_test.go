package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestVersionNegotiation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	path := "/api/atlas/v2/groups/" + e.boot.ProjectID
	tests := []struct {
		name       string
		accept     []string
		wantStatus int
		wantType   string
	}{
		{"exact version", []string{"application/vnd.atlas.2023-01-01+json"}, 200, "application/vnd.atlas.2023-01-01+json;charset=utf-8"},
		{"later date resolves to the newest on or before it", []string{"application/vnd.atlas.2025-03-12+json"}, 200, "application/vnd.atlas.2023-01-01+json;charset=utf-8"},
		{"with parameters and other types", []string{"text/html, application/vnd.atlas.2024-08-05+json;charset=utf-8"}, 200, "application/vnd.atlas.2023-01-01+json;charset=utf-8"},
		{"second header", []string{"application/json", "application/vnd.atlas.2023-02-01+json"}, 200, "application/vnd.atlas.2023-01-01+json;charset=utf-8"},
		{"too early", []string{"application/vnd.atlas.2022-12-31+json"}, 406, "application/json"},
		{"missing", nil, 406, "application/json"},
		{"plain json", []string{"application/json"}, 406, "application/json"},
		{"not a date", []string{"application/vnd.atlas.2023-02-30+json"}, 406, "application/json"},
		{"preview", []string{"application/vnd.atlas.preview+json"}, 406, "application/json"},
		{"csv", []string{"application/vnd.atlas.2023-01-01+csv"}, 406, "application/json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", path, nil)
			req.Header.Set("Authorization", "Bearer "+e.token)
			for _, a := range tt.accept {
				req.Header.Add("Accept", a)
			}
			rec := httptest.NewRecorder()
			e.handler.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.wantStatus, rec.Body.String())
			}
			if got := rec.Header().Get("Content-Type"); got != tt.wantType {
				t.Errorf("Content-Type %q, want %q", got, tt.wantType)
			}
			if tt.wantStatus == 406 {
				if got := apiError(t, rec); got.ErrorCode != "INVALID_VERSION_DATE" {
					t.Errorf("errorCode %q", got.ErrorCode)
				}
			} else if !strings.Contains(rec.Body.String(), `"href":"http://example.com/api/atlas/v2/groups/`) {
				t.Errorf("links do not point at v2: %s", rec.Body.String())
			}
		})
	}
}

// TestVersionLifecycle exercises deprecation and removal of resource
// versions on a handler whose getProject row has three versions.
func TestVersionLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	dep := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	sunset := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	h := newHandler(Options{App: e.app}, func(routes []route) {
		for i := range routes {
			if routes[i].op == "getProject" {
				routes[i].versions = []resourceVersion{{date: "2023-01-01", gone: true}, {date: "2024-05-30", deprecated: dep, sunset: sunset}, {date: "2025-02-19"}}
			}
		}
	})
	get := func(accept string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "/api/atlas/v2/groups/"+e.boot.ProjectID, nil)
		req.Header.Set("Authorization", "Bearer "+e.token)
		req.Header.Set("Accept", accept)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	rec := get("application/vnd.atlas.2023-06-01+json")
	if rec.Code != http.StatusGone || apiError(t, rec).ErrorCode != "VERSION_GONE" {
		t.Errorf("gone version: %d %s", rec.Code, rec.Body.String())
	}
	rec = get("application/vnd.atlas.2024-06-01+json")
	if rec.Code != 200 || rec.Header().Get("Deprecation") != dep.Format(http.TimeFormat) || rec.Header().Get("Sunset") != sunset.Format(http.TimeFormat) ||
		rec.Header().Get("Content-Type") != "application/vnd.atlas.2024-05-30+json;charset=utf-8" {
		t.Errorf("deprecated version: %d %v", rec.Code, rec.Header())
	}
	rec = get("application/vnd.atlas.2026-01-01+json")
	if rec.Code != 200 || rec.Header().Get("Deprecation") != "" || rec.Header().Get("Content-Type") != "application/vnd.atlas.2025-02-19+json;charset=utf-8" {
		t.Errorf("current version: %d %v", rec.Code, rec.Header())
	}
}

func TestV2CertificateAndDelete(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	do := func(method, path, body string) *httptest.ResponseRecorder {
		var req *http.Request
		if body != "" {
			req = httptest.NewRequest(method, path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/vnd.atlas.2023-01-01+json")
		} else {
			req = httptest.NewRequest(method, path, nil)
		}
		req.Header.Set("Authorization", "Bearer "+e.token)
		req.Header.Set("Accept", "application/vnd.atlas.2023-01-01+json")
		rec := httptest.NewRecorder()
		e.handler.ServeHTTP(rec, req)
		return rec
	}
	g := "/api/atlas/v2/groups/" + e.boot.ProjectID
	const vnd = "application/vnd.atlas.2023-01-01+json;charset=utf-8"
	if rec := do("POST", g+"/databaseUsers", managedUserBody("alice")); rec.Code != 201 || rec.Header().Get("Content-Type") != vnd {
		t.Fatalf("create user: %d %v %s", rec.Code, rec.Header(), rec.Body.String())
	}
	rec := do("POST", g+"/databaseUsers/alice/certs", `{"monthsUntilExpiration":3}`)
	if rec.Code != 201 || rec.Header().Get("Content-Type") != vnd || !strings.HasPrefix(rec.Body.String(), "-----BEGIN CERTIFICATE-----\n") {
		t.Fatalf("certificate: %d %v %.80s", rec.Code, rec.Header(), rec.Body.String())
	}
	rec = do("DELETE", g+"/databaseUsers/$external/alice", "")
	if rec.Code != 204 || rec.Header().Get("Content-Type") != vnd || rec.Body.Len() != 0 {
		t.Fatalf("delete: %d %v %q", rec.Code, rec.Header(), rec.Body.String())
	}
	rec = do("GET", g+"/databaseUsers/admin/nobody", "")
	if rec.Code != 404 || rec.Header().Get("Content-Type") != "application/json" {
		t.Errorf("v2 error: %d %v", rec.Code, rec.Header())
	}
}
