package httpapi

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/app"
	"github.com/atlasx509/atlasx509/internal/atlasapi"
	"github.com/atlasx509/atlasx509/internal/pki"
)

// FuzzDecodeJSON feeds arbitrary bodies to the strict decoder of every
// request shape: it must never panic, and every failure must be an Atlas
// client error (400), never an internal one.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{
		``, `{}`, `null`, `[]`, `"x"`, `{"monthsUntilExpiration":3}`, `{"monthsUntilExpiration":"3"}`,
		`{"monthsUntilExpiration":1e400}`, `{"monthsUntilExpiration":3}{}`, `{"username":"a","roles":[{"roleName":"read","databaseName":"x"}]}`,
		`{"username":"a","nickname":1}`, `{"labels":[{"key":1}]}`, `{"scopes":null}`, `{"name":"\ud800"}`, "{\"a\":\x00}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		targets := []any{&atlasapi.UserCertRequest{}, &atlasapi.DatabaseUserRequest{}, &atlasapi.CreateGroupRequest{}}
		for _, v := range targets {
			err := decodeJSON(body, v, true)
			if err == nil {
				continue
			}
			var e *atlasx509.Error
			if !errors.As(err, &e) || e.Kind != atlasx509.KindInvalid || e.Code == "" {
				t.Fatalf("decode %q into %T: %v is not a client error", body, v, err)
			}
		}
	})
}

// FuzzUsernamePath sends arbitrary usernames and database names through the
// router, escaped as clients escape them: the answer is never a 500 and
// always an Atlas body.
func FuzzUsernamePath(f *testing.F) {
	for _, s := range []string{"alice", "a/b", "a b", "$external", "..", "%2F", "a%", "CN=x,OU=y", "\x00", "ü", ""} {
		f.Add(s, "admin")
	}
	e := newEnv(f)
	e.createUser(managedUserBody("alice"))
	f.Fuzz(func(t *testing.T, username, database string) {
		for _, p := range []struct{ method, path, body string }{
			{"GET", e.group() + "/databaseUsers/" + url.PathEscape(database) + "/" + url.PathEscape(username), ""},
			{"PATCH", e.group() + "/databaseUsers/" + url.PathEscape(database) + "/" + url.PathEscape(username), `{"description":"x"}`},
			{"GET", e.group() + "/databaseUsers/" + url.PathEscape(username) + "/certs", ""},
			{"POST", e.group() + "/databaseUsers/" + url.PathEscape(username) + "/certs", `{"monthsUntilExpiration":0}`},
		} {
			if _, err := url.ParseRequestURI(p.path); err != nil {
				continue
			}
			rec := e.request(t, e.token, p.method, p.path, p.body)
			if rec.Code >= 500 {
				t.Fatalf("%s %s: %d %s", p.method, p.path, rec.Code, rec.Body.String())
			}
			if rec.Code >= 400 {
				apiError(t, rec)
			}
			if p.method == "PATCH" && rec.Code == http.StatusOK && !(username == "alice" && database == "$external") {
				t.Fatalf("PATCH of %q/%q succeeded", database, username)
			}
		}
	})
}

