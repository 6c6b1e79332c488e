package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mongodb-forks/digest"

	"github.com/atlasx509/atlasx509/internal/pki"
)

// certBody is the body of every certificate request: the shortest validity.
var certBody = []byte(`{"monthsUntilExpiration":1}`)

// runScenario runs one scenario; it never fails the run, it reports.
func (b *bench) runScenario(ctx context.Context, sc scenario, limits map[string]limit) result {
	res := result{Name: sc.Name, Kind: sc.Kind, KeyType: string(sc.KeyType), Clients: sc.Clients, Auth: sc.Auth, Server: "atlasx509", Rep: sc.Rep, row: sc.row}
	if sc.Peer != "" {
		res.Server = sc.Peer
	}
	if sc.KeyType != "" && sc.Peer == "" && b.allocs[sc.KeyType] == nil {
		res.Skipped = b.ecdsaSkip
		return res
	}
	b.logf("scenario %s", sc.Name)
	switch sc.Kind {
	case kindLowLoad:
		b.lowLoad(ctx, sc, &res)
	default:
		b.saturate(ctx, sc, limits[string(sc.KeyType)], &res)
	}
	if l, ok := limits[string(sc.KeyType)]; ok && sc.Kind == kindCerts && l.PerSecond > 0 {
		res.Ratio = res.PerSecond / l.PerSecond
		// Each RSA certificate costs one prime search, whose time varies
		// widely: the count in the window is as uncertain as the limit's.
		if isRSA(sc.KeyType) && res.OK > 0 {
			e := l.CV / math.Sqrt(float64(res.OK))
			res.RatioErr = math.Sqrt(e*e + l.RelErr*l.RelErr)
		}
	}
	if ctx.Err() != nil {
		res.Notes = append(res.Notes, "interrupted")
	}
	if l, ok := limits[string(sc.KeyType)]; ok && sc.Kind == kindLowLoad {
		res.Notes = append(res.Notes, fmt.Sprintf("raw issuance on one core: %.1f ms", l.MeanMillis))
	}
	return res
}

// loadClient returns the HTTP client of a scenario and the Bearer token to
// send ("" with Digest, which the transport answers).
func (b *bench) loadClient(sc scenario) (*http.Client, *http.Transport, string) {
	tr := &http.Transport{
		MaxIdleConns: 4*sc.Clients + 8, MaxIdleConnsPerHost: 4*sc.Clients + 8,
		IdleConnTimeout: 90 * time.Second, DisableCompression: true,
	}
	switch sc.Auth {
	case authNone:
		return &http.Client{Transport: tr, Timeout: b.opts.requestTimeout}, tr, ""
	case authDigest:
		k := b.api.boot.APIKey
		return &http.Client{Transport: digest.NewTransportWithHTTPRoundTripper(k.PublicKey, k.PrivateKey, tr), Timeout: b.opts.requestTimeout}, tr, ""
	}
	return &http.Client{Transport: tr, Timeout: b.opts.requestTimeout}, tr, b.api.token
}

// send makes one request and returns its status, and its body when keep is
// set or the status is not 2xx.
func send(ctx context.Context, hc *http.Client, token, method, url string, body []byte, keep bool) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return 0, nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	if keep || resp.StatusCode/100 != 2 {
		b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return resp.StatusCode, b, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil, err
}

// certURL is the certificate route of s's user on the server at base.
func certURL(base string, s *slot) string {
	return base + apiPrefix + "/groups/" + s.group + "/databaseUsers/" + s.user + "/certs"
}

// clientStats is what one load client saw inside the measured window.
type clientStats struct {
	lat      []time.Duration
	ok, errs int
	firstErr string
}

func (st *clientStats) fail(msg string) {
	st.errs++
	if st.firstErr == "" {
		st.firstErr = msg
	}
}

// window is the measured interval, in Unix nanoseconds; zero until set.
type window struct{ start, end atomic.Int64 }

func (w *window) holds(t time.Time) bool {
	s, e := w.start.Load(), w.end.Load()
	n := t.UnixNano()
	return s != 0 && n >= s && (e == 0 || n <= e)
}

