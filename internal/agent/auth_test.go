package agent

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// tokenServer is an OAuth client credentials server and one protected route.
type tokenServer struct {
	mu        sync.Mutex
	issued    int
	valid     map[string]bool
	expiresIn int
	log       []string
}

func (s *tokenServer) handler(t *testing.T) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/oauth/token", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		id, secret, ok := r.BasicAuth()
		if err := r.ParseForm(); err != nil || !ok || id != "mdb_sa_id_1" || secret != "s3cret" || r.PostForm.Get("grant_type") != "client_credentials" {
			s.log = append(s.log, "token refused")
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		s.issued++
		tok := fmt.Sprintf("t%d", s.issued)
		s.valid[tok] = true
		s.log = append(s.log, "token "+tok)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": s.expiresIn})
	})
	mux.HandleFunc("GET /api/atlas/v2/x", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		auth := r.Header.Get("Authorization")
		if len(auth) < 7 || auth[:7] != "Bearer " || !s.valid[auth[7:]] {
			s.log = append(s.log, "GET 401 "+auth)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		s.log = append(s.log, "GET 200 "+auth)
	})
	return mux
}

func (s *tokenServer) revokeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.valid)
}

func TestOAuthClient(t *testing.T) {
	tests := []struct {
		name      string
		expiresIn int
		revoke    bool // revoke every token after the first request
		want      []string
	}{
		{"token reused", 3600, false, []string{"token t1", "GET 200 Bearer t1", "GET 200 Bearer t1"}},
		{"expiring token renewed", 5, false, []string{"token t1", "GET 200 Bearer t1", "token t2", "GET 200 Bearer t2"}},
		{"revoked token replaced on 401", 3600, true, []string{"token t1", "GET 200 Bearer t1", "GET 401 Bearer t1", "token t2", "GET 200 Bearer t2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := &tokenServer{valid: map[string]bool{}, expiresIn: tt.expiresIn}
			srv := httptest.NewServer(ts.handler(t))
			defer srv.Close()
			c := OAuthClient(srv.Client(), srv.URL+"/", "mdb_sa_id_1", "s3cret")
			for i := range 2 {
				if i == 1 && tt.revoke {
					ts.revokeAll()
				}
				resp, err := c.Get(srv.URL + "/api/atlas/v2/x")
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Errorf("request %d: %s", i, resp.Status)
				}
			}
			if diff := cmp.Diff(tt.want, ts.log); diff != "" {
				t.Errorf("server saw (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOAuthClientWrongSecret(t *testing.T) {
	ts := &tokenServer{valid: map[string]bool{}, expiresIn: 3600}
	srv := httptest.NewServer(ts.handler(t))
	defer srv.Close()
	c := OAuthClient(srv.Client(), srv.URL, "mdb_sa_id_1", "wrong")
	if resp, err := c.Get(srv.URL + "/api/atlas/v2/x"); err == nil {
		resp.Body.Close()
		t.Fatalf("request with a refused secret answered %s, want an error", resp.Status)
	}
	if diff := cmp.Diff([]string{"token refused"}, ts.log); diff != "" {
		t.Errorf("server saw (-want +got):\n%s", diff)
	}
}
