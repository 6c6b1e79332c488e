package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/atlasx509/atlasx509/internal/keyring"
	"github.com/atlasx509/atlasx509/internal/store"
)

// RekeyReport is what Rekey did and what remains.
type RekeyReport struct {
	// Resealed counts the values that Rekey re-sealed under the sealing key.
	Resealed int
	// After is CheckSealed's report once Rekey is done: its Old lists the
	// values that still need an old key (sealed meanwhile by a replica that
	// seals with an old key), its Failures those that no key opens.
	After SealedReport
}

// Rekey re-seals, under kr's sealing key, every sealed value of st that
// names another key (one of kr's old keys), then checks every value again.
// Each value's row is re-read and re-sealed in its own small Update, so
// Rekey runs beside serving replicas, can be interrupted and run again, and
// skips what is already sealed by the sealing key. A value that does not
// open is left as it is (and reported in After.Failures); the secrets a
// value holds never change, so caches of opened values stay right.
func Rekey(ctx context.Context, st store.Store, kr *keyring.Keyring) (RekeyReport, error) {
	var todo []sealedValue
	err := st.View(ctx, func(tx store.Tx) error {
		todo = todo[:0]
		visit := func(v sealedValue) {
			if !kr.Current(v.sealed) && v.reseal != nil {
				todo = append(todo, v)
			}
		}
		for _, walk := range sealedWalks {
			if err := walk(ctx, tx, visit); err != nil {
				return fmt.Errorf("rekey: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return RekeyReport{}, err
	}
	var r RekeyReport
	for _, v := range todo {
		var n int
		err := st.Update(ctx, func(tx store.Tx) error {
			var err error
			n, err = v.reseal(ctx, tx, kr)
			return err
		})
		if errors.Is(err, keyring.ErrWrongKey) || errors.Is(err, keyring.ErrCorrupt) {
			continue // reported by the check below
		}
		if err != nil {
			return r, fmt.Errorf("rekey %s %s: %w", v.kind, v.id, err)
		}
		r.Resealed += n
	}
	r.After, err = CheckSealed(ctx, st, kr)
	return r, err
}

// reseal opens sealed with kr and seals the secret again under kr's sealing
// key, with the same additional data.
func reseal(kr *keyring.Keyring, sealed, aad []byte) ([]byte, error) {
	p, err := kr.Open(sealed, aad)
	if err != nil {
		return nil, err
	}
	defer clear(p)
	return kr.Seal(p, aad)
}

func resealSetting(ctx context.Context, tx store.Tx, kr *keyring.Keyring, name string) (int, error) {
	sealed, err := tx.GetSetting(ctx, name)
	if errors.Is(err, store.ErrNotFound) || err == nil && kr.Current(sealed) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if sealed, err = reseal(kr, sealed, []byte("setting|"+name)); err != nil {
		return 0, err
	}
	return 1, tx.UpdateSetting(ctx, name, sealed)
}

func resealCAKey(ctx context.Context, tx store.Tx, kr *keyring.Keyring, groupID string, gen int) (int, error) {
	cas, err := tx.ListProjectCAs(ctx, groupID)
	if err != nil {
		return 0, err
	}
	for _, ca := range cas {
		if ca.Generation != gen || kr.Current(ca.SealedKey) {
			continue
		}
		sealed, err := reseal(kr, ca.SealedKey, caAAD(groupID, gen))
		if err != nil {
			return 0, err
		}
		return 1, tx.UpdateProjectCASealedKey(ctx, groupID, gen, sealed)
	}
	return 0, nil // gone with its project, or already re-sealed
}

func resealAPIKey(ctx context.Context, tx store.Tx, kr *keyring.Keyring, id string) (int, error) {
	k, err := tx.GetAPIKey(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil // deleted meanwhile
	}
	if err != nil {
		return 0, err
	}
	n := 0
	for _, s := range []struct {
		alg    string
		sealed *[]byte
	}{{"MD5", &k.SealedHA1MD5}, {"SHA-256", &k.SealedHA1SHA256}} {
		if kr.Current(*s.sealed) {
			continue
		}
		if *s.sealed, err = reseal(kr, *s.sealed, apiKeyAAD(id, s.alg)); err != nil {
			return 0, err
		}
		n++
	}
	if n == 0 {
		return 0, nil
	}
	return n, tx.UpdateAPIKeySealedHA1(ctx, id, k.SealedHA1MD5, k.SealedHA1SHA256)
}

func resealAlertConfig(ctx context.Context, tx store.Tx, kr *keyring.Keyring, groupID, id string) (int, error) {
	c, err := tx.GetAlertConfig(ctx, groupID, id)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil // deleted meanwhile
	}
	if err != nil {
		return 0, err
	}
	n := 0
	for i, nt := range c.Notifications {
		if len(nt.SealedWebhookSecret) == 0 || kr.Current(nt.SealedWebhookSecret) {
			continue
		}
		if c.Notifications[i].SealedWebhookSecret, err = reseal(kr, nt.SealedWebhookSecret, webhookSecretAAD(groupID)); err != nil {
			return 0, err
		}
		n++
	}
	if n == 0 {
		return 0, nil
	}
	return n, tx.UpdateAlertConfig(ctx, c)
}

func resealOutboxMessage(ctx context.Context, tx store.Tx, kr *keyring.Keyring, alertID, id string) (int, error) {
	msgs, err := tx.ListOutboxMessages(ctx, alertID)
	if err != nil {
		return 0, err
	}
	for _, m := range msgs {
		if m.ID != id || len(m.SealedSecret) == 0 || kr.Current(m.SealedSecret) {
			continue
		}
		sealed, err := reseal(kr, m.SealedSecret, webhookSecretAAD(m.GroupID))
		if err != nil {
			return 0, err
		}
		return 1, tx.UpdateOutboxMessageSealedSecret(ctx, id, sealed)
	}
	return 0, nil // purged meanwhile, or already re-sealed
}

// MissingKeys returns, by key id, how many sealed values of st name a
// master key that kr lacks: values that cannot open until that key is
// configured. It only reads the key ids, so it is quick enough for startup.
// Malformed values, which name no key, are not counted.
func MissingKeys(ctx context.Context, st store.Store, kr *keyring.Keyring) (map[string]int, error) {
	missing := map[string]int{}
	err := st.View(ctx, func(tx store.Tx) error {
		clear(missing)
		visit := func(v sealedValue) {
			// A malformed value names no key: check reports it, and it
			// fails alone rather than stopping the server.
			if id := keyring.SealedID(v.sealed); id != "" && !kr.Names(v.sealed) {
				missing[id]++
			}
		}
		for _, walk := range sealedWalks {
			if err := walk(ctx, tx, visit); err != nil {
				return fmt.Errorf("read sealed values: %w", err)
			}
		}
		return nil
	})
	return missing, err
}