// saturate runs sc's clients in a closed loop: a warm-up (and, for RSA, until
// the server's key pool is drained, so that the figure is sustained), then
// the measured window of -duration. Requests that complete inside the window
// count; those in flight at its end finish before the next scenario but do
// not count.
func (b *bench) saturate(ctx context.Context, sc scenario, lim limit, res *result) {
	drain := sc.Kind == kindCerts && isRSA(sc.KeyType) && sc.Peer == ""
	var alloc *allocator
	if sc.Kind == kindCerts && sc.Peer == "" {
		alloc = b.allocs[sc.KeyType]
		run := b.opts.duration + time.Second
		if drain {
			run += b.opts.warmTimeout
		}
		if err := alloc.reserve(ctx, usersFor(sc, lim, run, b.opts.maxRequests)); err != nil {
			res.Skipped = "creating users: " + err.Error()
			return
		}
	}
	if !drain {
		// Refilling another type's pool would take cores from this window.
		b.settle(ctx, res)
	}
	hc, tr, token := b.loadClient(sc)
	defer tr.CloseIdleConnections()
	wantStatus := http.StatusCreated
	if sc.Kind == kindList || sc.Peer != "" {
		wantStatus = http.StatusOK
	}
	pid := b.srv.pid
	if sc.Peer != "" {
		pid = b.peer.pid
	}

	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		win      window
		stop     atomic.Bool
		started  atomic.Int64
		capped   = make(chan struct{})
		capOnce  sync.Once
		verified atomic.Bool
		leafNote atomic.Pointer[string]
		wg       sync.WaitGroup
	)
	stats := make([]clientStats, sc.Clients)
	for i := range stats {
		base := b.replicas[i%len(b.replicas)].base
		wg.Go(func() {
			st := &stats[i]
			var s *slot
			defer func() { alloc.give(s) }()
			for !stop.Load() && lctx.Err() == nil {
				if started.Add(1) > int64(b.opts.maxRequests) {
					capOnce.Do(func() { close(capped) })
					return
				}
				url := base + apiPrefix + "/groups/" + b.listGroup + "/databaseUsers"
				method, body := "GET", []byte(nil)
				if sc.Peer != "" {
					url, method, body = b.peer.base+cfsslPath, "POST", cfsslBody
				}
				if alloc != nil {
					if s == nil || s.left == 0 {
						alloc.give(s)
						var err error
						if s, err = alloc.take(lctx); err != nil {
							st.fail("creating a user: " + err.Error())
							return
						}
					}
					s.left--
					url, method, body = certURL(base, s), "POST", certBody
				}
				keep := (alloc != nil || sc.Peer != "") && !verified.Load()
				t0 := time.Now()
				status, out, err := send(lctx, hc, token, method, url, body, keep)
				t1 := time.Now()
				if keep && err == nil && status == wantStatus && verified.CompareAndSwap(false, true) {
					check := checkLeaf
					if sc.Peer != "" {
						check = func(body []byte, _ pki.KeyType) string { return checkCfssl(body) }
					}
					if msg := check(out, sc.KeyType); msg != "" {
						leafNote.Store(&msg)
					}
				}
				if !win.holds(t1) {
					continue
				}
				switch {
				case err != nil:
					st.fail(err.Error())
				case status != wantStatus:
					st.fail(fmt.Sprintf("status %d: %s", status, truncate(string(bytes.TrimSpace(out)), 160)))
				default:
					st.ok++
					st.lat = append(st.lat, t1.Sub(t0))
				}
			}
		})
	}

	if !sleepCtx(ctx, min(time.Second, b.opts.duration/4)) {
		stop.Store(true)
		wg.Wait()
		return
	}
	if drain {
		b.drainPool(ctx, sc.KeyType, res)
	}
	before := b.snapshotOf(ctx, pid, sc.KeyType)
	rss := startRSS(pid)
	prof := b.startProfiles(ctx, sc)
	ws := time.Now()
	win.start.Store(ws.UnixNano())
	select {
	case <-time.After(b.opts.duration):
	case <-capped:
		res.Notes = append(res.Notes, fmt.Sprintf("stopped at -max-requests %d", b.opts.maxRequests))
	case <-ctx.Done():
	}
	we := time.Now()
	win.end.Store(we.UnixNano())
	stop.Store(true)
	res.PeakRSSMB, res.HWMMB = rss.stop()
	after := b.snapshotOf(ctx, pid, sc.KeyType)
	allocs := prof.stop(ctx)
	wg.Wait()
	if msg := leafNote.Load(); msg != nil {
		res.Notes = append(res.Notes, *msg)
	}

	res.Seconds = we.Sub(ws).Seconds()
	res.fill(stats)
	res.PerSecond = float64(res.OK) / res.Seconds
	res.cpuAndPool(before, after)
	if allocs.ok && res.OK > 0 {
		res.AllocsPerReq = allocs.objects / float64(res.OK)
		res.KBPerReq = allocs.bytes / float64(res.OK) / 1024
	}
	res.Load = loadAverage()
}

