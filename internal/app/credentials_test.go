package app

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/atlasx509/atlasx509/internal/atlasapi"
)

func TestParseAccessPrefix(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" = refused
	}{
		{"192.0.2.7", "192.0.2.7/32"},
		{"192.0.2.7/32", "192.0.2.7/32"},
		{"192.0.2.7/24", "192.0.2.0/24"}, // host bits cleared
		{"192.0.2.0%2F24", "192.0.2.0/24"},
		{"192.0.2.0%2f24", "192.0.2.0/24"},
		{"::ffff:192.0.2.7", "192.0.2.7/32"},
		{"::ffff:192.0.2.0/120", "192.0.2.0/24"},
		{"2001:DB8::1", "2001:db8::1/128"},
		{"2001:db8::1/48", "2001:db8::/48"},
		{"0.0.0.0/0", "0.0.0.0/0"},
		{"", ""},
		{"300.1.1.1", ""},
		{"192.0.2.0/33", ""},
		{"fe80::1%eth0", ""},
		{"::ffff:0:0/90", ""},
		{"192.0.2.0/24/8", ""},
		{" 192.0.2.7", ""},
		{"example.com", ""},
	}
	for _, tt := range tests {
		p, ok := parseAccessPrefix(tt.in)
		got := ""
		if ok {
			got = p.String()
		}
		if got != tt.want {
			t.Errorf("parseAccessPrefix(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestExpiredSecretMintsNoToken: a secret past its expiresAt no longer
// obtains tokens, while a newer secret of the same account does.
func TestExpiredSecretMintsNoToken(t *testing.T) {
	f := newFixture(t, p256Keys{})
	ctx := context.Background()
	eight := 8
	sa, err := f.app.CreateServiceAccount(ctx, f.owner, f.boot.OrgID, atlasapi.ServiceAccountRequest{
		Name: ptr("ci"), Description: ptr("pipeline"), Roles: &[]string{"ORG_MEMBER"}, SecretExpiresAfterHours: &eight})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.app.IssueToken(ctx, sa.Account.ClientID, sa.NewSecret); err != nil {
		t.Fatalf("fresh secret: %v", err)
	}
	f.clock.Set(f.clock.Now().Add(7 * time.Hour))
	hours := 24
	second, err := f.app.CreateServiceAccountSecret(ctx, f.owner, f.boot.OrgID, sa.Account.ClientID, atlasapi.ServiceAccountSecretRequest{SecretExpiresAfterHours: &hours})
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Set(f.clock.Now().Add(time.Hour))
	var oe *OAuthError
	if _, err := f.app.IssueToken(ctx, sa.Account.ClientID, sa.NewSecret); !errors.As(err, &oe) || oe.Code != "invalid_client" {
		t.Errorf("expired secret: %v, want invalid_client", err)
	}
	if _, err := f.app.IssueToken(ctx, sa.Account.ClientID, second.Value); err != nil {
		t.Errorf("second secret: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }
