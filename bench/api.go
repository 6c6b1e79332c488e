package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/atlasx509/atlasx509/internal/atlasapi"
)

// apiPrefix is where the Atlas routes are served.
const apiPrefix = "/api/atlas/v1.0"

// api is the setup client: Bearer authentication with the bootstrap service
// account.
type api struct {
	base  string
	boot  atlasapi.Bootstrap
	token string
	hc    *http.Client
}

func newAPI(base string, boot atlasapi.Bootstrap, timeout time.Duration) *api {
	return &api{base: base, boot: boot, hc: &http.Client{Timeout: timeout}}
}

// login gets a Bearer token for the bootstrap service account (valid one
// hour, longer than a run).
func (a *api) login(ctx context.Context) error {
	form := url.Values{"grant_type": {"client_credentials"}}
	req, err := http.NewRequestWithContext(ctx, "POST", a.base+"/api/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.SetBasicAuth(a.boot.ServiceAccount.ClientID, a.boot.ServiceAccount.ClientSecret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := a.hc.Do(req)
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("token: %s: %s", resp.Status, bytes.TrimSpace(body))
	}
	var tok atlasapi.TokenResponse
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		return fmt.Errorf("token: unexpected answer %s", bytes.TrimSpace(body))
	}
	a.token = tok.AccessToken
	return nil
}

// do sends one authenticated JSON request and returns the status and body.
func (a *api) do(ctx context.Context, method, path string, in any) (int, []byte, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, body)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

// expect sends a request and fails unless it answers want, or any 2xx
// when want is 0.
func (a *api) expect(ctx context.Context, want int, method, path string, in, out any) error {
	status, body, err := a.do(ctx, method, path, in)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if want == 0 && status/100 != 2 || want != 0 && status != want {
		return fmt.Errorf("%s %s: status %d, want %d: %s", method, path, status, want, bytes.TrimSpace(body))
	}
	if out != nil {
		return json.Unmarshal(body, out)
	}
	return nil
}

// createProject creates a project in the bootstrap organization.
func (a *api) createProject(ctx context.Context, name string) (string, error) {
	var g atlasapi.Group
	err := a.expect(ctx, 0, "POST", apiPrefix+"/groups", map[string]any{"name": name, "orgId": a.boot.OrgID}, &g)
	if err != nil {
		return "", err
	}
	return g.ID, nil
}

// createManagedUser creates a database user whose certificates Atlas manages.
func (a *api) createManagedUser(ctx context.Context, groupID, username string) error {
	body := map[string]any{
		"username": username, "databaseName": "$external", "x509Type": "MANAGED",
		"roles": []map[string]string{{"roleName": "readWrite", "databaseName": "app"}},
	}
	return a.expect(ctx, 0, "POST", apiPrefix+"/groups/"+groupID+"/databaseUsers", body, nil)
}

// setLeafKeyType chooses the project's leaf key type through the extension
// route. It returns an error describing the answer unless it is a 2xx.
func (a *api) setLeafKeyType(ctx context.Context, groupID, keyType string) error {
	path := apiPrefix + "/groups/" + groupID + "/userSecurity/managedX509"
	status, body, err := a.do(ctx, "PATCH", path, map[string]string{"leafKeyType": keyType})
	if err != nil {
		return err
	}
	if status/100 != 2 {
		return fmt.Errorf("PATCH %s answered %d: %s", path, status, truncate(string(bytes.TrimSpace(body)), 200))
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
