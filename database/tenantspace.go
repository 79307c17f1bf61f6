package database

import (
	"context"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

const (
	getTenantSpaceQuery = `SELECT tenant_id, room_id FROM tenant_space WHERE tenant_id = $1`
	putTenantSpaceQuery = `INSERT INTO tenant_space (tenant_id, room_id) VALUES ($1, $2) ON CONFLICT (tenant_id) DO NOTHING`
)

// TenantSpace is a tenant's space, which groups its staff rooms.
type TenantSpace struct {
	TenantID string
	RoomID   id.RoomID
}

func (s *TenantSpace) Scan(row dbutil.Scannable) (*TenantSpace, error) {
	return dbutil.ValueOrErr(s, row.Scan(&s.TenantID, &s.RoomID))
}

// Room is the space's room, or "" when the tenant has none (s is nil), so that
// callers which skip an unset room need no separate check.
func (s *TenantSpace) Room() id.RoomID {
	if s == nil {
		return ""
	}
	return s.RoomID
}

// TenantSpaceQuery keeps each tenant's space.
type TenantSpaceQuery struct {
	*dbutil.QueryHelper[*TenantSpace]
}

func newTenantSpaceQuery(db *dbutil.Database) *TenantSpaceQuery {
	return &TenantSpaceQuery{dbutil.MakeQueryHelper(db, func(*dbutil.QueryHelper[*TenantSpace]) *TenantSpace { return &TenantSpace{} })}
}

// Get returns the tenant's space, or nil.
func (q *TenantSpaceQuery) Get(ctx context.Context, tenantID string) (*TenantSpace, error) {
	return noRow(q.QueryOne(ctx, getTenantSpaceQuery, tenantID))
}

// Put records the tenant's space; the first one recorded stays.
func (q *TenantSpaceQuery) Put(ctx context.Context, s *TenantSpace) error {
	return q.Exec(ctx, putTenantSpaceQuery, s.TenantID, s.RoomID)
}
