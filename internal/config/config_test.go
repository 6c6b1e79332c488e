package config

import (
	"io"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestLoad(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    Config
		wantErr bool
	}{
		{
			name: "defaults",
			want: Config{DataDir: "./atlasx509-data", Listen: "127.0.0.1:8080", DB: "sqlite:atlasx509-data/atlasx509.db",
				MasterKeyFile: "atlasx509-data/master.key", LogLevel: "info", AuditLog: "stderr",
				RateLimitDatabaseUsers: "10000/5000", RateLimitX509: "1200/500", RateLimitAuthFailures: "20/20", KeyPool: "RSA4096=32", CRLValidity: 168 * time.Hour, EventRetention: 2160 * time.Hour, MaxConnections: 1024, AlertInterval: time.Minute, Console: true},
		},
		{
			name: "env then derived defaults",
			env:  map[string]string{EnvDataDir: "/var/lib/a", EnvListen: ":9"},
			want: Config{DataDir: "/var/lib/a", Listen: ":9", DB: "sqlite:/var/lib/a/atlasx509.db", MasterKeyFile: "/var/lib/a/master.key", LogLevel: "info",
				AuditLog: "stderr", RateLimitDatabaseUsers: "10000/5000", RateLimitX509: "1200/500", RateLimitAuthFailures: "20/20", KeyPool: "RSA4096=32", CRLValidity: 168 * time.Hour, EventRetention: 2160 * time.Hour, MaxConnections: 1024, AlertInterval: time.Minute, Console: true},
		},
		{
			name: "flags win over env",
			args: []string{"--data-dir", "/d", "--listen", "127.0.0.1:0", "--db", "postgres://h/db", "--master-key-file", "/k", "--audit-log", "/a.log", "--rate-limit-x509", "0", "--trusted-proxies", "10.0.0.0/8,192.0.2.1"},
			env:  map[string]string{EnvDataDir: "/e", EnvListen: ":1", EnvDB: "sqlite:/x", EnvMasterKeyFile: "/y", EnvAuditLog: "off", EnvRateX509: "5/5"},
			want: Config{DataDir: "/d", Listen: "127.0.0.1:0", DB: "postgres://h/db", MasterKeyFile: "/k", LogLevel: "info", AuditLog: "/a.log",
				TrustedProxies: "10.0.0.0/8,192.0.2.1", RateLimitDatabaseUsers: "10000/5000", RateLimitX509: "0", RateLimitAuthFailures: "20/20", KeyPool: "RSA4096=32", CRLValidity: 168 * time.Hour, EventRetention: 2160 * time.Hour, MaxConnections: 1024, AlertInterval: time.Minute, Console: true},
		},
		{name: "tls cert without key", args: []string{"--tls-cert", "c.pem"}, wantErr: true},
		{name: "bad db", args: []string{"--db", "mysql://x"}, wantErr: true},
		{name: "empty sqlite path", args: []string{"--db", "sqlite:"}, wantErr: true},
		{name: "stray argument", args: []string{"extra"}, wantErr: true},
		{name: "unknown flag", args: []string{"--nope"}, wantErr: true},
		{name: "bad log level", args: []string{"--log-level", "loud"}, wantErr: true},
		{name: "bad proxy", args: []string{"--trusted-proxies", "proxy.example.com"}, wantErr: true},
		{name: "bad key pool", args: []string{"--key-pool", "DSA=4"}, wantErr: true},
		{name: "bad pool workers", args: []string{"--key-pool-workers", "-1"}, wantErr: true},
		{name: "bad rate", args: []string{"--rate-limit-x509", "fast"}, wantErr: true},
		{
			name: "CRL validity from the environment, then the flag",
			args: []string{"--crl-validity", "36h"},
			env:  map[string]string{EnvCRLValidity: "1m"},
			want: Config{DataDir: "./atlasx509-data", Listen: "127.0.0.1:8080", DB: "sqlite:atlasx509-data/atlasx509.db",
				MasterKeyFile: "atlasx509-data/master.key", LogLevel: "info", AuditLog: "stderr",
				RateLimitDatabaseUsers: "10000/5000", RateLimitX509: "1200/500", RateLimitAuthFailures: "20/20", KeyPool: "RSA4096=32", CRLValidity: 36 * time.Hour, EventRetention: 2160 * time.Hour, MaxConnections: 1024, AlertInterval: time.Minute, Console: true},
		},
		{
			name: "event retention from the environment, then the flag",
			args: []string{"--event-retention", "720h"},
			env:  map[string]string{EnvEventRetain: "1h"},
			want: Config{DataDir: "./atlasx509-data", Listen: "127.0.0.1:8080", DB: "sqlite:atlasx509-data/atlasx509.db",
				MasterKeyFile: "atlasx509-data/master.key", LogLevel: "info", AuditLog: "stderr",
				RateLimitDatabaseUsers: "10000/5000", RateLimitX509: "1200/500", RateLimitAuthFailures: "20/20", KeyPool: "RSA4096=32", CRLValidity: 168 * time.Hour, EventRetention: 720 * time.Hour, MaxConnections: 1024, AlertInterval: time.Minute, Console: true},
		},
		{
			name: "console off by the environment, on by the flag",
			args: []string{"--console=true"},
			env:  map[string]string{EnvConsole: "false"},
			want: Config{DataDir: "./atlasx509-data", Listen: "127.0.0.1:8080", DB: "sqlite:atlasx509-data/atlasx509.db",
				MasterKeyFile: "atlasx509-data/master.key", LogLevel: "info", AuditLog: "stderr",
				RateLimitDatabaseUsers: "10000/5000", RateLimitX509: "1200/500", RateLimitAuthFailures: "20/20", KeyPool: "RSA4096=32", CRLValidity: 168 * time.Hour, EventRetention: 2160 * time.Hour, MaxConnections: 1024, AlertInterval: time.Minute, Console: true},
		},
		{
			name: "console off",
			env:  map[string]string{EnvConsole: "false"},
			want: Config{DataDir: "./atlasx509-data", Listen: "127.0.0.1:8080", DB: "sqlite:atlasx509-data/atlasx509.db",
				MasterKeyFile: "atlasx509-data/master.key", LogLevel: "info", AuditLog: "stderr",
				RateLimitDatabaseUsers: "10000/5000", RateLimitX509: "1200/500", RateLimitAuthFailures: "20/20", KeyPool: "RSA4096=32", CRLValidity: 168 * time.Hour, EventRetention: 2160 * time.Hour, MaxConnections: 1024, AlertInterval: time.Minute},
		},
		{name: "console not a boolean", args: []string{"--console", "maybe"}, wantErr: true},
		{name: "event retention not a duration", args: []string{"--event-retention", "90d"}, wantErr: true},
		{name: "event retention too short", env: map[string]string{EnvEventRetain: "59m"}, wantErr: true},
		{name: "CRL validity not a duration", args: []string{"--crl-validity", "7d"}, wantErr: true},
		{name: "CRL validity too short", env: map[string]string{EnvCRLValidity: "59s"}, wantErr: true},
		{name: "no connections", args: []string{"--max-connections", "0"}, wantErr: true},
		{name: "bad external URL", args: []string{"--external-url", "ftp://x"}, wantErr: true},
		{name: "alert interval not positive", args: []string{"--alert-interval", "0s"}, wantErr: true},
		{name: "webhook-allow-private not a boolean", env: map[string]string{EnvWebhookPriv: "maybe"}, wantErr: true},
		{name: "SMTP URL without sender", args: []string{"--smtp-url", "smtp://mail.example.com:25"}, wantErr: true},
		{name: "SMTP URL of another scheme", args: []string{"--smtp-url", "http://mail.example.com:25?from=a@b.c"}, wantErr: true},
		{name: "role e-mails of an unknown role", args: []string{"--alert-role-emails", "OWNER=a@example.com"}, wantErr: true},
		{name: "zero refill", args: []string{"--rate-limit-database-users", "10/0"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Load("serve", tt.args, func(k string) string { return tt.env[k] }, io.Discard)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Load error = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Load (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLoadBackupRestore: --out belongs to backup and --from to restore,
// each required there and unknown elsewhere.
func TestLoadBackupRestore(t *testing.T) {
	tests := []struct {
		cmd     string
		args    []string
		out     string
		from    string
		wantErr bool
	}{
		{cmd: "backup", args: []string{"--out", "b.db"}, out: "b.db"},
		{cmd: "backup", wantErr: true},
		{cmd: "backup", args: []string{"--from", "b.db"}, wantErr: true},
		{cmd: "restore", args: []string{"--from", "b.db", "--data-dir", "/d"}, from: "b.db"},
		{cmd: "restore", args: []string{"--data-dir", "/d"}, wantErr: true},
		{cmd: "serve", args: []string{"--out", "b.db"}, wantErr: true},
		{cmd: "check", args: []string{"--from", "b.db"}, wantErr: true},
	}
	for _, tt := range tests {
		got, err := Load(tt.cmd, tt.args, func(string) string { return "" }, io.Discard)
		if (err != nil) != tt.wantErr {
			t.Errorf("%s %q: error = %v, wantErr %v", tt.cmd, tt.args, err, tt.wantErr)
			continue
		}
		if got.Out != tt.out || got.From != tt.from {
			t.Errorf("%s %q: Out %q, From %q; want %q, %q", tt.cmd, tt.args, got.Out, got.From, tt.out, tt.from)
		}
	}
}

func TestOldMasterKeyFiles(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want []string
	}{
		{"none", nil, nil, nil},
		{"flag", []string{"--old-master-key-files", "/a.key, /b.key,,"}, nil, []string{"/a.key", "/b.key"}},
		{"environment", nil, map[string]string{EnvOldMasterKeys: "/c.key"}, []string{"/c.key"}},
		{"flag wins", []string{"--old-master-key-files", "/a.key"}, map[string]string{EnvOldMasterKeys: "/c.key"}, []string{"/a.key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Load("rekey", tt.args, func(k string) string { return tt.env[k] }, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got.OldMasterKeyFiles); d != "" {
				t.Errorf("OldMasterKeyFiles (-want +got):\n%s", d)
			}
		})
	}
}
