package keypool

import (
	"context"
	"crypto"
	"testing"

	"github.com/atlasx509/atlasx509/internal/pki"
)

// BenchmarkNewKey compares a key taken from a warm pool with a key
// generated inline, for the types whose generation is cheap enough to
// benchmark. The pool is refilled outside the timer with keys made once, so
// "hit" measures only what a request pays for a pooled key.
//
// Run: go test -run x -bench NewKey ./internal/keypool/
func BenchmarkNewKey(b *testing.B) {
	ctx := context.Background()
	for _, kt := range []pki.KeyType{pki.ECDSAP256, pki.RSA2048} {
		b.Run(string(kt)+"/hit", func(b *testing.B) {
			const batch = 16
			keys := make([]crypto.Signer, batch)
			for i := range keys {
				var err error
				if keys[i], err = (pki.Generator{}).NewKey(ctx, kt); err != nil {
					b.Fatal(err)
				}
			}
			p := New(Config{Depth: map[pki.KeyType]int{kt: batch}})
			defer p.Close()
			s := p.types[kt]
			b.ReportAllocs()
			for b.Loop() {
				if len(s.keys) == 0 {
					b.StopTimer()
					for _, k := range keys {
						p.put(s, k, 0)
					}
					b.StartTimer()
				}
				if _, err := p.NewKey(ctx, kt); err != nil {
					b.Fatal(err)
				}
			}
			if st := statsOf(b, p, kt); st.Misses != 0 {
				b.Fatalf("%d misses: the benchmark did not measure hits only", st.Misses)
			}
		})
		b.Run(string(kt)+"/inline", func(b *testing.B) {
			p := New(Config{Depth: map[pki.KeyType]int{kt: 0}})
			defer p.Close()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.NewKey(ctx, kt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
