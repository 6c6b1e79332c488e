package notify

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"testing"
	"time"
)

// fixedResolver answers every name with its addresses.
type fixedResolver []netip.Addr

func (r fixedResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	return r, nil
}

func TestCheckURL(t *testing.T) {
	public := fixedResolver{netip.MustParseAddr("203.0.113.7")}
	rebinding := fixedResolver{netip.MustParseAddr("203.0.113.7"), netip.MustParseAddr("127.0.0.1")}
	tests := []struct {
		url      string
		resolver Resolver
		ok       bool
	}{
		{"https://203.0.113.7/hook", nil, true},
		{"https://hooks.example.com/x?token=1", public, true},
		{"http://127.0.0.1:8080/", nil, false},
		{"http://10.1.2.3/", nil, false},
		{"http://172.16.0.1/", nil, false},
		{"http://192.168.1.1/", nil, false},
		{"http://169.254.169.254/latest/meta-data", nil, false},
		{"http://[::1]:9000/", nil, false},
		{"http://[fe80::1]/", nil, false},
		{"http://[fd00::1]/", nil, false},
		{"http://[::ffff:10.0.0.1]/", nil, false},
		{"http://0.0.0.0/", nil, false},
		{"http://100.64.0.1/", nil, false},
		{"http://localhost:9000/", nil, false}, // resolves to loopback
		{"https://hooks.example.com/", rebinding, false},
		{"ftp://203.0.113.7/", nil, false},
		{"https://user:pw@203.0.113.7/", nil, false},
		{"/relative", nil, false},
	}
	for _, tc := range tests {
		err := CheckURL(context.Background(), tc.url, false, tc.resolver)
		if (err == nil) != tc.ok {
			t.Errorf("CheckURL(%s) = %v, want ok=%v", tc.url, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrURL) {
			t.Errorf("CheckURL(%s): %v is not ErrURL", tc.url, err)
		}
	}
	if err := CheckURL(context.Background(), "http://127.0.0.1:8080/", true, nil); err != nil {
		t.Errorf("with allowPrivate: %v", err)
	}
}

// TestClientRefusesPrivate: the delivery client refuses the addresses it
// dials, whatever the URL said (a loopback receiver that does answer, and
// addresses that would not).
func TestClientRefusesPrivate(t *testing.T) {
	called := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { called = true }))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	strict := NewClient(false, 2*time.Second)
	for _, target := range []string{
		srv.URL, "http://localhost:" + u.Port(), "http://[::1]:" + u.Port(), "http://10.1.2.3/", "http://169.254.169.254/",
	} {
		resp, err := strict.Post(target, "application/json", nil)
		if err == nil {
			resp.Body.Close()
			t.Errorf("POST %s: delivered", target)
			continue
		}
		if !errors.Is(err, ErrURL) {
			t.Errorf("POST %s: %v, not a refusal", target, err)
		}
	}
	if called {
		t.Error("the loopback receiver was called")
	}
	resp, err := NewClient(true, 2*time.Second).Post(srv.URL, "application/json", nil)
	if err != nil {
		t.Fatalf("with allowPrivate: %v", err)
	}
	resp.Body.Close()
	if !called {
		t.Error("with allowPrivate the receiver was not called")
	}
}

func TestSignVerify(t *testing.T) {
	// HMAC-SHA1("key", "The quick brown fox jumps over the lazy dog"), base64.
	const want = "3nybhbi3iqa8ino29wqQcBydtNk="
	body := []byte("The quick brown fox jumps over the lazy dog")
	if got := Sign(body, []byte("key")); got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
	if !Verify(body, []byte("key"), want) || Verify(body, []byte("other"), want) {
		t.Error("Verify")
	}
}
