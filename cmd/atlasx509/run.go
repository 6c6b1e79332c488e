package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/atlasx509/atlasx509/internal/app"
	"github.com/atlasx509/atlasx509/internal/atlasapi"
	"github.com/atlasx509/atlasx509/internal/config"
	"github.com/atlasx509/atlasx509/internal/keypool"
	"github.com/atlasx509/atlasx509/internal/keyring"
	"github.com/atlasx509/atlasx509/internal/metrics"
	"github.com/atlasx509/atlasx509/internal/notify"
	"github.com/atlasx509/atlasx509/internal/pki"
	"github.com/atlasx509/atlasx509/internal/store"
	"github.com/atlasx509/atlasx509/internal/store/postgres"
	"github.com/atlasx509/atlasx509/internal/store/sqlite"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = ""

const usage = `usage: atlasx509 <command> [flags]

commands:
  serve     serve the Atlas API (initializes a new store first and prints its credentials)
  init      initialize the store and print the bootstrap credentials as one JSON line
  agent     keep one mongod's CA and CRL files current from a server
  backup    write a consistent copy of the embedded store (--out FILE) while it serves
  restore   restore a backup (--from FILE) into an empty data directory
  check     check the store's integrity and open every sealed value with the master key
  rekey     re-seal every sealed value under --master-key-file (master key rotation)
  version   print the version

Run "atlasx509 <command> -h" for the flags of a command.
`

// run is the whole program; main and the end-to-end tests call it. It
// returns the exit status.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) < 2 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := args[1], args[2:]
	switch cmd {
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, versionString())
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	case "agent":
		return runAgentCommand(ctx, rest, getenv, stderr)
	case "serve", "init", "backup", "restore", "check", "rekey":
	default:
		fmt.Fprintf(stderr, "atlasx509: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	cfg, err := config.Load(cmd, rest, getenv, stderr)
	if errors.Is(err, config.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "atlasx509 %s: %v\n", cmd, err)
		return 2
	}
	log := newLogger(stderr, cfg.LogLevel)
	switch cmd {
	case "init":
		err = runInit(ctx, cfg, log, stdout, options{stderr: stderr})
	case "backup":
		err = runBackup(ctx, cfg, log)
	case "restore":
		err = runRestore(ctx, cfg, log)
	case "check":
		err = runCheck(ctx, cfg, stdout)
	case "rekey":
		err = runRekey(ctx, cfg, log, stdout)
	default:
		err = runServe(ctx, cfg, log, stdout, options{stderr: stderr})
	}
	if err != nil {
		fmt.Fprintf(stderr, "atlasx509 %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

func versionString() string {
	if version != "" {
		return "atlasx509 " + version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return "atlasx509 " + bi.Main.Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				return "atlasx509 devel " + s.Value
			}
		}
	}
	return "atlasx509 devel"
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	l.UnmarshalText([]byte(level)) // validated by config
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

// deps is what both commands open: the store, the app, its leaf key pool
// and its metrics.
type deps struct {
	store   store.Store
	app     *app.App
	pool    *keypool.Pool // nil when tests inject keys or the pool is off
	metrics *metrics.Metrics
}

// options are what tests may change about a command; the zero value is
// what the binary uses.
type options struct {
	// keys supplies leaf keys; nil means generating them inline.
	keys pki.KeySource
	// ready, when set, receives the address serve listens on.
	ready func(addr string)
	// stderr receives the audit trail when --audit-log is stderr; nil
	// discards it.
	stderr io.Writer
	// readHeaderTimeout bounds the reading of a request's header; zero
	// means defaultReadHeaderTimeout (tests shorten it).
	readHeaderTimeout time.Duration
}

func open(ctx context.Context, cfg config.Config, log *slog.Logger, opts options) (*deps, error) {
	kind, target, err := cfg.Store()
	if err != nil {
		return nil, err
	}
	var st store.Store
	switch kind {
	case "sqlite":
		if err = os.MkdirAll(filepath.Dir(target), 0o700); err == nil {
			st, err = sqlite.Open(ctx, target)
		}
	case "postgres":
		st, err = postgres.Open(ctx, target)
	}
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	kr, err := openKeyring(ctx, cfg, log, st)
	if err == nil {
		err = refuseMissingKeys(ctx, st, kr)
	}
	if err != nil {
		st.Close()
		return nil, err
	}
	m := metrics.New()
	keys := opts.keys
	var pool *keypool.Pool
	if keys == nil {
		depths, err := keypool.ParseDepths(cfg.KeyPool)
		if err != nil {
			st.Close()
			return nil, err
		}
		pool = keypool.New(keypool.Config{Depth: depths, Workers: cfg.KeyPoolWorkers})
		if err := m.WatchKeyPool(pool); err != nil {
			st.Close()
			return nil, err
		}
		keys = pool
	}
	roleEmails, err := notify.ParseRoleEmails(cfg.AlertRoleEmails)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("--alert-role-emails: %w", err)
	}
	a, err := app.New(ctx, app.Config{Store: m.InstrumentStore(st), Keyring: kr, Keys: keys, Logger: log, OnCertificateIssued: m.CertificateIssued,
		CRLValidity: cfg.CRLValidity, AllowPrivateWebhooks: cfg.WebhookAllowPrivate, RoleEmails: roleEmails})
	if errors.Is(err, keyring.ErrWrongKey) {
		err = fmt.Errorf("%w: the store holds values sealed by a master key that is not configured; give that key with --master-key-file, or with --old-master-key-files while rotating", err)
	}
	if err != nil {
		st.Close()
		return nil, err
	}
	return &deps{store: st, app: a, pool: pool, metrics: m}, nil
}

