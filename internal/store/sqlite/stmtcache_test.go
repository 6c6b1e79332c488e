package sqlite

import (
	"context"
	"path/filepath"
	"testing"
)

// TestStatementCache runs the same statements repeatedly through one
// connection, including a query re-run while its first rows are still
// open (the cached statement is busy: a fresh one must serve it).
func TestStatementCache(t *testing.T) {
	ctx := context.Background()
	db := openDB(dsn(filepath.Join(t.TempDir(), "c.db"), false))
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, "CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		if _, err := db.ExecContext(ctx, "INSERT INTO t (k, v) VALUES (?, ?)", i, "v"); err != nil {
			t.Fatalf("insert %d: %v", i, err)
		}
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	const q = "SELECT k FROM t WHERE k < ? ORDER BY k"
	outer, err := tx.QueryContext(ctx, q, 3)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for outer.Next() {
		var k int
		outer.Scan(&k)
		inner, err := tx.QueryContext(ctx, q, 10) // same query while outer is open
		if err != nil {
			t.Fatal(err)
		}
		m := 0
		for inner.Next() {
			m++
		}
		inner.Close()
		if m != 10 {
			t.Fatalf("inner query saw %d rows, want 10", m)
		}
		n++
	}
	outer.Close()
	if n != 3 {
		t.Fatalf("outer query saw %d rows, want 3", n)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	// The cached statement is reusable after rows closed early and after errors.
	for i := 0; i < 5; i++ {
		rows, err := db.QueryContext(ctx, q, 50)
		if err != nil {
			t.Fatal(err)
		}
		rows.Next()
		rows.Close() // early
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO t (k, v) VALUES (?, ?)", 1, "dup"); err == nil {
		t.Fatal("duplicate key accepted")
	}
	var count int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM t WHERE v = ?", "v").Scan(&count); err != nil || count != 50 {
		t.Fatalf("count = %d, %v", count, err)
	}
}
