package audit

import (
	"path/filepath"
	"testing"
)

// BenchmarkIntentFile records intents in a file from parallel goroutines, as
// concurrent requests do: each returns once its line is synced to disk.
func BenchmarkIntentFile(b *testing.B) {
	l, err := OpenFile(filepath.Join(b.TempDir(), "audit.log"))
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	e := Event{RequestID: "r", Principal: "k", PrincipalKind: "apiKey", Operation: "createDatabaseUserCertificate",
		Method: "POST", Path: "/api/atlas/v2/groups/g/databaseUsers/alice/certs", GroupID: "g", Source: "127.0.0.1"}
	b.SetParallelism(4) // 8 goroutines on 2 cores
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := l.Intent(e); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
