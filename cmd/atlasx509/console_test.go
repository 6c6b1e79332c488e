package main

import (
	"net/http"
	"testing"
)

// TestConsoleFlag: serve answers the web console at /console/ by default
// (a page that asks to sign in) and not at all with --console=false.
func TestConsoleFlag(t *testing.T) {
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tc := range []struct {
		name     string
		args     []string
		status   int
		location string
	}{
		{"default", nil, http.StatusSeeOther, "/console/signin"},
		{"off", []string{"--console=false"}, http.StatusNotFound, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t, serverOptions{args: tc.args})
			resp, err := noRedirect.Get(s.URL + "/console/projects")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.status || resp.Header.Get("Location") != tc.location {
				t.Errorf("GET /console/projects: status %d, Location %q; want %d, %q", resp.StatusCode, resp.Header.Get("Location"), tc.status, tc.location)
			}
		})
	}
}
