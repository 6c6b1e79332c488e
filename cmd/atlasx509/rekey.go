package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/atlasx509/atlasx509/internal/app"
	"github.com/atlasx509/atlasx509/internal/config"
	"github.com/atlasx509/atlasx509/internal/store"
	"github.com/atlasx509/atlasx509/internal/store/postgres"
	"github.com/atlasx509/atlasx509/internal/store/sqlite"
)

// errStillOld is rekey's failure when values still need an old key.
var errStillOld = errors.New("some values still need an old master key: run rekey again once every replica seals with --master-key-file")

// runRekey re-seals every sealed value under the master key, beside
// serving replicas, and prints what it did and what remains. It fails
// unless every value then opens with the master key alone.
func runRekey(ctx context.Context, cfg config.Config, log *slog.Logger, stdout io.Writer) error {
	kr, err := loadKeyring(cfg) // never created here
	if err != nil {
		return err
	}
	st, err := openStoreOnly(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	r, err := app.Rekey(ctx, st, kr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "resealed %d value(s) under master key %s\n", r.Resealed, kr.ID())
	for _, o := range r.After.Old {
		fmt.Fprintln(stdout, "OLD", o.String())
	}
	for _, f := range r.After.Failures {
		fmt.Fprintln(stdout, "FAIL", f.String())
	}
	if len(r.After.Failures) > 0 {
		return fmt.Errorf("%d sealed value(s) open with none of the configured keys", len(r.After.Failures))
	}
	if len(r.After.Old) > 0 {
		return errStillOld
	}
	if ids := kr.OldIDs(); len(ids) > 0 {
		fmt.Fprintf(stdout, "ok nothing needs the old master key(s) %s any more\n", strings.Join(ids, ", "))
	} else {
		fmt.Fprintln(stdout, "ok every sealed value is sealed with the master key")
	}
	log.Info("rekey done", "resealed", r.Resealed, "masterKey", kr.ID())
	return nil
}

// openStoreOnly opens the configured store, without an App (whose server
// secrets must open first).
func openStoreOnly(ctx context.Context, cfg config.Config) (store.Store, error) {
	kind, target, err := cfg.Store()
	if err != nil {
		return nil, err
	}
	var st store.Store
	if kind == "sqlite" {
		// Never create a store here: a wrong path is an error.
		if _, err := os.Stat(target); err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
		st, err = sqlite.Open(ctx, target)
	} else {
		st, err = postgres.Open(ctx, target)
	}
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	return st, nil
}
