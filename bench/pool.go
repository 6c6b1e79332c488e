package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/atlasx509/atlasx509/internal/pki"
)

// The key pool series the benchmark reads from the server's /metrics.
const (
	seriesDepth     = "atlasx509_key_pool_depth"
	seriesTarget    = "atlasx509_key_pool_target_depth"
	seriesHits      = "atlasx509_key_pool_hits_total"
	seriesFallbacks = "atlasx509_key_pool_fallbacks_total"
)

// samples maps a series, as written in the text exposition format
// (name{labels}), to its value.
type samples map[string]float64

func (s samples) pool(name string, kt pki.KeyType) (float64, bool) {
	v, ok := s[name+`{key_type="`+string(kt)+`"}`]
	return v, ok
}

// scrape reads the server's /metrics; it returns nil when the server does
// not serve them.
func (b *bench) scrape(ctx context.Context) samples {
	if len(b.replicas) < 2 {
		return b.scrapeOne(ctx, b.srv)
	}
	sum := make(samples)
	for _, s := range b.replicas {
		m := b.scrapeOne(ctx, s)
		if m == nil {
			return nil
		}
		for k, v := range m {
			sum[k] += v
		}
	}
	return sum
}

// scrapeOne reads the /metrics of the replica s.
func (b *bench) scrapeOne(ctx context.Context, s *server) samples {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", s.base+"/metrics", nil)
	if err != nil {
		return nil
	}
	req.Header.Set("Authorization", "Bearer "+b.api.token)
	req.Header.Set("Accept", "text/plain")
	resp, err := b.api.hc.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		return nil
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return nil
	}
	return parseSamples(buf.Bytes())
}

// parseSamples parses the Prometheus text format, keeping the series that
// carry a plain value.
func parseSamples(text []byte) samples {
	out := make(samples)
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		// The value follows the series; label values may hold spaces, so
		// split after the closing brace when there is one.
		rest := line
		series := ""
		if i := strings.LastIndexByte(line, '}'); i >= 0 {
			series, rest = line[:i+1], line[i+1:]
		} else if i := strings.IndexByte(line, ' '); i >= 0 {
			series, rest = line[:i], line[i:]
		}
		f := strings.Fields(rest)
		if series == "" || len(f) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			continue
		}
		out[series] = v
	}
	return out
}

// warmPool waits until the server's pool of the scenario's key type is
// full, priming it with one certificate when the type has not been asked
// for yet (a pool warms the types it is asked for).
func (b *bench) warmPool(ctx context.Context, hc *http.Client, token string, s *slot, res *result) {
	kt := pki.KeyType(res.KeyType)
	for _, r := range b.replicas {
		m := b.scrapeOne(ctx, r)
		if m == nil {
			res.Notes = append(res.Notes, "the server serves no /metrics: key pool not observed")
			return
		}
		if _, ok := m.pool(seriesTarget, kt); ok {
			continue
		}
		s.left--
		if status, body, err := send(ctx, hc, token, "POST", certURL(r.base, s), certBody, false); err != nil || status != http.StatusCreated {
			res.Notes = append(res.Notes, fmt.Sprintf("priming request failed: %v %d %s", err, status, truncate(string(body), 120)))
		}
		if m = b.scrapeOne(ctx, r); m == nil {
			return
		}
		if _, ok := m.pool(seriesTarget, kt); !ok {
			res.Notes = append(res.Notes, fmt.Sprintf("no %s key pool in /metrics", kt))
			return
		}
	}
	start := time.Now()
	depth, target := b.waitPool(ctx, kt, func(depth, target float64) bool { return target > 0 && depth >= target })
	res.Notes = append(res.Notes, fmt.Sprintf("waited %.1fs for the %s pool to fill: depth %.0f of %.0f", time.Since(start).Seconds(), kt, depth, target))
}

// drainPool runs while the load is on, until the pool of kt is empty, so that
// the measured window shows the sustained rate rather than the stock.
func (b *bench) drainPool(ctx context.Context, kt pki.KeyType, res *result) {
	m := b.scrape(ctx)
	if m == nil {
		return
	}
	if _, ok := m.pool(seriesDepth, kt); !ok {
		return
	}
	start := time.Now()
	depth, _ := b.waitPool(ctx, kt, func(depth, _ float64) bool { return depth <= 1 })
	res.Notes = append(res.Notes, fmt.Sprintf("drained the %s pool (to %.0f) in %.1fs before measuring", kt, depth, time.Since(start).Seconds()))
}

// settle waits until every pool that has been refilling is full again, so
// that refill work does not run inside another scenario's window.
func (b *bench) settle(ctx context.Context, res *result) {
	m := b.scrape(ctx)
	if m == nil {
		return
	}
	start := time.Now()
	for _, kt := range pki.KeyTypes() {
		// A type the server lists with a target is warm: it is refilling
		// when below it, also before its first key is done (the RSA 4096
		// pool fills from the server's start, over the first scenarios on
		// a busy machine).
		depth, ok := m.pool(seriesDepth, kt)
		target, _ := m.pool(seriesTarget, kt)
		if !ok || depth >= target {
			continue
		}
		b.waitPool(ctx, kt, func(depth, target float64) bool { return depth >= target })
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		res.Notes = append(res.Notes, fmt.Sprintf("waited %.1fs for the key pools to refill before measuring", d.Seconds()))
	}
}

// waitPool polls the pool of kt until done holds or -warm-timeout passes,
// and returns the last depth and target seen.
func (b *bench) waitPool(ctx context.Context, kt pki.KeyType, done func(depth, target float64) bool) (depth, target float64) {
	deadline := time.Now().Add(b.opts.warmTimeout)
	for {
		m := b.scrape(ctx)
		if m == nil {
			return depth, target
		}
		depth, _ = m.pool(seriesDepth, kt)
		target, _ = m.pool(seriesTarget, kt)
		if done(depth, target) || time.Now().After(deadline) || !sleepCtx(ctx, 250*time.Millisecond) {
			return depth, target
		}
	}
}

// snap is what is read around a measured window: CPU times and pool
// counters.
type snap struct {
	at              time.Time
	srvCPU, ownCPU  float64
	allCPU          float64
	cpuErr          error
	hits, fallbacks float64
	pool            bool
}

func (b *bench) snapshot(ctx context.Context, kt pki.KeyType) snap {
	return b.snapshotOf(ctx, b.srv.pid, kt)
}

// snapshotOf is snapshot with the server process pid (atlasx509 or the
// peer); the pool counters are always atlasx509's.
func (b *bench) snapshotOf(ctx context.Context, pid int, kt pki.KeyType) snap {
	s := snap{at: time.Now()}
	var err1, err2, err3 error
	s.srvCPU, err1 = cpuSeconds(pid)
	if pid == b.srv.pid {
		for _, r := range b.replicas[1:] {
			c, err := cpuSeconds(r.pid)
			s.srvCPU += c
			err1 = errors.Join(err1, err)
		}
	}
	s.ownCPU, err2 = cpuSeconds(0)
	s.allCPU, err3 = machineBusySeconds()
	s.cpuErr = errors.Join(err1, err2, err3)
	if kt == "" || pid != b.srv.pid {
		return s
	}
	if m := b.scrape(ctx); m != nil {
		var ok1, ok2 bool
		s.hits, ok1 = m.pool(seriesHits, kt)
		s.fallbacks, ok2 = m.pool(seriesFallbacks, kt)
		s.pool = ok1 && ok2
	}
	return s
}
