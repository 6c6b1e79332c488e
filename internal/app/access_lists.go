package app

import (
	"context"
	"errors"
	"net/netip"
	"strings"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/authz"
	"github.com/atlasx509/atlasx509/internal/store"
)

// Credential names an API key (by its id) or a service account (by its
// client id) of an organization, whose access list a use case reads or
// changes.
type Credential struct {
	OrgID string
	Kind  atlasx509.PrincipalKind
	ID    string
}

// AccessListInput is one entry to add to an access list: an address or a
// network in CIDR notation, not both. A nil field was absent.
type AccessListInput struct {
	IPAddress *string
	CIDRBlock *string
}

// maxAccessListAdd bounds the entries one request may add, as Atlas's spec
// bounds the body of the service account route.
const maxAccessListAdd = 200

// ListAccessList returns a credential's access list, oldest first (Atlas
// listApiKeyAccessListsEntries, listServiceAccountAccessList).
func (a *App) ListAccessList(ctx context.Context, p atlasx509.Principal, c Credential) ([]atlasx509.AccessListEntry, error) {
	if err := a.FlushAccessListUse(ctx); err != nil {
		a.log.Warn("access list uses not written", "error", err) // the answer shows the last ones written
	}
	var entries []atlasx509.AccessListEntry
	err := a.store.View(ctx, func(tx store.Tx) error {
		if err := loadCredential(ctx, tx, p, c, authz.OrgCredentialRead); err != nil {
			return err
		}
		var err error
		entries, err = tx.ListAccessListEntries(ctx, c.ID)
		return err
	})
	return entries, userStoreError("list access list", err)
}

// GetAccessListEntry returns the entry of a credential's access list that
// address (an address or a CIDR block) names (Atlas getApiKeyAccessList).
func (a *App) GetAccessListEntry(ctx context.Context, p atlasx509.Principal, c Credential, address string) (atlasx509.AccessListEntry, error) {
	if err := a.FlushAccessListUse(ctx); err != nil {
		a.log.Warn("access list uses not written", "error", err) // the answer shows the last ones written
	}
	var found atlasx509.AccessListEntry
	err := a.store.View(ctx, func(tx store.Tx) error {
		if err := loadCredential(ctx, tx, p, c, authz.OrgCredentialRead); err != nil {
			return err
		}
		prefix, err := accessAddress(address)
		if err != nil {
			return err
		}
		entries, err := tx.ListAccessListEntries(ctx, c.ID)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if e.CIDR == prefix.String() {
				found = e
				return nil
			}
		}
		return entryNotFound(c, address)
	})
	return found, userStoreError("get access list entry", err)
}

// AddAccessList adds entries to a credential's access list and returns the
// whole list (Atlas createApiKeyAccessList, createServiceAccountAccessList).
// Addresses and networks are stored in canonical CIDR form, so 192.0.2.7
// and 192.0.2.7/32 are one entry; a network's host bits are cleared. Once
// the list has an entry, the credential is refused from other addresses on
// its next request.
func (a *App) AddAccessList(ctx context.Context, p atlasx509.Principal, c Credential, in []AccessListInput) ([]atlasx509.AccessListEntry, error) {
	// The caller's right comes before the body.
	err := a.store.View(ctx, func(tx store.Tx) error { return loadCredential(ctx, tx, p, c, authz.OrgCredentialWrite) })
	if err != nil {
		return nil, err
	}
	if len(in) > maxAccessListAdd {
		return nil, errValidation("at most 200 access list entries may be added at once")
	}
	now := a.now().UTC()
	var add []atlasx509.AccessListEntry
	for _, e := range in {
		prefix, err := accessListPrefix(e)
		if err != nil {
			return nil, err
		}
		for _, prev := range add {
			if prev.CIDR == prefix.String() {
				return nil, errDuplicateAddressesInInput()
			}
		}
		add = append(add, atlasx509.AccessListEntry{PrincipalID: c.ID, CIDR: prefix.String(), Created: now})
	}
	var entries []atlasx509.AccessListEntry
	err = a.store.Update(ctx, func(tx store.Tx) error {
		if err := loadCredential(ctx, tx, p, c, authz.OrgCredentialWrite); err != nil {
			return err
		}
		for _, e := range add {
			err := tx.InsertAccessListEntry(ctx, e)
			if errors.Is(err, store.ErrConflict) {
				return errAddressAlreadyInWhitelist(e.CIDR)
			}
			if err != nil {
				return err
			}
			if err := a.recordAccessEvent(ctx, tx, p, c, true, e.CIDR); err != nil {
				return err
			}
		}
		var err error
		entries, err = tx.ListAccessListEntries(ctx, c.ID)
		return err
	})
	return entries, userStoreError("add to access list", err)
}

