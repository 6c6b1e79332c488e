package postgres

import (
	"context"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
)

// Check reports the problems of the database that this driver can see: it
// answers, and its schema is at this binary's migration version (Open
// migrates an older one; a newer one comes from a newer binary). It
// returns one line per problem; its error means that it could not check.
func (s *Store) Check(ctx context.Context) ([]string, error) {
	var version int64
	err := s.pool.QueryRow(ctx, `SELECT coalesce(max(version_id), 0) FROM goose_db_version WHERE is_applied`).Scan(&version)
	if err != nil {
		return nil, fmt.Errorf("postgres: read the schema version: %w", err)
	}
	own, err := SchemaVersion()
	if err != nil {
		return nil, err
	}
	if version != own {
		return []string{fmt.Sprintf("schema: version %d, this binary's is %d", version, own)}, nil
	}
	return nil, nil
}

// SchemaVersion returns the newest migration this binary holds.
func SchemaVersion() (int64, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return 0, err
	}
	var newest int64
	for _, e := range entries {
		prefix, _, _ := strings.Cut(e.Name(), "_")
		v, err := strconv.ParseInt(prefix, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("migration %s: no version prefix", e.Name())
		}
		newest = max(newest, v)
	}
	return newest, nil
}
