// Package config reads the settings of the atlasx509 binary from its flags
// and environment: a flag wins over its environment variable, which wins over
// the default. There are no globals; Load returns a value.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/atlasx509/atlasx509/internal/keypool"
	"github.com/atlasx509/atlasx509/internal/notify"
)

// Config is the configuration of one atlasx509 command.
type Config struct {
	// DataDir holds the embedded store and generated local files.
	DataDir string
	// Listen is the address serve listens on.
	Listen string
	// MaxConnections bounds the open connections of the API listener; past
	// it, new ones wait for one to close.
	MaxConnections int
	// ExternalURL is the base URL of the links in answers; "" means the
	// listen address's URL. Never taken from a request's Host.
	ExternalURL string
	// DB is the store: "sqlite:PATH" or a postgres:// URL.
	DB string
	// MasterKeyFile holds the key that seals CA private keys and stored secrets.
	MasterKeyFile string
	// OldMasterKeyFiles hold keys that open sealed values but never seal
	// (a retired key until rekey has re-sealed everything it sealed).
	OldMasterKeyFiles []string
	// TLSCert and TLSKey make serve answer HTTPS.
	TLSCert string
	TLSKey  string
	// LogLevel is debug, info, warn or error.
	LogLevel string
	// AuditLog is where the audit trail goes: "stderr", "off" or a file path.
	AuditLog string
	// TrustedProxies lists the networks (comma-separated CIDRs or addresses)
	// whose X-Forwarded-For header is believed.
	TrustedProxies string
	// RateLimitDatabaseUsers, RateLimitX509 and RateLimitAuthFailures are
	// "capacity/refill-per-minute" token buckets; "0" disables one.
	RateLimitDatabaseUsers string
	RateLimitX509          string
	RateLimitAuthFailures  string
	// KeyPool lists the leaf keys generated ahead of time per key type,
	// "RSA4096=32,ECDSA_P256=256"; "off" disables the pool.
	KeyPool string
	// KeyPoolWorkers is how many goroutines refill the pool; 0 means one
	// fewer than the cores, at least one.
	KeyPoolWorkers int
	// MetricsListen is where /metrics is served: "" on the API listener,
	// "off" nowhere, or an address of its own (e.g. 127.0.0.1:9090).
	MetricsListen string
	// CRLValidity is nextUpdate − thisUpdate of every CRL the server signs;
	// a CRL is signed anew once half of it has passed.
	CRLValidity time.Duration
	// AlertInterval is how often alert configurations are evaluated and
	// due notifications sent.
	AlertInterval time.Duration
	// WebhookAllowPrivate allows webhook URLs on loopback, private and
	// link-local addresses.
	WebhookAllowPrivate bool
	// SMTPURL is smtp://[user:pass@]host:port or smtps://… with ?from=, for
	// EMAIL notifications; "" records them as undelivered.
	SMTPURL string
	// AlertRoleEmails names the addresses of GROUP and ORG notifications by
	// role: ROLE=address or ID/ROLE=address entries, comma-separated.
	AlertRoleEmails string
	// EventRetention is how long events are kept (--event-retention).
	EventRetention time.Duration
	// Console serves the web console at /console/ on the API listener.
	Console bool
	// Out is the file backup writes (backup only).
	Out string
	// From is the backup file restore reads (restore only).
	From string
}

// Environment variables read by Load.
const (
	EnvDataDir       = "ATLASX509_DATA_DIR"
	EnvListen        = "ATLASX509_LISTEN"
	EnvDB            = "ATLASX509_DB"
	EnvMasterKeyFile = "ATLASX509_MASTER_KEY_FILE"
	EnvOldMasterKeys = "ATLASX509_OLD_MASTER_KEY_FILES"
	EnvTLSCert       = "ATLASX509_TLS_CERT"
	EnvTLSKey        = "ATLASX509_TLS_KEY"
	EnvExternalURL   = "ATLASX509_EXTERNAL_URL"
	EnvMaxConns      = "ATLASX509_MAX_CONNECTIONS"
	EnvLogLevel      = "ATLASX509_LOG_LEVEL"
	EnvAuditLog      = "ATLASX509_AUDIT_LOG"
	EnvTrustedProxy  = "ATLASX509_TRUSTED_PROXIES"
	EnvRateUsers     = "ATLASX509_RATE_LIMIT_DATABASE_USERS"
	EnvRateX509      = "ATLASX509_RATE_LIMIT_X509"
	EnvRateAuth      = "ATLASX509_RATE_LIMIT_AUTH_FAILURES"
	EnvKeyPool       = "ATLASX509_KEY_POOL"
	EnvKeyPoolWork   = "ATLASX509_KEY_POOL_WORKERS"
	EnvMetricsListen = "ATLASX509_METRICS_LISTEN"
	EnvCRLValidity   = "ATLASX509_CRL_VALIDITY"
	EnvAlertInterval = "ATLASX509_ALERT_INTERVAL"
	EnvWebhookPriv   = "ATLASX509_WEBHOOK_ALLOW_PRIVATE"
	EnvSMTPURL       = "ATLASX509_SMTP_URL"
	EnvRoleEmails    = "ATLASX509_ALERT_ROLE_EMAILS"
	EnvEventRetain   = "ATLASX509_EVENT_RETENTION"
	EnvConsole       = "ATLASX509_CONSOLE"
)

