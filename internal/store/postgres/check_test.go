package postgres

import (
	"strings"
	"testing"
)

// TestCheck: a migrated database passes; one whose schema a newer binary
// migrated is reported.
func TestCheck(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, _ := openTest(t)
	if problems, err := s.Check(ctx); err != nil || len(problems) != 0 {
		t.Fatalf("migrated database: Check = %v, %v", problems, err)
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO goose_db_version (version_id, is_applied) VALUES (9999, true)`); err != nil {
		t.Fatal(err)
	}
	problems, err := s.Check(ctx)
	if err != nil || len(problems) != 1 || !strings.Contains(problems[0], "version 9999") {
		t.Errorf("newer schema: Check = %q, %v", problems, err)
	}
}
