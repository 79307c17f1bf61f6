package adminapi

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/contactcenter/contactcenter/contextapi"
	"github.com/contactcenter/contactcenter/database"
)

// principal is who a key speaks for.
type principal struct {
	scope  string // database.ScopeTenant or database.ScopeProvider
	tenant string
	label  string
}

// keyring holds the active keys, read from the database and read again when their
// version changed (at most every refreshEvery), so that a key added or revoked on
// one replica works or stops on all within seconds.
type keyring struct {
	db  *database.AdminKeyQuery
	now func() time.Time

	mu      sync.Mutex
	checked time.Time
	version string
	hashes  [][32]byte
	owners  []principal
}

const refreshEvery = 2 * time.Second

func (k *keyring) refresh(ctx context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.now()
	if !k.checked.IsZero() && now.Sub(k.checked) < refreshEvery {
		return nil
	}
	version, err := k.db.Version(ctx)
	if err != nil {
		return err
	}
	k.checked = now
	if version == k.version && k.hashes != nil {
		return nil
	}
	keys, err := k.db.Active(ctx)
	if err != nil {
		return err
	}
	hashes, owners := make([][32]byte, 0, len(keys)), make([]principal, 0, len(keys))
	for _, key := range keys {
		h, err := contextapi.ParseKeyHash(key.Hash)
		if err != nil {
			continue // never written by SyncConfig, which takes validated hashes
		}
		hashes = append(hashes, h)
		owners = append(owners, principal{scope: key.Scope, tenant: key.TenantID, label: key.Label})
	}
	k.version, k.hashes, k.owners = version, hashes, owners
	return nil
}

// lookup compares the key's hash with every active hash in constant time, without
// stopping at a match: the time tells nothing of which key (or whether any) matched.
func (k *keyring) lookup(key string) (principal, bool) {
	presented := contextapi.HashKey(key)
	k.mu.Lock()
	hashes, owners := k.hashes, k.owners
	k.mu.Unlock()
	match := -1
	for i := range hashes {
		eq := subtle.ConstantTimeCompare(presented[:], hashes[i][:])
		match = subtle.ConstantTimeSelect(eq, i, match)
	}
	if match < 0 {
		return principal{}, false
	}
	return owners[match], true
}

// bearerKey reads "Authorization: Bearer <key>".
func bearerKey(r *http.Request) (string, bool) {
	scheme, key, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	key = strings.TrimSpace(key)
	return key, ok && strings.EqualFold(scheme, "Bearer") && key != ""
}
