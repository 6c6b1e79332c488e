package app

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/atlasx509/atlasx509/internal/keyring"
	"github.com/atlasx509/atlasx509/internal/pki"
	"github.com/atlasx509/atlasx509/internal/store"
)

// Kinds of sealed values, as CheckSealed names them.
const (
	SealedSetting = "setting"     // a server-wide secret; id: the setting's name
	SealedCAKey   = "ca-key"      // a project CA's private key; id: "<groupId>/<generation>"
	SealedAPIKey  = "api-key-ha1" // an API key's Digest HA1; id: "<apiKeyId>/<algorithm>"
	// SealedWebhookSecret is the secret of a WEBHOOK notification of an
	// alert configuration; id: "<alertConfigId>/<notification index>".
	SealedWebhookSecret = "webhook-secret"
	// SealedOutboxSecret is the webhook secret a queued (or sent)
	// notification carries; id: the message's id.
	SealedOutboxSecret = "outbox-secret"
)

// SealedKinds lists every kind, in the order CheckSealed walks them.
var SealedKinds = []string{SealedSetting, SealedCAKey, SealedAPIKey, SealedWebhookSecret, SealedOutboxSecret}

// SealedFailure is a sealed value that did not open, or opened to something
// unusable. It never holds the secret.
type SealedFailure struct {
	Kind string
	ID   string
	Err  error
}

func (f SealedFailure) String() string { return f.Kind + " " + f.ID + ": " + f.Err.Error() }

// SealedOld is a sealed value that opens only with an old master key: it
// needs re-sealing (atlasx509 rekey) before that key is dropped.
type SealedOld struct {
	Kind, ID string
	// KeyID is the id of the old key that the value names.
	KeyID string
}

func (o SealedOld) String() string {
	return o.Kind + " " + o.ID + ": sealed with old master key " + o.KeyID
}

// SealedReport is what CheckSealed found.
type SealedReport struct {
	// Opened counts the values that opened, by kind, those in Old included.
	Opened map[string]int
	// Old lists the values that opened with an old key, in walk order.
	Old []SealedOld
	// Failures lists the values that did not open, in walk order.
	Failures []SealedFailure
}

// sealedValue is one value a walk found: where it lives, the value and the
// additional data it was sealed with, and, when set, a test of what it
// opens to.
type sealedValue struct {
	kind, id string
	sealed   []byte
	aad      []byte
	verify   func(plaintext []byte) error
	// reseal re-seals the value's row under the sealing key in tx (see
	// Rekey), and returns how many values it re-sealed.
	reseal func(ctx context.Context, tx store.Tx, kr *keyring.Keyring) (int, error)
}

// sealedWalks lists every kind of sealed value the store holds. A new
// sealed column adds its walk here, with the additional data its sealing
// code uses, so that check (and a future re-seal) find it.
var sealedWalks = []func(ctx context.Context, tx store.Tx, visit func(sealedValue)) error{
	walkSealedSettings,
	walkSealedCAKeys,
	walkSealedAPIKeys,
	walkSealedWebhookSecrets,
	walkSealedOutboxSecrets,
}

// walkPage is how many rows a walk reads at a time.
const walkPage = 500

func walkSealedSettings(ctx context.Context, tx store.Tx, visit func(sealedValue)) error {
	for _, name := range []string{settingNonceKey, settingTokenKey} {
		sealed, err := tx.GetSetting(ctx, name)
		if errors.Is(err, store.ErrNotFound) {
			continue // an empty store: created on first start
		}
		if err != nil {
			return err
		}
		visit(sealedValue{kind: SealedSetting, id: name, sealed: sealed, aad: []byte("setting|" + name),
			reseal: func(ctx context.Context, tx store.Tx, kr *keyring.Keyring) (int, error) {
				return resealSetting(ctx, tx, kr, name)
			},
			verify: func(p []byte) error {
				if len(p) != serverSecretBytes {
					return fmt.Errorf("opened to %d bytes, want %d", len(p), serverSecretBytes)
				}
				return nil
			}})
	}
	return nil
}

