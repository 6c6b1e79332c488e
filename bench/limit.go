package main

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"
	"time"

	"github.com/atlasx509/atlasx509/internal/pki"
)

// limit is the raw issuance limit of one leaf key type on this machine.
type limit struct {
	// PerSecond is issuances per second in GOMAXPROCS goroutines.
	PerSecond float64 `json:"perSecond"`
	// MeanMillis is the mean time of one issuance on one core.
	MeanMillis float64 `json:"meanMillis"`
	// Operations and Goroutines are what the figure is made of.
	Operations int `json:"operations"`
	Goroutines int `json:"goroutines"`
	// CV is the coefficient of variation of one operation's time: large for
	// RSA, whose prime search takes a random number of tries.
	CV float64 `json:"cv"`
	// RelErr is the relative standard error of PerSecond, CV/√Operations.
	RelErr float64 `json:"relErr"`
}

// measureLimit runs, in GOMAXPROCS goroutines for about d, what the server
// must do per certificate at least: generate the leaf key, sign the
// certificate with an ECDSA P-256 project CA (internal/pki, as the server)
// and encode the PEM answer. No HTTP, no authentication, no storage.
//
// Each goroutine's rate is its operations divided by the time of its last
// completion, so that the operation running at the deadline is neither
// dropped nor stretched; the limit is the sum of those rates.
func measureLimit(ctx context.Context, kt pki.KeyType, d time.Duration) (limit, error) {
	now := time.Now()
	certDER, keyDER, err := pki.NewCA("bench-limit", now, nil)
	if err != nil {
		return limit{}, err
	}
	ca, err := pki.ParseCA(certDER, keyDER)
	if err != nil {
		return limit{}, err
	}
	g := runtime.GOMAXPROCS(0)
	type share struct {
		ops        int
		busy       time.Duration
		sum, sumSq float64 // of operation times in seconds
		err        error
	}
	shares := make([]share, g)
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for i := range shares {
		wg.Go(func() {
			sh := &shares[i]
			for time.Now().Before(deadline) && ctx.Err() == nil {
				t0 := time.Now()
				if sh.err = issueOnce(ctx, ca, kt, now); sh.err != nil {
					return
				}
				op := time.Since(t0).Seconds()
				sh.ops++
				sh.sum += op
				sh.sumSq += op * op
				sh.busy = time.Since(start)
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return limit{}, err
	}
	l := limit{Goroutines: g}
	var busy time.Duration
	var sum, sumSq float64
	for _, sh := range shares {
		if sh.err != nil {
			return limit{}, fmt.Errorf("raw limit of %s: %w", kt, sh.err)
		}
		if sh.ops > 0 {
			l.PerSecond += float64(sh.ops) / sh.busy.Seconds()
		}
		l.Operations += sh.ops
		busy += sh.busy
		sum += sh.sum
		sumSq += sh.sumSq
	}
	if n := float64(l.Operations); n > 0 {
		l.MeanMillis = busy.Seconds() * 1000 / n
		mean := sum / n
		if v := sumSq/n - mean*mean; v > 0 && mean > 0 {
			l.CV = math.Sqrt(v) / mean
			l.RelErr = l.CV / math.Sqrt(n)
		}
	}
	return l, nil
}

// issueOnce is one issuance without I/O.
func issueOnce(ctx context.Context, ca *pki.CA, kt pki.KeyType, now time.Time) error {
	key, err := pki.Generator{}.NewKey(ctx, kt)
	if err != nil {
		return err
	}
	serial, err := pki.RandomSerial(nil)
	if err != nil {
		return err
	}
	der, err := ca.IssueLeaf(pki.LeafRequest{Username: "bench-limit", Months: 1, Now: now, Serial: serial, Key: key}, nil)
	if err != nil {
		return err
	}
	_, err = pki.EncodeCertAndKeyPEM(der, key)
	return err
}

func isRSA(kt pki.KeyType) bool {
	return kt == pki.RSA2048 || kt == pki.RSA3072 || kt == pki.RSA4096
}
