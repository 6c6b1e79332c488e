// Command bench measures atlasx509 issuing certificates over loopback.
//
// From the repository root:
//
//	go run ./bench
//
// It builds the server (go build ./cmd/atlasx509), starts it as a child
// process on a temporary data directory (the embedded SQLite store, durable
// commits) and a free loopback port, creates projects and managed database
// users, then drives it with N concurrent clients per scenario:
//
//	rsa4096-lowload        one certificate every 2 s (pool warm), Bearer
//	rsa4096-c1/c4/c16      RSA 4096 leaves, saturated, Bearer
//	ecdsa-p256-c1/c4/c16   ECDSA P-256 leaves, saturated, Bearer
//	ecdsa-p256-c4-digest   the same with HTTP Digest (two round trips, as Atlas clients do)
//	list-users-c4          GET …/databaseUsers, Bearer
//
// Before starting the server it measures the raw limit of each key type on
// this machine: key generation + certificate signed by an ECDSA P-256 CA +
// PEM, with internal/pki, in GOMAXPROCS goroutines. Every throughput is also
// printed as a ratio to that limit. Besides latency it prints the server's
// peak RSS (VmRSS sampled every 100 ms, and VmHWM) and the CPU the server
// and the load generator used, which share the machine.
//
// Leaf key types other than RSA 4096 need the extension route
// PATCH /api/atlas/v1.0/groups/{groupId}/userSecurity/managedX509 with
// {"leafKeyType":"ECDSA_P256"}; when the server answers anything but 2xx the
// ECDSA scenarios are skipped with a message. When the server serves
// /metrics with atlasx509_key_pool_* series, the benchmark waits for the
// pool to be warm before the low-load scenario and drains it before each
// saturated RSA scenario, so that "saturated" means sustained.
//
// Flags: -duration per scenario (default 10s), -scenarios (a regular
// expression on the names), -json FILE, -keep (keep the data directory),
// -server BIN (a prebuilt binary instead of building). The default run takes
// about three minutes. The bench is its own main package: nothing of it is
// built into the server binary.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/atlasx509/atlasx509/internal/pki"
)

