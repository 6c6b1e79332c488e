package main

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/atlasx509/atlasx509/internal/app"
	"github.com/atlasx509/atlasx509/internal/pki"
)

// Scenario kinds.
const (
	kindLowLoad = "lowload" // paced certificate requests, pool warm
	kindCerts   = "certs"   // saturated certificate requests
	kindList    = "list"    // saturated GET …/databaseUsers
)

// Authentication schemes.
const (
	authBearer = "bearer"
	authDigest = "digest"
	authNone   = "none" // the peer's: no authentication
)

// peerCfssl is the peer of -peers.
const peerCfssl = "cfssl"

// peersScenarios is the default -scenarios of a run with -peers: ECDSA
// P-256 issuance by both servers at 4 and 16 clients, and Digest at 4.
const peersScenarios = `^(cfssl-p256-c4|ecdsa-p256-c4|cfssl-p256-c16|ecdsa-p256-c16|ecdsa-p256-c4-digest)$`

// scenario is one measured load.
type scenario struct {
	Name    string
	Kind    string
	KeyType pki.KeyType // of the leaves; "" for kindList
	Clients int
	Auth    string
	// Peer names the other issuer the scenario measures ("" for
	// atlasx509): peerCfssl runs only with -peers.
	Peer string
	// Rep is the repetition (1…-reps).
	Rep int
	// row orders the results table; the run order differs (see plan).
	row int
}

// allScenarios lists the scenarios in run order. The low-load one comes
// first, on a warm pool; the ECDSA ones next, while an RSA pool is full and
// its workers idle; the saturated RSA ones last, since they drain the RSA
// pool and leave its workers busy refilling.
func allScenarios() []scenario {
	return []scenario{
		{Name: "rsa4096-lowload", Kind: kindLowLoad, KeyType: pki.RSA4096, Clients: 1, Auth: authBearer, row: 0},
		{Name: "ecdsa-p256-c1", Kind: kindCerts, KeyType: pki.ECDSAP256, Clients: 1, Auth: authBearer, row: 4},
		{Name: "cfssl-p256-c4", Kind: kindCerts, KeyType: pki.ECDSAP256, Clients: 4, Auth: authNone, Peer: peerCfssl, row: 5},
		{Name: "ecdsa-p256-c4", Kind: kindCerts, KeyType: pki.ECDSAP256, Clients: 4, Auth: authBearer, row: 5},
		{Name: "cfssl-p256-c16", Kind: kindCerts, KeyType: pki.ECDSAP256, Clients: 16, Auth: authNone, Peer: peerCfssl, row: 6},
		{Name: "ecdsa-p256-c16", Kind: kindCerts, KeyType: pki.ECDSAP256, Clients: 16, Auth: authBearer, row: 6},
		{Name: "ecdsa-p256-c4-digest", Kind: kindCerts, KeyType: pki.ECDSAP256, Clients: 4, Auth: authDigest, row: 7},
		{Name: "list-users-c4", Kind: kindList, Clients: 4, Auth: authBearer, row: 8},
		{Name: "rsa4096-c1", Kind: kindCerts, KeyType: pki.RSA4096, Clients: 1, Auth: authBearer, row: 1},
		{Name: "rsa4096-c4", Kind: kindCerts, KeyType: pki.RSA4096, Clients: 4, Auth: authBearer, row: 2},
		{Name: "rsa4096-c16", Kind: kindCerts, KeyType: pki.RSA4096, Clients: 16, Auth: authBearer, row: 3},
	}
}

// plan is the scenarios of one run, in run order.
type plan []scenario

// plan returns the scenarios that -scenarios selects, -reps times over;
// the peer's only with -peers.
func (b *bench) plan() plan {
	var one plan
	for _, sc := range allScenarios() {
		if b.opts.scenarios.MatchString(sc.Name) {
			if sc.Kind == kindLowLoad && b.opts.lowLoadN == 0 || sc.Peer != "" && !b.opts.peers {
				continue
			}
			one = append(one, sc)
		}
	}
	var p plan
	for rep := 1; rep <= max(1, b.opts.reps); rep++ {
		for _, sc := range one {
			sc.Rep = rep
			p = append(p, sc)
		}
	}
	return p
}

// hasPeer reports whether the plan measures a peer.
func (p plan) hasPeer() bool {
	for _, sc := range p {
		if sc.Peer != "" {
			return true
		}
	}
	return false
}

// keyTypes returns the leaf key types the plan issues.
func (p plan) keyTypes() []pki.KeyType {
	var out []pki.KeyType
	for _, sc := range p {
		if sc.KeyType != "" && !slices.Contains(out, sc.KeyType) {
			out = append(out, sc.KeyType)
		}
	}
	return out
}

