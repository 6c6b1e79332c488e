package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"time"
)

// Agent is the configuration of atlasx509 agent.
type Agent struct {
	// URL is the server's base URL.
	URL string
	// Project is the groupId whose CA and CRLs the mongod trusts.
	Project string
	// CAFile and CRLFile are the files the agent keeps current.
	CAFile, CRLFile string
	// Interval is the time between two syncs.
	Interval time.Duration
	// OnChange is run through sh -c after a change of either file.
	OnChange string
	// Once syncs once and exits.
	Once bool
	// TLSCAFile holds the certificates that the server's certificate must
	// chain to; empty means the system's roots.
	TLSCAFile string
	// LogLevel is debug, info, warn or error.
	LogLevel string
	// Credentials: a service account (ClientID, ClientSecret) or an API
	// key (PublicKey, PrivateKey), only from the environment.
	ClientID, ClientSecret string
	PublicKey, PrivateKey  string
}

// Environment variables read by LoadAgent. The credentials are read only
// from the environment, so that they do not show in the process list.
const (
	EnvAgentURL          = "ATLASX509_AGENT_URL"
	EnvAgentProject      = "ATLASX509_AGENT_PROJECT"
	EnvAgentCAFile       = "ATLASX509_AGENT_CA_FILE"
	EnvAgentCRLFile      = "ATLASX509_AGENT_CRL_FILE"
	EnvAgentInterval     = "ATLASX509_AGENT_INTERVAL"
	EnvAgentOnChange     = "ATLASX509_AGENT_ON_CHANGE"
	EnvAgentTLSCAFile    = "ATLASX509_AGENT_TLS_CA_FILE"
	EnvAgentClientID     = "ATLASX509_AGENT_CLIENT_ID"
	EnvAgentClientSecret = "ATLASX509_AGENT_CLIENT_SECRET"
	EnvAgentPublicKey    = "ATLASX509_AGENT_PUBLIC_KEY"
	EnvAgentPrivateKey   = "ATLASX509_AGENT_PRIVATE_KEY"
)

// LoadAgent parses the flags of atlasx509 agent from args with getenv
// supplying the environment; a flag wins over its variable, which wins over
// the default. Usage and errors are written to output.
func LoadAgent(args []string, getenv func(string) string, output io.Writer) (Agent, error) {
	fs := flag.NewFlagSet("atlasx509 agent", flag.ContinueOnError)
	fs.SetOutput(output)
	var c Agent
	var interval string
	fs.StringVar(&c.URL, "url", "", "the server's base URL, e.g. https://atlasx509.internal:8080 [$"+EnvAgentURL+"]")
	fs.StringVar(&c.Project, "project", "", "the project (groupId) whose CA and CRLs mongod trusts [$"+EnvAgentProject+"]")
	fs.StringVar(&c.CAFile, "ca-file", "", "the CA bundle file to keep current (mongod's net.tls.CAFile) [$"+EnvAgentCAFile+"]")
	fs.StringVar(&c.CRLFile, "crl-file", "", "the CRL file to keep current (mongod's net.tls.CRLFile) [$"+EnvAgentCRLFile+"]")
	fs.StringVar(&interval, "interval", "", "time between two syncs [$"+EnvAgentInterval+"] (default 1m)")
	fs.StringVar(&c.OnChange, "on-change", "", "shell command run (sh -c) once after either file changed [$"+EnvAgentOnChange+"]")
	fs.BoolVar(&c.Once, "once", false, "sync once and exit: 0 on success, 1 otherwise")
	fs.StringVar(&c.TLSCAFile, "tls-ca-file", "", "PEM certificates to trust for the server's HTTPS certificate instead of the system's [$"+EnvAgentTLSCAFile+"]")
	fs.StringVar(&c.LogLevel, "log-level", "", "debug, info, warn or error [$"+EnvLogLevel+"] (default info)")
	fs.Usage = func() {
		fmt.Fprintf(output, "usage: atlasx509 agent --url URL --project GROUP_ID --ca-file PATH --crl-file PATH [flags]\n\n"+
			"Credentials come from the environment: %s and %s (a service account)\nor %s and %s (an API key).\n\n",
			EnvAgentClientID, EnvAgentClientSecret, EnvAgentPublicKey, EnvAgentPrivateKey)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return Agent{}, err
	}
	if fs.NArg() > 0 {
		return Agent{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	fallback := func(v *string, env, def string) {
		if *v == "" {
			*v = getenv(env)
		}
		if *v == "" {
			*v = def
		}
	}
	fallback(&c.URL, EnvAgentURL, "")
	fallback(&c.Project, EnvAgentProject, "")
	fallback(&c.CAFile, EnvAgentCAFile, "")
	fallback(&c.CRLFile, EnvAgentCRLFile, "")
	fallback(&interval, EnvAgentInterval, "1m")
	fallback(&c.OnChange, EnvAgentOnChange, "")
	fallback(&c.TLSCAFile, EnvAgentTLSCAFile, "")
	fallback(&c.LogLevel, EnvLogLevel, "info")
	c.ClientID, c.ClientSecret = getenv(EnvAgentClientID), getenv(EnvAgentClientSecret)
	c.PublicKey, c.PrivateKey = getenv(EnvAgentPublicKey), getenv(EnvAgentPrivateKey)
	d, err := time.ParseDuration(interval)
	if err != nil || d < time.Second {
		return Agent{}, fmt.Errorf("--interval %q: want a duration of 1s or more, such as 1m", interval)
	}
	c.Interval = d
	if err := c.Validate(); err != nil {
		return Agent{}, err
	}
	return c, nil
}

// Validate reports the first setting that cannot work.
func (c Agent) Validate() error {
	for _, f := range []struct{ flag, v string }{{"url", c.URL}, {"project", c.Project}, {"ca-file", c.CAFile}, {"crl-file", c.CRLFile}} {
		if f.v == "" {
			return fmt.Errorf("--%s is required", f.flag)
		}
	}
	if u, err := url.Parse(c.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--url %q: want the server's http:// or https:// base URL", c.URL)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("--log-level %q: want debug, info, warn or error", c.LogLevel)
	}
	sa := c.ClientID != "" || c.ClientSecret != ""
	key := c.PublicKey != "" || c.PrivateKey != ""
	switch {
	case sa && key:
		return fmt.Errorf("set either %s and %s or %s and %s, not both", EnvAgentClientID, EnvAgentClientSecret, EnvAgentPublicKey, EnvAgentPrivateKey)
	case sa && (c.ClientID == "" || c.ClientSecret == ""):
		return fmt.Errorf("%s and %s go together", EnvAgentClientID, EnvAgentClientSecret)
	case key && (c.PublicKey == "" || c.PrivateKey == ""):
		return fmt.Errorf("%s and %s go together", EnvAgentPublicKey, EnvAgentPrivateKey)
	case !sa && !key:
		return errors.New("no credentials: set " + EnvAgentClientID + " and " + EnvAgentClientSecret +
			" (a service account) or " + EnvAgentPublicKey + " and " + EnvAgentPrivateKey + " (an API key)")
	}
	return nil
}