// options are the command-line settings.
type options struct {
	duration       time.Duration
	limitDuration  time.Duration
	scenarios      *regexp.Regexp
	jsonPath       string
	keep           bool
	serverBin      string
	logLevel       string
	serverArgs     string
	rateLimits     bool
	lowLoadN       int
	lowLoadEvery   time.Duration
	maxRequests    int
	warmTimeout    time.Duration
	requestTimeout time.Duration
	peers          bool
	cfsslBin       string
	reps           int
	cpuProfile     string
	memProfile     string
	allocs         bool
	replicas       int
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	var scen string
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "measured time of each saturated scenario")
	fs.DurationVar(&o.limitDuration, "limit-duration", 10*time.Second, "time of each raw-limit measurement for RSA (ECDSA uses at most 3s)")
	fs.StringVar(&scen, "scenarios", "", "run only scenarios whose name matches this regular expression (e.g. 'ecdsa|list')")
	fs.StringVar(&o.jsonPath, "json", "", "also write the results as JSON to this file (- for stdout)")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary data directory and server log")
	fs.StringVar(&o.serverBin, "server", "", "use this atlasx509 binary instead of building ./cmd/atlasx509")
	fs.StringVar(&o.logLevel, "server-log-level", "info", "--log-level of the server (its log goes to a file in the data directory)")
	fs.StringVar(&o.serverArgs, "server-args", "", "more flags for atlasx509 serve, space-separated")
	fs.BoolVar(&o.rateLimits, "rate-limits", false, "keep the server's Atlas rate limits (by default they are disabled: 500 certificates a minute per project would be the figure measured)")
	fs.IntVar(&o.lowLoadN, "lowload-n", 10, "requests of the low-load scenario")
	fs.DurationVar(&o.lowLoadEvery, "lowload-interval", 2*time.Second, "interval between requests of the low-load scenario")
	fs.IntVar(&o.maxRequests, "max-requests", 200000, "bound on the requests of one scenario")
	fs.DurationVar(&o.warmTimeout, "warm-timeout", 40*time.Second, "longest wait for the server's key pool to fill or drain")
	fs.DurationVar(&o.requestTimeout, "request-timeout", 60*time.Second, "timeout of one request")
	fs.BoolVar(&o.peers, "peers", false, "also build and measure cfssl "+cfsslVersion+" (newcert, ECDSA P-256) in the same run; with no -scenarios, runs only the ECDSA P-256 scenarios at 4 and 16 clients and Digest at 4, -reps 2 by default")
	fs.StringVar(&o.cfsslBin, "cfssl", "", "with -peers, use this cfssl binary instead of building "+cfsslPackage+"@"+cfsslVersion)
	fs.IntVar(&o.reps, "reps", 1, "run the selected scenarios this many times, alternating (2 with -peers unless set)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the server over each saturated scenario's window to PREFIX-SCENARIO.pprof (builds the server with -tags benchprofile)")
	fs.StringVar(&o.memProfile, "memprofile", "", "write the server's allocation profile over each saturated scenario's window to PREFIX-SCENARIO.pprof (builds the server with -tags benchprofile)")
	fs.IntVar(&o.replicas, "replicas", 1, "start this many atlasx509 replicas on one shared store (needs -server-args \"--db postgres://...\") and spread the clients over them, client i on replica i mod N; server CPU is their sum")
	fs.BoolVar(&o.allocs, "allocs", false, "report the server's heap allocations per request (builds the server with -tags benchprofile; implied by -cpuprofile and -memprofile)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if o.peers && !set["scenarios"] {
		scen = peersScenarios
	}
	if o.peers && !set["reps"] {
		o.reps = 2
	}
	if o.reps < 1 {
		return o, errors.New("-reps must be at least 1")
	}
	if o.replicas < 1 {
		return o, errors.New("-replicas must be at least 1")
	}
	if o.replicas > 1 && !strings.HasPrefix(storeName(strings.Fields(o.serverArgs)), "PostgreSQL") {
		return o, errors.New("-replicas above 1 needs a store the replicas share: -server-args \"--db postgres://...\"")
	}
	if o.replicas > 1 && o.profiling() {
		return o, errors.New("-cpuprofile, -memprofile and -allocs profile one server: not with -replicas")
	}
	if o.profiling() && o.serverBin != "" {
		return o, errors.New("-cpuprofile, -memprofile and -allocs build the server themselves: not with -server")
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	re, err := regexp.Compile(scen)
	if err != nil {
		return o, fmt.Errorf("-scenarios: %w", err)
	}
	o.scenarios = re
	if o.duration <= 0 || o.limitDuration <= 0 || o.lowLoadN < 0 || o.maxRequests <= 0 {
		return o, errors.New("durations and counts must be positive")
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 2
	}
	b := &bench{opts: o, log: stderr}
	rep, err := b.run(ctx)
	if rep != nil {
		rep.print(stdout)
		if o.jsonPath != "" {
			if jerr := rep.writeJSON(o.jsonPath, stdout); jerr != nil {
				fmt.Fprintf(stderr, "bench: %v\n", jerr)
			}
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 1
	}
	return 0
}

// bench is one run of the benchmark.
type bench struct {
	opts options
	log  io.Writer
	// srv is the first replica, which initialized the store; replicas
	// holds every replica, srv first.
	srv      *server
	replicas []*server
	api      *api
	// ecdsaSkip says why the server cannot issue ECDSA leaves; "" when it can.
	ecdsaSkip string
	allocs    map[pki.KeyType]*allocator
	listGroup string
	// peer is cfssl serve, with -peers.
	peer *server
	// pprof is the address of the server's profiling listener, "" when the
	// run does not profile.
	pprof string
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.log, "bench: "+format+"\n", args...)
}

// serverArgs are the flags of atlasx509 serve besides --data-dir and
// --listen: the log level, rate limits off (when the server has them and
// -rate-limits is not set) and -server-args.
func (b *bench) serverArgs(ctx context.Context, bin string) []string {
	known := serveFlags(ctx, bin)
	args := []string{"--log-level", b.opts.logLevel}
	if !b.opts.rateLimits {
		for _, f := range []string{"rate-limit-x509", "rate-limit-database-users"} {
			if known[f] {
				args = append(args, "--"+f, "0")
			}
		}
	}
	return append(args, strings.Fields(b.opts.serverArgs)...)
}

