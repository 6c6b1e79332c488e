package app

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/atlasx509/atlasx509/internal/store"
	"github.com/atlasx509/atlasx509/internal/testkit"
)

// TestRekey re-seals every kind of sealed value of a store that served
// under a new master key, skips them the second time, and leaves a store
// that the new key alone opens; a value sealed meanwhile with the old key
// is reported as still needing it.
func TestRekey(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	f := newSealedFixture(t)
	oldKr, newKr := f.app.keyring, testkit.Keyring(t)
	ring, err := newKr.WithOld(oldKr)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, n := range allOpened {
		total += n
	}
	for i, want := range []int{total, 0} {
		r, err := Rekey(ctx, f.store, ring)
		if err != nil {
			t.Fatal(err)
		}
		if r.Resealed != want || len(r.After.Old) != 0 || len(r.After.Failures) != 0 {
			t.Errorf("Rekey #%d: resealed %d, want %d; still old %v; failures %v", i+1, r.Resealed, want, r.After.Old, r.After.Failures)
		}
	}
	r, err := CheckSealed(ctx, f.store, newKr)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(allOpened, r.Opened); d != "" || len(r.Failures) != 0 || len(r.Old) != 0 {
		t.Errorf("new key alone: opened (-want +got):\n%s\nfailures %v, old %v", d, r.Failures, r.Old)
	}
	missing, err := MissingKeys(ctx, f.store, oldKr)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string]int{newKr.ID(): total}, missing); d != "" {
		t.Errorf("MissingKeys of the old key alone (-want +got):\n%s", d)
	}

	// A replica still sealing with the old key adds an alert configuration.
	late := f.webhookConfig(t, "0000000000000000000000a2", f.boot.ProjectID) // sealed by f.app: the old key
	if err := f.store.Update(ctx, func(tx store.Tx) error { return tx.InsertAlertConfig(ctx, late) }); err != nil {
		t.Fatal(err)
	}
	r, err = CheckSealed(ctx, f.store, ring)
	if err != nil {
		t.Fatal(err)
	}
	want := []SealedOld{{Kind: SealedWebhookSecret, ID: late.ID + "/1", KeyID: oldKr.ID()}}
	if d := cmp.Diff(want, r.Old); d != "" || len(r.Failures) != 0 {
		t.Errorf("a value sealed with the old key: old (-want +got):\n%s\nfailures %v", d, r.Failures)
	}

	// A malformed value names no key: not counted as missing one.
	if err := f.store.Update(ctx, func(tx store.Tx) error { return tx.UpdateSetting(ctx, settingTokenKey, []byte{1, 2}) }); err != nil {
		t.Fatal(err)
	}
	if missing, err = MissingKeys(ctx, f.store, ring); err != nil || len(missing) != 0 {
		t.Errorf("MissingKeys with a malformed value = %v, %v; want none", missing, err)
	}
}