// FuzzRevocationParams sends arbitrary serials and reasons to the
// revocation route through the real handler ("{cert}" in the serial stands
// for the serial of a certificate the user has): the answer is never a 500
// and always an Atlas body; it is 204 exactly when the reason is one of the
// five names and the serial is the canonical decimal of one of the user's
// certificates; a bad reason is 400 INVALID_QUERY_PARAMETER, any other
// serial 404 CERTIFICATE_DOES_NOT_EXIST.
func FuzzRevocationParams(f *testing.F) {
	for _, s := range [][2]string{
		{"{cert}", "keyCompromise"}, {"{cert}", "unspecified"}, {"{cert}", "cessationOfOperation"}, {"{cert}", ""},
		{"{cert}", "KeyCompromise"}, {"{cert}", "certificateHold"}, {"{cert}", "1"}, {"0{cert}", "superseded"},
		{"+{cert}", "superseded"}, {"-{cert}", "superseded"}, {"{cert}0", "affiliationChanged"}, {"0", "unspecified"},
		{"9223372036854775807", "unspecified"}, {"9223372036854775808", "unspecified"}, {"1e3", "unspecified"},
		{"0x1f", "unspecified"}, {" 1", "unspecified"}, {"a/b", "unspecified"}, {"\x00", "\x00"}, {"ü", "keyCompromise\n"},
	} {
		f.Add(s[0], s[1])
	}
	e := newEnv(f)
	e.createUser(managedUserBody("alice"))
	cert, _ := e.issue("alice", 1)
	serialText := cert.SerialNumber.String()
	f.Fuzz(func(t *testing.T, serial, reason string) {
		serial = strings.ReplaceAll(serial, "{cert}", serialText)
		if serial == "" || serial == "." || serial == ".." {
			return // another route, or a path the router cleans
		}
		path := e.group() + "/databaseUsers/alice/certs/" + url.PathEscape(serial) + "?reason=" + url.QueryEscape(reason)
		rec := e.request(t, e.token, "DELETE", path, "")
		if rec.Code >= 500 {
			t.Fatalf("%q %q: %d %s", serial, reason, rec.Code, rec.Body.String())
		}
		var code string
		if rec.Code >= 400 {
			code = apiError(t, rec).ErrorCode
		}
		_, reasonErr := pki.ParseRevocationReason(reason)
		switch {
		case reasonErr != nil:
			if rec.Code != http.StatusBadRequest || code != "INVALID_QUERY_PARAMETER" {
				t.Fatalf("reason %q: %d %s, want 400 INVALID_QUERY_PARAMETER", reason, rec.Code, code)
			}
		case serial == serialText:
			if rec.Code != http.StatusNoContent {
				t.Fatalf("serial %q reason %q: %d %s, want 204", serial, reason, rec.Code, rec.Body.String())
			}
		default:
			if rec.Code != http.StatusNotFound || code != "CERTIFICATE_DOES_NOT_EXIST" {
				t.Fatalf("serial %q: %d %s, want 404 CERTIFICATE_DOES_NOT_EXIST", serial, rec.Code, rec.Body.String())
			}
		}
		if n, err := app.ParseCertificateSerial(serial); err == nil && (n <= 0 || strconv.FormatInt(n, 10) != serial) {
			t.Fatalf("ParseCertificateSerial(%q) = %d", serial, n)
		}
	})
}

// TestDecodeJSONCaseSensitive: an attribute named in another case is
// refused as Atlas refuses it, 400 INVALID_ATTRIBUTE naming it (FuzzRoute
// found {"eventTYpeNAme":…} taken as eventTypeName), at any depth; map keys
// and raw values are data, not names.
func TestDecodeJSONCaseSensitive(t *testing.T) {
	for _, tc := range []struct {
		body string
		v    any
		bad  string
	}{
		{`{"USERNAME":"a"}`, &atlasapi.DatabaseUserRequest{}, "USERNAME"},
		{`{"username":"a","roles":[{"roleName":"read","DatabaseName":"x"}]}`, &atlasapi.DatabaseUserRequest{}, "DatabaseName"},
		{`{"username":"a","labels":[{"key":"k","Value":"v"}]}`, &atlasapi.DatabaseUserRequest{}, "Value"},
		{`{"username":"a","roles":[{"roleName":"read","databaseName":"x"}]}`, &atlasapi.DatabaseUserRequest{}, ""},
		{`{"monthsUntilExpiration":3}`, &atlasapi.UserCertRequest{}, ""},
		{`{"MonthsUntilExpiration":3}`, &atlasapi.UserCertRequest{}, "MonthsUntilExpiration"},
		{`{"a":{"B":[1,{"C":2}]}}`, &map[string]any{}, ""},
		{`[{"ipAddress":"192.0.2.1"},{"CIDRBlock":"10.0.0.0/8"}]`, &[]atlasapi.AccessListRequest{}, "CIDRBlock"},
	} {
		err := decodeJSON([]byte(tc.body), tc.v, false)
		var e *atlasx509.Error
		switch {
		case tc.bad == "" && err != nil:
			t.Errorf("%s: %v", tc.body, err)
		case tc.bad != "" && (!errors.As(err, &e) || e.Code != "INVALID_ATTRIBUTE" || len(e.Params) != 1 || e.Params[0] != tc.bad):
			t.Errorf("%s: %v, want INVALID_ATTRIBUTE %s", tc.body, err, tc.bad)
		}
	}
}
