package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/atlasx509/atlasx509/internal/agent"
	"github.com/atlasx509/atlasx509/internal/config"
)

// agentRequestTimeout bounds one request of the agent to the server.
const agentRequestTimeout = 30 * time.Second

// runAgent keeps one mongod's CA and CRL files current until ctx is done,
// or syncs once with --once.
func runAgent(ctx context.Context, cfg config.Agent, log *slog.Logger, commandOutput io.Writer) error {
	client, auth, err := agentClient(cfg)
	if err != nil {
		return err
	}
	a, err := agent.New(agent.Config{
		BaseURL: cfg.URL, GroupID: cfg.Project, CAFile: cfg.CAFile, CRLFile: cfg.CRLFile,
		Interval: cfg.Interval, OnChange: cfg.OnChange, HTTPClient: client, Logger: log,
		CommandOutput: commandOutput,
	})
	if err != nil {
		return err
	}
	log.Info("agent started", "url", cfg.URL, "project", cfg.Project, "ca_file", cfg.CAFile, "crl_file", cfg.CRLFile,
		"interval", cfg.Interval, "auth", auth, "once", cfg.Once)
	if cfg.Once {
		if err := a.Sync(ctx); err != nil {
			return fmt.Errorf("sync: %w", err)
		}
		log.Info("sync done")
		return nil
	}
	return a.Run(ctx)
}

// agentClient returns the authenticated HTTP client of the agent and the
// kind of credentials it uses.
func agentClient(cfg config.Agent) (*http.Client, string, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if cfg.TLSCAFile != "" {
		pemBytes, err := os.ReadFile(cfg.TLSCAFile)
		if err != nil {
			return nil, "", fmt.Errorf("--tls-ca-file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pemBytes) {
			return nil, "", errors.New("--tls-ca-file: no PEM certificate in " + cfg.TLSCAFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	base := &http.Client{Transport: tr, Timeout: agentRequestTimeout}
	if cfg.ClientID != "" {
		return agent.OAuthClient(base, cfg.URL, cfg.ClientID, cfg.ClientSecret), "service account " + cfg.ClientID, nil
	}
	return agent.DigestClient(base, cfg.PublicKey, cfg.PrivateKey), "API key " + cfg.PublicKey, nil
}

// runAgentCommand is the agent command: flags, then runAgent. It returns
// the exit status: 0 when stopped by a signal or after a good --once sync,
// 1 when a --once sync failed or the agent cannot start, 2 for bad flags.
func runAgentCommand(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) int {
	cfg, err := config.LoadAgent(args, getenv, stderr)
	if errors.Is(err, config.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "atlasx509 agent: %v\n", err)
		return 2
	}
	if err := runAgent(ctx, cfg, newLogger(stderr, cfg.LogLevel), stderr); err != nil {
		fmt.Fprintf(stderr, "atlasx509 agent: %v\n", err)
		return 1
	}
	return 0
}