func walkSealedCAKeys(ctx context.Context, tx store.Tx, visit func(sealedValue)) error {
	for offset := 0; ; offset += walkPage {
		cas, err := tx.ListAllProjectCAs(ctx, store.Page{Limit: walkPage, Offset: offset})
		if err != nil {
			return err
		}
		for _, ca := range cas {
			visit(sealedValue{kind: SealedCAKey, id: ca.GroupID + "/" + strconv.Itoa(ca.Generation),
				sealed: ca.SealedKey, aad: caAAD(ca.GroupID, ca.Generation),
				reseal: func(ctx context.Context, tx store.Tx, kr *keyring.Keyring) (int, error) {
					return resealCAKey(ctx, tx, kr, ca.GroupID, ca.Generation)
				},
				verify: func(keyDER []byte) error {
					// The key must be the one of the CA certificate it sits beside.
					_, err := pki.ParseCA(ca.CertDER, keyDER)
					return err
				}})
		}
		if len(cas) < walkPage {
			return nil
		}
	}
}

func walkSealedAPIKeys(ctx context.Context, tx store.Tx, visit func(sealedValue)) error {
	for offset := 0; ; offset += walkPage {
		keys, err := tx.ListAllAPIKeys(ctx, store.Page{Limit: walkPage, Offset: offset})
		if err != nil {
			return err
		}
		for _, k := range keys {
			for _, s := range []struct {
				alg    string
				sealed []byte
			}{{"MD5", k.SealedHA1MD5}, {"SHA-256", k.SealedHA1SHA256}} {
				visit(sealedValue{kind: SealedAPIKey, id: k.ID + "/" + s.alg, sealed: s.sealed, aad: apiKeyAAD(k.ID, s.alg),
					reseal: func(ctx context.Context, tx store.Tx, kr *keyring.Keyring) (int, error) {
						return resealAPIKey(ctx, tx, kr, k.ID)
					}})
			}
		}
		if len(keys) < walkPage {
			return nil
		}
	}
}

func walkSealedWebhookSecrets(ctx context.Context, tx store.Tx, visit func(sealedValue)) error {
	for offset := 0; ; offset += walkPage {
		configs, err := tx.ListAlertConfigs(ctx, "", store.Page{Limit: walkPage, Offset: offset})
		if err != nil {
			return err
		}
		for _, c := range configs {
			for i, n := range c.Notifications {
				if len(n.SealedWebhookSecret) == 0 {
					continue
				}
				visit(sealedValue{kind: SealedWebhookSecret, id: c.ID + "/" + strconv.Itoa(i),
					sealed: n.SealedWebhookSecret, aad: webhookSecretAAD(c.GroupID),
					reseal: func(ctx context.Context, tx store.Tx, kr *keyring.Keyring) (int, error) {
						return resealAlertConfig(ctx, tx, kr, c.GroupID, c.ID)
					}})
			}
		}
		if len(configs) < walkPage {
			return nil
		}
	}
}

func walkSealedOutboxSecrets(ctx context.Context, tx store.Tx, visit func(sealedValue)) error {
	for offset := 0; ; offset += walkPage {
		msgs, err := tx.ListAllOutboxMessages(ctx, store.Page{Limit: walkPage, Offset: offset})
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if len(m.SealedSecret) > 0 {
				visit(sealedValue{kind: SealedOutboxSecret, id: m.ID, sealed: m.SealedSecret, aad: webhookSecretAAD(m.GroupID),
					reseal: func(ctx context.Context, tx store.Tx, kr *keyring.Keyring) (int, error) {
						return resealOutboxMessage(ctx, tx, kr, m.AlertID, m.ID)
					}})
			}
		}
		if len(msgs) < walkPage {
			return nil
		}
	}
}

// CheckSealed opens every sealed value of st with kr, in one read
// transaction, and reports those that do not open (sealed under another
// master key, altered, or bound to another row) or open to something
// unusable. Its error is a failure to read the store, not a failed value.
// It needs no App: an App cannot be built when the server secrets do not
// open.
func CheckSealed(ctx context.Context, st store.Store, kr *keyring.Keyring) (SealedReport, error) {
	var r SealedReport
	err := st.View(ctx, func(tx store.Tx) error {
		r = SealedReport{Opened: make(map[string]int)}
		visit := func(v sealedValue) {
			p, err := kr.Open(v.sealed, v.aad)
			if err == nil && v.verify != nil {
				err = v.verify(p)
			}
			clear(p)
			if err != nil {
				r.Failures = append(r.Failures, SealedFailure{Kind: v.kind, ID: v.id, Err: err})
				return
			}
			r.Opened[v.kind]++
			if !kr.Current(v.sealed) {
				r.Old = append(r.Old, SealedOld{Kind: v.kind, ID: v.id, KeyID: keyring.SealedID(v.sealed)})
			}
		}
		for _, walk := range sealedWalks {
			if err := walk(ctx, tx, visit); err != nil {
				return fmt.Errorf("check sealed values: %w", err)
			}
		}
		return nil
	})
	return r, err
}