// MinCRLValidity is the shortest --crl-validity: a mongod must be able to
// fetch a CRL before the one it holds lapses.
const MinCRLValidity = time.Minute

// ErrHelp is returned when the arguments asked for help.
var ErrHelp = flag.ErrHelp

// Load parses the flags of the command called name from args (without the
// command name) with getenv supplying the environment. Usage and errors are
// written to output.
func Load(name string, args []string, getenv func(string) string, output io.Writer) (Config, error) {
	fs := flag.NewFlagSet("atlasx509 "+name, flag.ContinueOnError)
	fs.SetOutput(output)
	var c Config
	fs.StringVar(&c.DataDir, "data-dir", "", "where the embedded store and generated local files live [$"+EnvDataDir+"] (default ./atlasx509-data)")
	fs.StringVar(&c.Listen, "listen", "", "address to serve on [$"+EnvListen+"] (default 127.0.0.1:8080)")
	fs.StringVar(&c.ExternalURL, "external-url", "", "the base URL in answers' links, e.g. https://atlas.example.com [$"+EnvExternalURL+"] (default the listen address's URL)")
	fs.StringVar(&c.DB, "db", "", "store: sqlite:PATH or a postgres:// URL [$"+EnvDB+"] (default sqlite:<data-dir>/atlasx509.db)")
	fs.StringVar(&c.MasterKeyFile, "master-key-file", "", "key that seals CA keys and secrets at rest [$"+EnvMasterKeyFile+"] (default <data-dir>/master.key)")
	var oldKeys string
	fs.StringVar(&oldKeys, "old-master-key-files", "", "comma-separated key files that open sealed values but never seal [$"+EnvOldMasterKeys+"]")
	fs.StringVar(&c.TLSCert, "tls-cert", "", "serve HTTPS with this certificate file [$"+EnvTLSCert+"]")
	fs.StringVar(&c.TLSKey, "tls-key", "", "serve HTTPS with this key file [$"+EnvTLSKey+"]")
	fs.StringVar(&c.LogLevel, "log-level", "", "debug, info, warn or error [$"+EnvLogLevel+"] (default info)")
	fs.StringVar(&c.AuditLog, "audit-log", "", "audit trail: stderr, off, or a file path [$"+EnvAuditLog+"] (default stderr)")
	fs.StringVar(&c.TrustedProxies, "trusted-proxies", "", "comma-separated networks whose X-Forwarded-For is believed [$"+EnvTrustedProxy+"]")
	fs.StringVar(&c.RateLimitDatabaseUsers, "rate-limit-database-users", "", "token bucket capacity/refill-per-minute per project, 0 disables [$"+EnvRateUsers+"] (default 10000/5000)")
	fs.StringVar(&c.RateLimitX509, "rate-limit-x509", "", "token bucket capacity/refill-per-minute per project, 0 disables [$"+EnvRateX509+"] (default 1200/500)")
	fs.StringVar(&c.RateLimitAuthFailures, "rate-limit-auth-failures", "", "failed authentications per client address, capacity/refill-per-minute [$"+EnvRateAuth+"] (default 20/20)")
	fs.StringVar(&c.KeyPool, "key-pool", "", "leaf keys made ahead of time per type, e.g. RSA4096=32,ECDSA_P256=256, or off [$"+EnvKeyPool+"] (default RSA4096=32)")
	fs.StringVar(&c.MetricsListen, "metrics-listen", "", "where /metrics is served: empty for the API listener, off, or an address of its own [$"+EnvMetricsListen+"]")
	switch name {
	case "backup":
		fs.StringVar(&c.Out, "out", "", "the backup file to write; it must not exist (required)")
	case "restore":
		fs.StringVar(&c.From, "from", "", "the backup file to restore (required)")
	}
	var workers, crlValidity, maxConns, alertInterval, allowPrivate, eventRetention, console string
	fs.StringVar(&console, "console", "", "serve the web console at /console/ (true or false) [$"+EnvConsole+"] (default true)")
	fs.StringVar(&eventRetention, "event-retention", "", "how long events are kept, at least 1h [$"+EnvEventRetain+"] (default 2160h)")
	fs.StringVar(&maxConns, "max-connections", "", "open connections served at once; more wait for one to close [$"+EnvMaxConns+"] (default 1024)")
	fs.StringVar(&c.SMTPURL, "smtp-url", "", "smtp://[user:pass@]host:port or smtps://... with ?from=, for EMAIL notifications [$"+EnvSMTPURL+"]")
	fs.StringVar(&c.AlertRoleEmails, "alert-role-emails", "", "where GROUP and ORG notifications go, by role: ROLE=address or ID/ROLE=address, comma-separated [$"+EnvRoleEmails+"]")
	fs.StringVar(&alertInterval, "alert-interval", "", "how often alerts are evaluated and notifications sent [$"+EnvAlertInterval+"] (default 1m)")
	fs.StringVar(&allowPrivate, "webhook-allow-private", "", "allow webhook URLs on loopback, private and link-local addresses (true or false) [$"+EnvWebhookPriv+"] (default false)")
	fs.StringVar(&crlValidity, "crl-validity", "", "nextUpdate - thisUpdate of every CRL, at least 1m [$"+EnvCRLValidity+"] (default 168h)")
	fs.StringVar(&workers, "key-pool-workers", "", "goroutines refilling the key pool, 0 = cores-1 [$"+EnvKeyPoolWork+"] (default 0)")
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if name == "backup" && c.Out == "" {
		return Config{}, errors.New("--out is required")
	}
	if name == "restore" && c.From == "" {
		return Config{}, errors.New("--from is required")
	}
	fallback := func(v *string, env, def string) {
		if *v == "" {
			*v = getenv(env)
		}
		if *v == "" {
			*v = def
		}
	}
	fallback(&c.DataDir, EnvDataDir, "./atlasx509-data")
	fallback(&c.Listen, EnvListen, "127.0.0.1:8080")
	fallback(&c.DB, EnvDB, "sqlite:"+filepath.Join(c.DataDir, "atlasx509.db"))
	fallback(&c.MasterKeyFile, EnvMasterKeyFile, filepath.Join(c.DataDir, "master.key"))
	fallback(&oldKeys, EnvOldMasterKeys, "")
	for _, f := range strings.Split(oldKeys, ",") {
		if f = strings.TrimSpace(f); f != "" {
			c.OldMasterKeyFiles = append(c.OldMasterKeyFiles, f)
		}
	}
	fallback(&c.TLSCert, EnvTLSCert, "")
	fallback(&c.TLSKey, EnvTLSKey, "")
	fallback(&c.ExternalURL, EnvExternalURL, "")
	fallback(&c.LogLevel, EnvLogLevel, "info")
	fallback(&c.AuditLog, EnvAuditLog, "stderr")
	fallback(&c.TrustedProxies, EnvTrustedProxy, "")
	fallback(&c.RateLimitDatabaseUsers, EnvRateUsers, "10000/5000")
	fallback(&c.RateLimitX509, EnvRateX509, "1200/500")
	fallback(&c.RateLimitAuthFailures, EnvRateAuth, "20/20")
	fallback(&c.KeyPool, EnvKeyPool, "RSA4096=32")
	fallback(&workers, EnvKeyPoolWork, "0")
	fallback(&c.MetricsListen, EnvMetricsListen, "")
	n, err := strconv.Atoi(workers)
	if err != nil || n < 0 {
		return Config{}, fmt.Errorf("--key-pool-workers %q: want a number, 0 or more", workers)
	}
	c.KeyPoolWorkers = n
	fallback(&maxConns, EnvMaxConns, "1024")
	if c.MaxConnections, err = strconv.Atoi(maxConns); err != nil || c.MaxConnections < 1 {
		return Config{}, fmt.Errorf("--max-connections %q: want a number, 1 or more", maxConns)
	}
	fallback(&c.SMTPURL, EnvSMTPURL, "")
	fallback(&c.AlertRoleEmails, EnvRoleEmails, "")
	fallback(&alertInterval, EnvAlertInterval, "1m")
	if c.AlertInterval, err = time.ParseDuration(alertInterval); err != nil || c.AlertInterval <= 0 {
		return Config{}, fmt.Errorf("--alert-interval %q: want a positive duration such as 1m", alertInterval)
	}
	fallback(&allowPrivate, EnvWebhookPriv, "false")
	if c.WebhookAllowPrivate, err = strconv.ParseBool(allowPrivate); err != nil {
		return Config{}, fmt.Errorf("--webhook-allow-private %q: want true or false", allowPrivate)
	}
	fallback(&crlValidity, EnvCRLValidity, "168h")
	if c.CRLValidity, err = time.ParseDuration(crlValidity); err != nil {
		return Config{}, fmt.Errorf("--crl-validity %q: want a duration such as 168h", crlValidity)
	}
	fallback(&console, EnvConsole, "true")
	if c.Console, err = strconv.ParseBool(console); err != nil {
		return Config{}, fmt.Errorf("--console %q: want true or false", console)
	}
	fallback(&eventRetention, EnvEventRetain, "2160h")
	if c.EventRetention, err = time.ParseDuration(eventRetention); err != nil {
		return Config{}, fmt.Errorf("--event-retention %q: want a duration such as 2160h", eventRetention)
	}
	return c, c.Validate()
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	if _, _, err := c.Store(); err != nil {
		return err
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("--log-level %q: want debug, info, warn or error", c.LogLevel)
	}
	if _, err := c.Proxies(); err != nil {
		return err
	}
	if err := c.CheckExternalURL(); err != nil {
		return err
	}
	if _, err := keypool.ParseDepths(c.KeyPool); err != nil {
		return fmt.Errorf("--key-pool: %w", err)
	}
	if c.EventRetention < time.Hour {
		return fmt.Errorf("--event-retention %v: want at least 1h", c.EventRetention)
	}
	if c.SMTPURL != "" {
		if _, err := notify.ParseSMTP(c.SMTPURL); err != nil {
			return fmt.Errorf("--smtp-url: %w", err)
		}
	}
	if _, err := notify.ParseRoleEmails(c.AlertRoleEmails); err != nil {
		return fmt.Errorf("--alert-role-emails: %w", err)
	}
	if c.CRLValidity < MinCRLValidity {
		return fmt.Errorf("--crl-validity %v: want at least %v", c.CRLValidity, MinCRLValidity)
	}
	for flag, v := range map[string]string{"rate-limit-database-users": c.RateLimitDatabaseUsers, "rate-limit-x509": c.RateLimitX509, "rate-limit-auth-failures": c.RateLimitAuthFailures} {
		if _, _, err := ParseRate(v); err != nil {
			return fmt.Errorf("--%s: %w", flag, err)
		}
	}
	return nil
}

