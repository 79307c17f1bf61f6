package database

import (
	"context"
	"database/sql"
	"errors"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

const (
	getTenantSpaceQuery = `SELECT room_id FROM tenant_space WHERE tenant_id = $1`
	putTenantSpaceQuery = `INSERT INTO tenant_space (tenant_id, room_id) VALUES ($1, $2) ON CONFLICT (tenant_id) DO NOTHING`
)

// TenantSpaceQuery keeps each tenant's space, which groups its staff rooms.
type TenantSpaceQuery struct {
	db *dbutil.Database
}

// Get returns the tenant's space, or "".
func (q *TenantSpaceQuery) Get(ctx context.Context, tenantID string) (id.RoomID, error) {
	var roomID id.RoomID
	err := q.db.QueryRow(ctx, getTenantSpaceQuery, tenantID).Scan(&roomID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return roomID, err
}

// Put records the tenant's space; the first one recorded stays.
func (q *TenantSpaceQuery) Put(ctx context.Context, tenantID string, roomID id.RoomID) error {
	_, err := q.db.Exec(ctx, putTenantSpaceQuery, tenantID, roomID)
	return err
}
