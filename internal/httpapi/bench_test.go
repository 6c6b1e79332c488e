package httpapi

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// BenchmarkCreateCertificateHandler issues ECDSA P-256 certificates through
// the whole handler (Bearer authentication, routing, JSON, durable SQLite),
// without the network: what a request costs inside the server.
func BenchmarkCreateCertificateHandler(b *testing.B) {
	e := newEnv(b)
	const users = 64
	for i := 0; i < users; i++ {
		e.createUser(managedUserBody(fmt.Sprintf("user%d", i)))
	}
	var n atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			req := httptest.NewRequest("POST", fmt.Sprintf("%s/databaseUsers/user%d/certs", e.group(), i%users), strings.NewReader(`{}`))
			req.Header.Set("Authorization", "Bearer "+e.token)
			rec := httptest.NewRecorder()
			e.handler.ServeHTTP(rec, req)
			if rec.Code != http.StatusCreated {
				b.Errorf("status %d: %s", rec.Code, rec.Body.String())
				return
			}
		}
	})
}