// DeleteAccessListEntry removes the entry that address names from a
// credential's access list (Atlas deleteApiKeyAccessListEntry,
// deleteServiceAccountAccessListEntry). As in Atlas, a credential cannot
// remove the entry it is calling from (caller).
func (a *App) DeleteAccessListEntry(ctx context.Context, p atlasx509.Principal, c Credential, address string, caller netip.Addr) error {
	err := a.store.Update(ctx, func(tx store.Tx) error {
		if err := loadCredential(ctx, tx, p, c, authz.OrgCredentialWrite); err != nil {
			return err
		}
		prefix, err := accessAddress(address)
		if err != nil {
			return err
		}
		if p.ID == c.ID && caller.IsValid() && prefix.Contains(caller.Unmap()) {
			return errCannotRemoveCaller(caller.Unmap().String())
		}
		err = tx.DeleteAccessListEntry(ctx, c.ID, prefix.String())
		if errors.Is(err, store.ErrNotFound) {
			return entryNotFound(c, address)
		}
		if err != nil {
			return err
		}
		return a.recordAccessEvent(ctx, tx, p, c, false, prefix.String())
	})
	return userStoreError("delete access list entry", err)
}

func entryNotFound(c Credential, address string) error {
	if c.Kind == atlasx509.PrincipalServiceAccount {
		return errServiceAccountEntryNotFound(address, c.ID)
	}
	return errAPIKeyEntryNotFound(address, c.ID)
}

// accessListPrefix reads one entry of a request body.
func accessListPrefix(e AccessListInput) (netip.Prefix, error) {
	switch {
	case e.IPAddress != nil && e.CIDRBlock != nil:
		return netip.Prefix{}, errBadWhitelistAddRequest()
	case e.IPAddress != nil:
		return accessAddress(*e.IPAddress)
	case e.CIDRBlock != nil:
		p, ok := parseAccessPrefix(*e.CIDRBlock)
		if !ok || !strings.ContainsAny(*e.CIDRBlock, "/%") {
			return netip.Prefix{}, errInvalidCIDRBlock(*e.CIDRBlock)
		}
		return p, nil
	default:
		return netip.Prefix{}, errMissingOneOf("ipAddress", "cidrBlock")
	}
}

// accessAddress reads an address or a CIDR block, as the ipAddress
// attribute and path parameter take them.
func accessAddress(s string) (netip.Prefix, error) {
	p, ok := parseAccessPrefix(s)
	if !ok {
		return netip.Prefix{}, errInvalidAddress(s)
	}
	return p, nil
}

// parseAccessPrefix parses "192.0.2.7", "192.0.2.0/24", "192.0.2.0%2F24",
// "2001:db8::/48" into a canonical prefix: host bits cleared, IPv4-mapped
// IPv6 written as IPv4, a single address as /32 or /128. Zones are refused.
func parseAccessPrefix(s string) (netip.Prefix, bool) {
	s = strings.Replace(strings.Replace(s, "%2F", "/", 1), "%2f", "/", 1)
	if !strings.Contains(s, "/") {
		addr, err := netip.ParseAddr(s)
		if err != nil || addr.Zone() != "" {
			return netip.Prefix{}, false
		}
		addr = addr.Unmap()
		return netip.PrefixFrom(addr, addr.BitLen()), true
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, false
	}
	if p.Addr().Is4In6() {
		if p.Bits() < 96 {
			return netip.Prefix{}, false
		}
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p.Masked(), true
}

// recordAccessEvent records an entry added to (added) or deleted from the
// access list of c. whitelistEntry is the address of a one-address entry,
// as Atlas records it ("192.168.0.7"), the CIDR of a network.
func (a *App) recordAccessEvent(ctx context.Context, tx store.Tx, p atlasx509.Principal, c Credential, added bool, cidr string) error {
	entry := cidr
	if prefix, err := netip.ParsePrefix(cidr); err == nil && prefix.IsSingleIP() {
		entry = prefix.Addr().String()
	}
	var ev atlasx509.Event
	if c.Kind == atlasx509.PrincipalServiceAccount {
		sa, err := tx.GetServiceAccount(ctx, c.ID)
		if err != nil {
			return err
		}
		typ := serviceAccounts.events.accessDeleted
		if added {
			typ = serviceAccounts.events.accessAdded
		}
		ev = serviceAccounts.event(p, typ, sa, c.OrgID, "")
	} else {
		k, err := tx.GetAPIKey(ctx, c.ID)
		if err != nil {
			return err
		}
		typ := apiKeys.events.accessDeleted
		if added {
			typ = apiKeys.events.accessAdded
		}
		ev = apiKeys.event(p, typ, k, c.OrgID, "")
	}
	ev.WhitelistEntry = entry
	return a.recordEvent(ctx, tx, ev)
}
