package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/atlasx509/atlasx509/internal/app"
	"github.com/atlasx509/atlasx509/internal/config"
	"github.com/atlasx509/atlasx509/internal/store"
	"github.com/atlasx509/atlasx509/internal/store/postgres"
	"github.com/atlasx509/atlasx509/internal/store/sqlite"
)

// errPostgresDump answers backup and restore on PostgreSQL, whose own tools
// do both.
var errPostgresDump = errors.New("backup and restore cover the embedded SQLite store; on PostgreSQL use pg_dump --format=custom --no-owner and pg_restore (see the README, \"Backup, restore and check\")")

// runBackup writes a consistent copy of the embedded store to cfg.Out while
// a server may be serving from it.
func runBackup(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	kind, target, err := cfg.Store()
	if err != nil {
		return err
	}
	if kind != "sqlite" {
		return errPostgresDump
	}
	if err := sqlite.Backup(ctx, target, cfg.Out); err != nil {
		return err
	}
	log.Info("backup written; it does not hold the master key: keep a copy of that elsewhere, never beside the backup",
		"store", target, "backup", cfg.Out)
	return nil
}

// runRestore installs the backup cfg.From as the embedded store of an
// empty data directory.
func runRestore(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	kind, target, err := cfg.Store()
	if err != nil {
		return err
	}
	if kind != "sqlite" {
		return errPostgresDump
	}
	if err := sqlite.Restore(ctx, cfg.From, target); err != nil {
		return err
	}
	log.Info("restored; put the master key it was sealed with in place (--master-key-file) and run atlasx509 check",
		"backup", cfg.From, "store", target)
	return nil
}

// runCheck checks the store's integrity and opens every sealed value with
// the master key, printing one line per problem on stdout. It fails when
// there is any.
func runCheck(ctx context.Context, cfg config.Config, stdout io.Writer) error {
	kind, target, err := cfg.Store()
	if err != nil {
		return err
	}
	problems := func(lines []string) error {
		for _, l := range lines {
			fmt.Fprintln(stdout, "FAIL", l)
		}
		return fmt.Errorf("the store has %d problem(s)", len(lines))
	}
	var st store.Store
	switch kind {
	case "sqlite":
		// Check the file before opening it: opening writes (migrations).
		lines, err := sqlite.Check(ctx, target, false)
		if err != nil {
			return err
		}
		if len(lines) > 0 {
			return problems(lines)
		}
		st, err = sqlite.Open(ctx, target)
		if err != nil {
			return problems([]string{fmt.Sprintf("open store: %v", err)})
		}
	case "postgres":
		pg, err := postgres.Open(ctx, target)
		if err != nil {
			return problems([]string{fmt.Sprintf("open store: %v", err)})
		}
		st = pg
		lines, err := pg.Check(ctx)
		if err != nil {
			pg.Close()
			return err
		}
		if len(lines) > 0 {
			pg.Close()
			return problems(lines)
		}
	}
	defer st.Close()
	fmt.Fprintln(stdout, "ok store integrity")
	kr, err := loadKeyring(cfg) // never created here
	if err != nil {
		return problems([]string{err.Error()})
	}
	r, err := app.CheckSealed(ctx, st, kr)
	if err != nil {
		return err
	}
	lines := make([]string, 0, len(r.Failures))
	for _, f := range r.Failures {
		lines = append(lines, f.String())
	}
	if len(lines) > 0 {
		return problems(lines)
	}
	// A value that opens only with an old key is readable: a warning, not
	// a failure (rekey's exit status tells when the old keys can go).
	for _, o := range r.Old {
		fmt.Fprintln(stdout, "WARN", o.String()+": run atlasx509 rekey before dropping that key")
	}
	counts := make([]string, 0, len(app.SealedKinds))
	for _, kind := range app.SealedKinds {
		counts = append(counts, fmt.Sprintf("%s %d", kind, r.Opened[kind]))
	}
	fmt.Fprintf(stdout, "ok sealed values opened with master key %s: %s\n", kr.ID(), strings.Join(counts, ", "))
	return nil
}