// atlasIssues reports whether the plan has atlasx509 issue leaves of kt.
func (p plan) atlasIssues(kt pki.KeyType) bool {
	for _, sc := range p {
		if sc.KeyType == kt && sc.Peer == "" {
			return true
		}
	}
	return false
}

// listUsers is how many users the project of the list scenario holds.
const listUsers = 20

// setup creates what the scenarios need: a user allocator per leaf key type
// (finding out whether the server lets a project choose ECDSA leaves) and
// the project of the list scenario.
func (b *bench) setup(ctx context.Context, p plan) error {
	b.allocs = make(map[pki.KeyType]*allocator)
	for _, kt := range p.keyTypes() {
		if !p.atlasIssues(kt) {
			continue
		}
		a := &allocator{api: b.api, keyType: kt}
		if kt == pki.DefaultKeyType {
			// The bootstrap project, on the server's default leaf type.
			a.group = b.api.boot.ProjectID
		} else if err := a.newProject(ctx); err != nil {
			b.ecdsaSkip = fmt.Sprintf("the server cannot issue %s leaves: %v", kt, err)
			b.logf("SKIPPING the %s scenarios: %s", kt, b.ecdsaSkip)
			continue
		}
		b.allocs[kt] = a
	}
	for _, sc := range p {
		if sc.Kind != kindList {
			continue
		}
		g, err := b.api.createProject(ctx, "bench-list")
		if err != nil {
			return err
		}
		for i := range listUsers {
			if err := b.api.createManagedUser(ctx, g, fmt.Sprintf("list-%02d", i)); err != nil {
				return err
			}
		}
		b.listGroup = g
		break
	}
	return nil
}

// slot is a user that can still be issued left certificates.
type slot struct {
	group, user string
	left        int
}

// perUser is how many certificates the benchmark issues to one user: a
// margin below the server's limit of unexpired certificates per user.
const perUser = app.MaxUnexpiredCerts - 10

// allocator hands out users of projects whose leaves are of one key type,
// creating users, and projects when one is full (app.MaxDatabaseUsers).
type allocator struct {
	api     *api
	keyType pki.KeyType

	mu       sync.Mutex
	group    string
	users    int // in group
	projects int
	seq      int
	free     []*slot
}

// newProject creates a project whose leaves are of a.keyType; a.mu is held
// or not needed.
func (a *allocator) newProject(ctx context.Context) error {
	a.projects++
	name := fmt.Sprintf("bench-%s-%d", strings.ToLower(string(a.keyType)), a.projects)
	g, err := a.api.createProject(ctx, name)
	if err != nil {
		return err
	}
	if err := a.api.setLeafKeyType(ctx, g, string(a.keyType)); err != nil {
		return err
	}
	a.group, a.users = g, 0
	return nil
}

// take returns a user with certificates left, creating one if none is free.
func (a *allocator) take(ctx context.Context) (*slot, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if n := len(a.free); n > 0 {
		s := a.free[n-1]
		a.free = a.free[:n-1]
		return s, nil
	}
	return a.createLocked(ctx)
}

// give returns a user taken earlier.
func (a *allocator) give(s *slot) {
	if s == nil || s.left <= 0 {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.free = append(a.free, s)
}

// reserve creates users until n are free, so that a scenario creates none
// while it is measured.
func (a *allocator) reserve(ctx context.Context, n int) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for len(a.free) < n {
		s, err := a.createLocked(ctx)
		if err != nil {
			return err
		}
		a.free = append(a.free, s)
	}
	return nil
}

func (a *allocator) createLocked(ctx context.Context) (*slot, error) {
	if a.group == "" || a.users >= app.MaxDatabaseUsers {
		if err := a.newProject(ctx); err != nil {
			return nil, err
		}
	}
	a.seq++
	user := fmt.Sprintf("%s-%05d", strings.ToLower(string(a.keyType)), a.seq)
	if err := a.api.createManagedUser(ctx, a.group, user); err != nil {
		return nil, err
	}
	a.users++
	return &slot{group: a.group, user: user, left: perUser}, nil
}

// usersFor estimates the users a saturated scenario needs: enough for the
// limit's rate over its whole run, plus one per client.
func usersFor(sc scenario, lim limit, run time.Duration, maxRequests int) int {
	expect := math.Min(lim.PerSecond*run.Seconds()*1.2, float64(maxRequests))
	return int(math.Ceil(expect/perUser)) + sc.Clients
}
