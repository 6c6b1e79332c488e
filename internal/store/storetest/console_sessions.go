package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/store"
)

func testConsoleSessions(t *testing.T, s store.Store) {
	ctx := t.Context()
	key := store.ConsoleSession{TokenHash: "aa01", PrincipalID: id(1), PrincipalKind: atlasx509.PrincipalAPIKey,
		Created: at(0), LastSeen: at(time.Minute), ExpiresAt: at(12 * time.Hour)}
	account := store.ConsoleSession{TokenHash: "bb02", PrincipalID: "mdb_sa_id_1", PrincipalKind: atlasx509.PrincipalServiceAccount,
		SecretID: id(2), Created: at(0), LastSeen: at(20 * time.Minute), ExpiresAt: at(time.Hour)}
	fresh := store.ConsoleSession{TokenHash: "cc03", PrincipalID: id(3), PrincipalKind: atlasx509.PrincipalAPIKey,
		Created: at(time.Hour), LastSeen: at(time.Hour), ExpiresAt: at(13 * time.Hour)}
	update(t, s, func(tx store.Tx) error {
		for _, c := range []store.ConsoleSession{key, account, fresh} {
			if err := tx.InsertConsoleSession(ctx, c); err != nil {
				return err
			}
		}
		return nil
	})
	err := s.Update(ctx, func(tx store.Tx) error { return tx.InsertConsoleSession(ctx, key) })
	wantIs(t, "InsertConsoleSession of a taken hash", err, store.ErrConflict)

	get := func(hash string) (store.ConsoleSession, error) {
		var got store.ConsoleSession
		err := s.View(ctx, func(tx store.Tx) error {
			var err error
			got, err = tx.GetConsoleSession(ctx, hash)
			return err
		})
		return got, err
	}
	for _, want := range []store.ConsoleSession{key, account} {
		got, err := get(want.TokenHash)
		if err != nil {
			t.Fatalf("GetConsoleSession(%s): %v", want.TokenHash, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("GetConsoleSession(%s) (-want +got):\n%s", want.TokenHash, diff)
		}
	}
	_, err = get("ffff")
	wantIs(t, "GetConsoleSession of an unknown hash", err, store.ErrNotFound)

	update(t, s, func(tx store.Tx) error { return tx.TouchConsoleSession(ctx, key.TokenHash, at(30*time.Minute)) })
	if got, err := get(key.TokenHash); err != nil || !got.LastSeen.Equal(at(30*time.Minute)) || !got.Created.Equal(key.Created) {
		t.Errorf("after TouchConsoleSession: %+v, %v; want LastSeen %v, Created unchanged", got, err, at(30*time.Minute))
	}
	err = s.Update(ctx, func(tx store.Tx) error { return tx.TouchConsoleSession(ctx, "ffff", at(0)) })
	wantIs(t, "TouchConsoleSession of an unknown hash", err, store.ErrNotFound)

	// At 1h: account has reached its lifetime (ExpiresAt not after now);
	// with sessions idle since before 25m gone, key (seen at 30m) stays.
	var n int
	update(t, s, func(tx store.Tx) error {
		var err error
		n, err = tx.DeleteExpiredConsoleSessions(ctx, at(25*time.Minute), at(time.Hour))
		return err
	})
	if n != 1 {
		t.Errorf("DeleteExpiredConsoleSessions deleted %d, want 1 (the one at its lifetime)", n)
	}
	_, err = get(account.TokenHash)
	wantIs(t, "the session past its lifetime", err, store.ErrNotFound)
	// Idle since 30m, so gone once idleBefore passes it; fresh stays.
	update(t, s, func(tx store.Tx) error {
		var err error
		n, err = tx.DeleteExpiredConsoleSessions(ctx, at(30*time.Minute+time.Microsecond), at(time.Hour))
		return err
	})
	if n != 1 {
		t.Errorf("DeleteExpiredConsoleSessions deleted %d, want 1 (the idle one)", n)
	}
	if _, err := get(fresh.TokenHash); err != nil {
		t.Errorf("the fresh session: %v", err)
	}

	update(t, s, func(tx store.Tx) error { return tx.DeleteConsoleSession(ctx, fresh.TokenHash) })
	_, err = get(fresh.TokenHash)
	wantIs(t, "a deleted session", err, store.ErrNotFound)
	err = s.Update(ctx, func(tx store.Tx) error { return tx.DeleteConsoleSession(ctx, fresh.TokenHash) })
	wantIs(t, "DeleteConsoleSession twice", err, store.ErrNotFound)
}
