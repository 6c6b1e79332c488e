package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/atlasx509/atlasx509/internal/config"
	"github.com/atlasx509/atlasx509/internal/testkit"
)

// TestMetricsListen checks where /metrics is served: on the API listener by
// default, nowhere with "off", and only on its own address when given one.
func TestMetricsListen(t *testing.T) {
	free := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return ln.Addr().String()
	}
	own := free()
	tests := []struct {
		name          string
		flag          string
		apiServes     bool
		ownAddrServes bool
	}{
		{"default", "", true, false},
		{"off", "off", false, false},
		{"own address", own, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"--data-dir", t.TempDir(), "--listen", "127.0.0.1:0", "--audit-log", "off", "--key-pool", "off"}
			if tt.flag != "" {
				args = append(args, "--metrics-listen", tt.flag)
			}
			cfg, err := config.Load("serve", args, func(string) string { return "" }, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			ready := make(chan string, 1)
			done := make(chan error, 1)
			go func() {
				done <- runServe(ctx, cfg, slog.New(slog.DiscardHandler), io.Discard, options{keys: testkit.FastKeys{}, ready: func(a string) { ready <- a }})
			}()
			var api string
			select {
			case api = <-ready:
			case err := <-done:
				t.Fatalf("serve: %v", err)
			case <-time.After(30 * time.Second):
				t.Fatal("serve did not start")
			}
			defer func() {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("serve: %v", err)
				}
			}()
			get := func(addr string) int {
				resp, err := http.Get("http://" + addr + "/metrics")
				if err != nil {
					return 0
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				if resp.StatusCode == 200 && !strings.Contains(string(b), "atlasx509_http_requests_total") && !strings.Contains(string(b), "go_goroutines") {
					t.Errorf("%s/metrics is not Prometheus text", addr)
				}
				return resp.StatusCode
			}
			if got := get(api) == 200; got != tt.apiServes {
				t.Errorf("API listener serves /metrics: %v, want %v", got, tt.apiServes)
			}
			if got := get(own) == 200; got != tt.ownAddrServes {
				t.Errorf("own address serves /metrics: %v, want %v", got, tt.ownAddrServes)
			}
		})
	}
}