// run measures the limits, starts the server and runs the scenarios.
func (b *bench) run(ctx context.Context) (*report, error) {
	rep := &report{
		Started: time.Now().UTC(), GoVersion: runtime.Version(), GOMAXPROCS: runtime.GOMAXPROCS(0), NumCPU: runtime.NumCPU(),
		Duration: b.opts.duration.String(), Limits: map[string]limit{}, LoadBefore: loadAverage(),
	}
	defer func() { rep.LoadAfter = loadAverage() }()
	plan := b.plan()
	if len(plan) == 0 {
		return nil, fmt.Errorf("no scenario matches %q", b.opts.scenarios)
	}
	work, err := os.MkdirTemp("", "atlasx509-bench-")
	if err != nil {
		return nil, err
	}
	defer func() {
		if b.opts.keep {
			b.logf("kept %s", work)
			return
		}
		os.RemoveAll(work)
	}()

	bin := b.opts.serverBin
	if bin == "" {
		bin = work + "/atlasx509"
		b.logf("building the server: go build -o %s ./cmd/atlasx509", bin)
		if err := buildServer(ctx, bin, b.opts.profiling(), b.log); err != nil {
			return nil, err
		}
	}
	var env []string
	if b.opts.profiling() {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		b.pprof = fmt.Sprintf("127.0.0.1:%d", port)
		env = append(env, "ATLASX509_BENCH_PPROF="+b.pprof)
	}
	if plan.hasPeer() {
		if err := b.startPeer(ctx, work); err != nil {
			return nil, err
		}
		defer b.stopPeer()
	}

	// The limits first, with the machine otherwise idle.
	for _, kt := range plan.keyTypes() {
		d := b.opts.limitDuration
		if !isRSA(kt) {
			d = min(d, 3*time.Second)
		}
		b.logf("raw limit of %s: key + signature + PEM in %d goroutines for %v", kt, runtime.GOMAXPROCS(0), d)
		l, err := measureLimit(ctx, kt, d)
		if err != nil {
			return nil, err
		}
		rep.Limits[string(kt)] = l
		b.logf("  %.1f/s (%.2f ms per operation on one core)", l.PerSecond, l.MeanMillis)
	}

	args := b.serverArgs(ctx, bin)
	defer func() {
		for i, s := range b.replicas {
			b.logf("stopping the server (pid %d)", s.pid)
			if err := s.stop(); err != nil {
				b.logf("%v", err)
			}
			if i == 0 {
				rep.ServerExit = s.exitStatus()
			} else if st := s.exitStatus(); st != rep.ServerExit {
				rep.ServerExit += fmt.Sprintf("; replica %d: %s", i+1, st)
			}
		}
	}()
	b.srv, err = startServer(ctx, bin, filepath.Join(work, "replica1"), args, env, nil, b.log)
	if err != nil {
		return rep, err
	}
	b.replicas = []*server{b.srv}
	b.logf("server pid %d on %s, data in %s", b.srv.pid, b.srv.base, work)
	// The other replicas open the store the first initialized, with its
	// master key (the one -server-args names, or else the one the first
	// created in its data directory): they print no bootstrap line.
	more := args
	if !slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(strings.TrimLeft(a, "-"), "master-key-file") }) {
		more = append(slices.Clone(args), "--master-key-file", filepath.Join(b.srv.dataDir, "master.key"))
	}
	for i := 2; i <= b.opts.replicas; i++ {
		s, err := startServer(ctx, bin, filepath.Join(work, fmt.Sprintf("replica%d", i)), more, env, &b.srv.boot, b.log)
		if err != nil {
			return rep, fmt.Errorf("replica %d: %w", i, err)
		}
		b.replicas = append(b.replicas, s)
		b.logf("replica %d: pid %d on %s", i, s.pid, s.base)
	}
	rep.ServerArgs = b.srv.args
	rep.Replicas = len(b.replicas)
	b.api = newAPI(b.srv.base, b.srv.boot, b.opts.requestTimeout)
	if err := b.api.login(ctx); err != nil {
		return rep, err
	}
	if err := b.setup(ctx, plan); err != nil {
		return rep, err
	}
	for _, sc := range plan {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		res := b.runScenario(ctx, sc, rep.Limits)
		rep.Results = append(rep.Results, res)
		b.logf("  %s", res.summary())
		for _, s := range b.replicas {
			if err := s.alive(); err != nil {
				return rep, err
			}
		}
		if b.peer != nil {
			if err := b.peer.alive(); err != nil {
				return rep, err
			}
		}
	}
	rep.sortResults()
	return rep, ctx.Err()
}
