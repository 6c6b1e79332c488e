package testkit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresURLEnv names the variable that gives the PostgreSQL server the
// tests create their databases on (an admin URL, as pgx parses it).
const PostgresURLEnv = "ATLASX509_TEST_POSTGRES_URL"

// defaultPostgresURL is the server tried when PostgresURLEnv is unset.
const defaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// PostgresDatabase creates a database of its own, named prefix and random
// hex digits, on the server of PostgresURLEnv (or a local server when the
// variable is unset and one answers), drops it when tb ends, and returns
// its URL. When no local server answers, tb is skipped, except in CI
// (CI=true); a server named by PostgresURLEnv must answer.
func PostgresDatabase(tb testing.TB, prefix string) string {
	tb.Helper()
	admin, set := os.LookupEnv(PostgresURLEnv)
	if !set || admin == "" {
		admin = defaultPostgresURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	switch {
	case err != nil && (set || os.Getenv("CI") == "true"):
		tb.Fatalf("PostgreSQL at %s: %v", admin, err)
	case err != nil:
		tb.Skipf("no PostgreSQL at %s (%v); set %s to run this test", admin, err, PostgresURLEnv)
	}
	var b [6]byte
	rand.Read(b[:])
	name := prefix + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		conn.Close(ctx)
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx := context.Background()
		conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		conn.Close(ctx)
	})
	u, err := url.Parse(admin)
	if err != nil {
		tb.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}
