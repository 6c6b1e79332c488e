package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/store"
)

// InsertConsoleSession implements store.Tx.
func (t *tx) InsertConsoleSession(ctx context.Context, s store.ConsoleSession) error {
	_, err := t.exec(ctx, "insert console session",
		`INSERT INTO console_sessions (token_hash, principal_id, principal_kind, secret_id, created, last_seen, expires_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?)`,
		s.TokenHash, s.PrincipalID, s.PrincipalKind.String(), s.SecretID, timeArg(s.Created), timeArg(s.LastSeen), timeArg(s.ExpiresAt))
	return err
}

// GetConsoleSession implements store.Tx.
func (t *tx) GetConsoleSession(ctx context.Context, tokenHash string) (store.ConsoleSession, error) {
	return get(ctx, t, "get console session", func(r scanner) (store.ConsoleSession, error) {
		var s store.ConsoleSession
		var kind string
		if err := r.Scan(&s.TokenHash, &s.PrincipalID, &kind, &s.SecretID, timeScan{&s.Created}, timeScan{&s.LastSeen}, timeScan{&s.ExpiresAt}); err != nil {
			return s, err
		}
		k, ok := atlasx509.ParsePrincipalKind(kind)
		if !ok {
			return s, fmt.Errorf("console session of unknown principal kind %q", kind)
		}
		s.PrincipalKind = k
		return s, nil
	}, `SELECT token_hash, principal_id, principal_kind, secret_id, created, last_seen, expires_at
	    FROM console_sessions WHERE token_hash = ?`, tokenHash)
}

// TouchConsoleSession implements store.Tx.
func (t *tx) TouchConsoleSession(ctx context.Context, tokenHash string, lastSeen time.Time) error {
	return t.execOne(ctx, "touch console session",
		`UPDATE console_sessions SET last_seen = ? WHERE token_hash = ?`, timeArg(lastSeen), tokenHash)
}

// DeleteConsoleSession implements store.Tx.
func (t *tx) DeleteConsoleSession(ctx context.Context, tokenHash string) error {
	return t.execOne(ctx, "delete console session",
		`DELETE FROM console_sessions WHERE token_hash = ?`, tokenHash)
}

// DeleteExpiredConsoleSessions implements store.Tx.
func (t *tx) DeleteExpiredConsoleSessions(ctx context.Context, idleBefore, now time.Time) (int, error) {
	return t.execCount(ctx, "delete expired console sessions",
		`DELETE FROM console_sessions WHERE last_seen < ? OR expires_at <= ?`, timeArg(idleBefore), timeArg(now))
}
