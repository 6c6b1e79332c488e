package app

import (
	"sync"

	"github.com/atlasx509/atlasx509/internal/store"
)

// Issuance states seen by committed issuances.
//
// An issuance checks what it depends on twice: before the key and the
// signature, so that a request that will be refused costs neither, and
// again in its write transaction, which alone decides (a change committed
// in between wins). The first check took a read transaction of its own on
// every request. issuanceCache keeps, per project and username, the state
// that the write transaction of the last issuance that committed read;
// the first check of the next issuance of that user applies the same checks
// (the caller's access included) to it instead of reading the store.
//
// Nothing is decided on a cached state: the write transaction reads the
// state again and refuses what has changed, and then the entry is dropped.
// A refusal is never answered from the cache: a cached state the checks
// refuse sends the request to the store, whose state decides. So the cache
// changes no answer; what it gives up is that the first issuance after a
// change that refuses it (a user deleted, its x509Type changed, the
// project's X.509 turned to customer-managed) costs a key and a signature
// that are thrown away. A CA rotation committed meanwhile makes the write
// transaction ask for a signature by the new generation, as without the
// cache.
type issuanceCache struct {
	mu sync.Mutex
	m  map[issuanceKey]store.IssuanceState
}

type issuanceKey struct{ groupID, username string }

// maxCachedIssuanceStates bounds issuanceCache; when full it is emptied.
const maxCachedIssuanceStates = 4096

func (c *issuanceCache) get(groupID, username string) (store.IssuanceState, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, ok := c.m[issuanceKey{groupID, username}]
	return st, ok
}

func (c *issuanceCache) put(groupID, username string, st store.IssuanceState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedIssuanceStates {
		c.m = make(map[issuanceKey]store.IssuanceState)
	}
	c.m[issuanceKey{groupID, username}] = st
}

func (c *issuanceCache) drop(groupID, username string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, issuanceKey{groupID, username})
}

// dropProject drops the states of the project groupID: after a change of
// this server to what an issuance makes (the leaf key type), so that the
// next one does not make a key of the old type first. (The write
// transaction's check still decides, for the changes of other replicas.)
func (c *issuanceCache) dropProject(groupID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.m {
		if k.groupID == groupID {
			delete(c.m, k)
		}
	}
}