// CheckExternalURL reports whether ExternalURL, when set, is an http or
// https URL with a host and nothing after its path.
func (c Config) CheckExternalURL() error {
	if c.ExternalURL == "" {
		return nil
	}
	u, err := url.Parse(c.ExternalURL)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("--external-url %q: want http(s)://host[:port][/prefix]", c.ExternalURL)
	}
	return nil
}

// Proxies parses TrustedProxies.
func (c Config) Proxies() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(c.TrustedProxies, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("--trusted-proxies: %q is neither an address nor a network", f)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// ParseRate parses "capacity/refill-per-minute" ("0" disables).
func ParseRate(v string) (capacity, refill int, err error) {
	if v == "0" {
		return 0, 0, nil
	}
	c, r, ok := strings.Cut(v, "/")
	if ok {
		capacity, err = strconv.Atoi(c)
		if err == nil {
			refill, err = strconv.Atoi(r)
		}
	}
	if !ok || err != nil || capacity < 1 || refill < 1 {
		return 0, 0, fmt.Errorf("%q: want capacity/refill-per-minute such as 1200/500, or 0", v)
	}
	return capacity, refill, nil
}

// Store returns the kind of store ("sqlite" or "postgres") and its path or URL.
func (c Config) Store() (kind, target string, err error) {
	switch {
	case strings.HasPrefix(c.DB, "sqlite:"):
		p := strings.TrimPrefix(c.DB, "sqlite:")
		if p == "" {
			return "", "", errors.New("--db sqlite: needs a path")
		}
		return "sqlite", p, nil
	case strings.HasPrefix(c.DB, "postgres://"), strings.HasPrefix(c.DB, "postgresql://"):
		return "postgres", c.DB, nil
	default:
		return "", "", fmt.Errorf("--db %q: want sqlite:PATH or a postgres:// URL", c.DB)
	}
}
