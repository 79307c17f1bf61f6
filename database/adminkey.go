package database

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"go.mau.fi/util/dbutil"
)

const (
	adminKeyColumns     = `key_hash, scope, tenant_id, label, source, created_at, revoked_at`
	activeAdminKeyQuery = `SELECT ` + adminKeyColumns + ` FROM admin_api_key WHERE revoked_at IS NULL ORDER BY key_hash`
	getAdminKeyQuery    = `SELECT ` + adminKeyColumns + ` FROM admin_api_key WHERE key_hash = $1`
	// A key revoked stays revoked: adding it again does not bring it back.
	addAdminKeyQuery = `
		INSERT INTO admin_api_key (` + adminKeyColumns + `) VALUES ($1, $2, $3, $4, $5, $6, NULL)
		ON CONFLICT (key_hash) DO NOTHING`
	revokeAdminKeyQuery   = `UPDATE admin_api_key SET revoked_at = $2 WHERE key_hash = $1 AND revoked_at IS NULL`
	configAdminKeysQuery  = `SELECT ` + adminKeyColumns + ` FROM admin_api_key WHERE source = 'config' AND revoked_at IS NULL`
	adminKeyVersionQuery  = `SELECT COUNT(*), COALESCE(MAX(created_at), 0), COALESCE(MAX(revoked_at), 0) FROM admin_api_key`
	adminKeySourceConfig  = "config"
	adminKeyScopeTenant   = "tenant"
	adminKeyScopeProvider = "provider"
)

// Scopes of admin API keys.
const (
	ScopeTenant   = adminKeyScopeTenant
	ScopeProvider = adminKeyScopeProvider
)

// AdminKey is an admin API key as stored: its SHA-256 ("sha256:<hex>"), never the key.
type AdminKey struct {
	Hash string
	// Scope is ScopeTenant (TenantID names the tenant) or ScopeProvider (TenantID "").
	Scope     string
	TenantID  string
	Label     string
	Source    string
	CreatedAt time.Time
	RevokedAt time.Time
}

func (k *AdminKey) Scan(row dbutil.Scannable) (*AdminKey, error) {
	var created int64
	var revoked sql.NullInt64
	if err := row.Scan(&k.Hash, &k.Scope, &k.TenantID, &k.Label, &k.Source, &created, &revoked); err != nil {
		return nil, err
	}
	k.CreatedAt, k.RevokedAt = time.UnixMilli(created), optionalTime(revoked)
	return k, nil
}

// AdminKeyQuery keeps the admin API's keys.
type AdminKeyQuery struct {
	*dbutil.QueryHelper[*AdminKey]
}

func newAdminKeyQuery(db *dbutil.Database) *AdminKeyQuery {
	return &AdminKeyQuery{dbutil.MakeQueryHelper(db, func(*dbutil.QueryHelper[*AdminKey]) *AdminKey { return &AdminKey{} })}
}

// Active lists the keys not revoked.
func (q *AdminKeyQuery) Active(ctx context.Context) ([]*AdminKey, error) {
	return q.QueryMany(ctx, activeAdminKeyQuery)
}

// Get returns a key by its hash, revoked or not, or nil.
func (q *AdminKeyQuery) Get(ctx context.Context, hash string) (*AdminKey, error) {
	return noRow(q.QueryOne(ctx, getAdminKeyQuery, hash))
}

// Add stores a key unless its hash is known already (also when revoked).
func (q *AdminKeyQuery) Add(ctx context.Context, k *AdminKey) error {
	return q.Exec(ctx, addAdminKeyQuery, k.Hash, k.Scope, k.TenantID, k.Label, k.Source, k.CreatedAt.UnixMilli())
}

// Revoke ends a key.
func (q *AdminKeyQuery) Revoke(ctx context.Context, hash string, at time.Time) error {
	return q.Exec(ctx, revokeAdminKeyQuery, hash, at.UnixMilli())
}

// Version changes whenever a key is added or revoked, so a replica caching the keys
// knows when to read them again.
func (q *AdminKeyQuery) Version(ctx context.Context) (string, error) {
	var n, created, revoked int64
	if err := q.GetDB().QueryRow(ctx, adminKeyVersionQuery).Scan(&n, &created, &revoked); err != nil {
		return "", err
	}
	return fmt.Sprintf("%d.%d.%d", n, created, revoked), nil
}

// SyncConfig makes the keys the config lists the config's keys: new ones are added,
// and config keys no longer listed are revoked (keys of other sources stay). keys
// maps each hash to its key as it should be stored.
func (q *AdminKeyQuery) SyncConfig(ctx context.Context, keys map[string]*AdminKey, now time.Time) error {
	return q.GetDB().DoTxn(ctx, nil, func(ctx context.Context) error {
		current, err := q.QueryMany(ctx, configAdminKeysQuery)
		if err != nil {
			return err
		}
		for _, k := range current {
			want, ok := keys[k.Hash]
			if !ok || want.Scope != k.Scope || want.TenantID != k.TenantID {
				if err = q.Revoke(ctx, k.Hash, now); err != nil {
					return err
				}
			}
		}
		for hash, k := range keys {
			stored := *k
			stored.Hash, stored.Source, stored.CreatedAt = hash, adminKeySourceConfig, now
			if err = q.Add(ctx, &stored); err != nil {
				return err
			}
		}
		return nil
	})
}
