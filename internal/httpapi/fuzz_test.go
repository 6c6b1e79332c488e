package httpapi

import (
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/atlasapi"
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