// refuseMissingKeys fails when some sealed value of st names a master key
// that kr lacks: a server started so would fail requests later instead.
func refuseMissingKeys(ctx context.Context, st store.Store, kr *keyring.Keyring) error {
	missing, err := app.MissingKeys(ctx, st, kr)
	if err != nil || len(missing) == 0 {
		return err
	}
	var parts []string
	for id, n := range missing {
		parts = append(parts, fmt.Sprintf("%d sealed with master key %s", n, id))
	}
	slices.Sort(parts)
	return fmt.Errorf("the store holds values sealed by a master key that is not configured (%s; configured: %s): give that key with --master-key-file, or with --old-master-key-files while rotating",
		strings.Join(parts, ", "), strings.Join(append([]string{kr.ID()}, kr.OldIDs()...), ", "))
}

// withOldKeys adds the keys of cfg.OldMasterKeyFiles to kr: they open but
// never seal.
func withOldKeys(cfg config.Config, kr *keyring.Keyring) (*keyring.Keyring, error) {
	old := make([]*keyring.Keyring, 0, len(cfg.OldMasterKeyFiles))
	for _, path := range cfg.OldMasterKeyFiles {
		k, err := keyring.Load(path)
		if err != nil {
			return nil, fmt.Errorf("old master key: %w", err)
		}
		old = append(old, k)
	}
	return kr.WithOld(old...)
}

// loadKeyring loads the master key and the old keys; it never creates one.
func loadKeyring(cfg config.Config) (*keyring.Keyring, error) {
	kr, err := keyring.Load(cfg.MasterKeyFile)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	return withOldKeys(cfg, kr)
}

// openKeyring loads the master key and the old keys, creating the master key
// only for a store that holds nothing sealed yet: a new key could open
// nothing already there.
func openKeyring(ctx context.Context, cfg config.Config, log *slog.Logger, st store.Store) (*keyring.Keyring, error) {
	kr, err := keyring.Load(cfg.MasterKeyFile)
	if err == nil {
		return withOldKeys(cfg, kr)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("master key: %w", err)
	}
	sealed, err := app.HoldsSealedData(ctx, st)
	if err != nil {
		return nil, err
	}
	if sealed {
		return nil, fmt.Errorf("master key file %s is missing, but the store already holds data sealed with a master key: restore that file or point --master-key-file at it", cfg.MasterKeyFile)
	}
	kr, created, err := keyring.LoadOrCreate(cfg.MasterKeyFile)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	if created {
		log.Warn("created a new master key next to the data; in production keep it elsewhere (--master-key-file) and back it up: without it the CA keys and credentials cannot be opened", "path", cfg.MasterKeyFile)
	}
	return withOldKeys(cfg, kr)
}

// printBootstrap writes the bootstrap credentials as one JSON line.
func printBootstrap(w io.Writer, b atlasapi.Bootstrap) error {
	line, err := json.Marshal(b)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", line)
	return err
}

func runInit(ctx context.Context, cfg config.Config, log *slog.Logger, stdout io.Writer, opts options) error {
	d, err := open(ctx, cfg, log, opts)
	if err != nil {
		return err
	}
	defer d.store.Close()
	b, err := d.app.Bootstrap(ctx)
	if err != nil {
		return err
	}
	return printBootstrap(stdout, b)
}
