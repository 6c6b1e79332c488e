package httpapi

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/atlasx509/atlasx509/internal/auth"
	"github.com/atlasx509/atlasx509/internal/testkit"
)

// BenchmarkCreateCertificateHandler issues ECDSA P-256 certificates through
// the whole handler (Bearer or Digest authentication, routing, audit
// intent, JSON, durable SQLite), without the network and without the spec
// check of the tests' handler: what a request costs inside the server.
// cpu-µs/op, the CPU time of the process per certificate, is the figure to
// compare on a shared machine (the wall time waits on fsync):
//
//	go test -run x -bench CreateCertificateHandler -benchmem -count 6 ./internal/httpapi/ | benchstat -
func BenchmarkCreateCertificateHandler(b *testing.B) {
	for _, scheme := range []string{"Bearer", "Digest"} {
		b.Run(scheme, func(b *testing.B) {
			e := newEnv(b)
			h := NewHandler(Options{App: e.app, ExternalURL: testExternalURL})
			const users = 64
			for i := 0; i < users; i++ {
				e.createUser(managedUserBody(fmt.Sprintf("user%d", i)))
			}
			var n atomic.Int64
			b.SetParallelism(8)
			b.ReportAllocs()
			b.ResetTimer()
			defer testkit.ReportCPU(b)()
			b.RunParallel(func(pb *testing.PB) {
				var dc *benchDigest
				if scheme == "Digest" {
					dc = newBenchDigest(b, h, e.boot.APIKey.PublicKey, e.boot.APIKey.PrivateKey)
				}
				for pb.Next() {
					i := n.Add(1)
					path := fmt.Sprintf("%s/databaseUsers/user%d/certs", e.group(), i%users)
					var rec *httptest.ResponseRecorder
					if dc != nil {
						rec = dc.post(path, `{}`)
					} else {
						req := httptest.NewRequest("POST", path, strings.NewReader(`{}`))
						req.Header.Set("Authorization", "Bearer "+e.token)
						req.Header.Set("Content-Type", "application/json")
						rec = httptest.NewRecorder()
						h.ServeHTTP(rec, req)
					}
					if rec.Code != http.StatusCreated {
						b.Errorf("status %d: %s", rec.Code, rec.Body.String())
						return
					}
				}
			})
		})
	}
}

// benchDigest signs requests with an API key over HTTP Digest, reusing one
// nonce with a growing nonce count, as the load generator's clients do.
type benchDigest struct {
	h         http.Handler
	user, ha1 string
	nonce     string
	nc        int
}

func newBenchDigest(b *testing.B, h http.Handler, public, private string) *benchDigest {
	d := &benchDigest{h: h, user: public, ha1: auth.HA1("MD5", public, auth.Realm, private)}
	req := httptest.NewRequest("GET", "/api/atlas/v1.0", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	ch := rec.Header().Get("WWW-Authenticate")
	i := strings.Index(ch, `nonce="`)
	if i < 0 {
		b.Fatalf("no nonce in %q", ch)
	}
	d.nonce = ch[i+len(`nonce="`):]
	d.nonce = d.nonce[:strings.IndexByte(d.nonce, '"')]
	return d
}

func (d *benchDigest) post(path, body string) *httptest.ResponseRecorder {
	d.nc++
	h := func(s string) string { sum := md5.Sum([]byte(s)); return hex.EncodeToString(sum[:]) }
	nc := fmt.Sprintf("%08x", d.nc)
	const cnonce = "0a4f113b"
	resp := h(d.ha1 + ":" + d.nonce + ":" + nc + ":" + cnonce + ":auth:" + h("POST:"+path))
	req := httptest.NewRequest("POST", path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", fmt.Sprintf(`Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", algorithm="MD5", qop=auth, nc=%s, cnonce="%s"`,
		d.user, auth.Realm, d.nonce, path, resp, nc, cnonce))
	rec := httptest.NewRecorder()
	d.h.ServeHTTP(rec, req)
	return rec
}