// lowLoad issues -lowload-n certificates, one every -lowload-interval, on a
// warm key pool.
func (b *bench) lowLoad(ctx context.Context, sc scenario, res *result) {
	alloc := b.allocs[sc.KeyType]
	s, err := alloc.take(ctx)
	if err != nil {
		res.Skipped = "creating a user: " + err.Error()
		return
	}
	defer alloc.give(s)
	hc, tr, token := b.loadClient(sc)
	defer tr.CloseIdleConnections()
	b.warmPool(ctx, hc, token, s, res)

	before := b.snapshot(ctx, sc.KeyType)
	rss := startRSS(b.srv.pid)
	var st clientStats
	start := time.Now()
	var end time.Time
	for i := range b.opts.lowLoadN {
		if !sleepCtx(ctx, time.Until(start.Add(time.Duration(i)*b.opts.lowLoadEvery))) {
			break
		}
		s.left--
		t0 := time.Now()
		status, out, err := send(ctx, hc, token, "POST", certURL(b.srv.base, s), certBody, i == 0)
		end = time.Now()
		switch {
		case err != nil:
			st.fail(err.Error())
		case status != http.StatusCreated:
			st.fail(fmt.Sprintf("status %d: %s", status, truncate(string(bytes.TrimSpace(out)), 160)))
		default:
			st.ok++
			st.lat = append(st.lat, end.Sub(t0))
			if i == 0 {
				if msg := checkLeaf(out, sc.KeyType); msg != "" {
					res.Notes = append(res.Notes, msg)
				}
			}
		}
	}
	res.PeakRSSMB, res.HWMMB = rss.stop()
	after := b.snapshot(ctx, sc.KeyType)
	res.Seconds = end.Sub(start).Seconds()
	res.fill([]clientStats{st})
	if res.Seconds > 0 {
		res.PerSecond = float64(res.OK) / res.Seconds
	}
	res.cpuAndPool(before, after)
}

// checkLeaf checks that a certificate answer holds a leaf of type kt; it
// returns a note when it does not.
func checkLeaf(body []byte, kt pki.KeyType) string {
	block, _ := pem.Decode(body)
	if block == nil {
		return "the answer holds no PEM certificate"
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return "the answer's certificate does not parse: " + err.Error()
	}
	got := "unknown"
	switch k := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		got = fmt.Sprintf("RSA%d", k.N.BitLen())
	case *ecdsa.PublicKey:
		got = "ECDSA_" + map[string]string{"P-256": "P256", "P-384": "P384"}[k.Curve.Params().Name]
	}
	if got != string(kt) {
		return fmt.Sprintf("WARNING: asked for %s leaves, got %s", kt, got)
	}
	return ""
}

// fill computes the counts and latency percentiles from the clients' stats.
func (r *result) fill(stats []clientStats) {
	var all []time.Duration
	for _, st := range stats {
		r.OK += st.ok
		r.Errors += st.errs
		if r.FirstError == "" {
			r.FirstError = st.firstErr
		}
		all = append(all, st.lat...)
	}
	slices.Sort(all)
	r.P50Millis = millis(percentile(all, 0.50))
	r.P99Millis = millis(percentile(all, 0.99))
	if len(all) > 0 {
		r.MaxMillis = millis(all[len(all)-1])
	}
}

// percentile returns the nearest-rank percentile p (0..1] of sorted d.
func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(d)))) - 1
	return d[max(0, min(i, len(d)-1))]
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// sleepCtx sleeps d; it returns false when ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// rssSampler samples the server's VmRSS every 100 ms.
type rssSampler struct {
	pid  int
	done chan struct{}
	out  chan [2]float64
}

func startRSS(pid int) *rssSampler {
	s := &rssSampler{pid: pid, done: make(chan struct{}), out: make(chan [2]float64, 1)}
	go func() {
		var peak, hwm int64
		sample := func() {
			rss, h, err := memStatus(pid)
			if err == nil {
				peak, hwm = max(peak, rss), h
			}
		}
		sample()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				sample()
			case <-s.done:
				sample()
				s.out <- [2]float64{float64(peak) / (1 << 20), float64(hwm) / (1 << 20)}
				return
			}
		}
	}()
	return s
}

// stop returns the peak VmRSS sampled and the last VmHWM, in MiB.
func (s *rssSampler) stop() (peak, hwm float64) {
	close(s.done)
	v := <-s.out
	return v[0], v[1]
}
