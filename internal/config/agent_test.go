package config

import (
	"errors"
	"io"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestLoadAgent(t *testing.T) {
	required := []string{"--url", "http://127.0.0.1:8080", "--project", "p1", "--ca-file", "/etc/mongod/ca.pem", "--crl-file", "/etc/mongod/crl.pem"}
	sa := map[string]string{EnvAgentClientID: "id", EnvAgentClientSecret: "secret"}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    Agent
		wantErr bool
	}{
		{
			name: "defaults with a service account",
			args: required, env: sa,
			want: Agent{URL: "http://127.0.0.1:8080", Project: "p1", CAFile: "/etc/mongod/ca.pem", CRLFile: "/etc/mongod/crl.pem",
				Interval: time.Minute, LogLevel: "info", ClientID: "id", ClientSecret: "secret"},
		},
		{
			name: "environment with an API key",
			env: map[string]string{EnvAgentURL: "https://h", EnvAgentProject: "p2", EnvAgentCAFile: "a", EnvAgentCRLFile: "b",
				EnvAgentInterval: "30s", EnvAgentOnChange: "true", EnvAgentTLSCAFile: "t.pem", EnvLogLevel: "debug",
				EnvAgentPublicKey: "pub", EnvAgentPrivateKey: "priv"},
			want: Agent{URL: "https://h", Project: "p2", CAFile: "a", CRLFile: "b", Interval: 30 * time.Second, OnChange: "true",
				TLSCAFile: "t.pem", LogLevel: "debug", PublicKey: "pub", PrivateKey: "priv"},
		},
		{
			name: "flags win over the environment",
			args: append([]string{"--interval", "5m", "--on-change", "mongosh --eval x", "--once", "--url", "https://flag"}, required[2:]...),
			env:  map[string]string{EnvAgentURL: "https://env", EnvAgentInterval: "1s", EnvAgentOnChange: "env", EnvAgentClientID: "i", EnvAgentClientSecret: "s"},
			want: Agent{URL: "https://flag", Project: "p1", CAFile: "/etc/mongod/ca.pem", CRLFile: "/etc/mongod/crl.pem",
				Interval: 5 * time.Minute, OnChange: "mongosh --eval x", Once: true, LogLevel: "info", ClientID: "i", ClientSecret: "s"},
		},
		{name: "no credentials", args: required, wantErr: true},
		{name: "both credentials", args: required, env: map[string]string{EnvAgentClientID: "i", EnvAgentClientSecret: "s", EnvAgentPublicKey: "p", EnvAgentPrivateKey: "k"}, wantErr: true},
		{name: "client id alone", args: required, env: map[string]string{EnvAgentClientID: "i"}, wantErr: true},
		{name: "private key alone", args: required, env: map[string]string{EnvAgentPrivateKey: "k"}, wantErr: true},
		{name: "no url", args: required[2:], env: sa, wantErr: true},
		{name: "url without scheme", args: append([]string{"--url", "127.0.0.1:8080"}, required[2:]...), env: sa, wantErr: true},
		{name: "no project", args: append(required[:2:2], required[4:]...), env: sa, wantErr: true},
		{name: "no CA file", args: append(required[:4:4], required[6:]...), env: sa, wantErr: true},
		{name: "no CRL file", args: required[:6], env: sa, wantErr: true},
		{name: "bad interval", args: append([]string{"--interval", "often"}, required...), env: sa, wantErr: true},
		{name: "interval below a second", args: append([]string{"--interval", "10ms"}, required...), env: sa, wantErr: true},
		{name: "bad log level", args: append([]string{"--log-level", "loud"}, required...), env: sa, wantErr: true},
		{name: "stray argument", args: append(required, "extra"), env: sa, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LoadAgent(tt.args, func(k string) string { return tt.env[k] }, io.Discard)
			if (err != nil) != tt.wantErr {
				t.Fatalf("LoadAgent error = %v, wantErr %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("LoadAgent (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := LoadAgent([]string{"-h"}, func(string) string { return "" }, io.Discard); !errors.Is(err, ErrHelp) {
		t.Errorf("-h: %v, want ErrHelp", err)
	}
}
