package database

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/routing"
)

const (
	staffColumns        = `tenant_id, user_id, control_room_id, status, status_changed_at`
	getStaffQuery       = `SELECT ` + staffColumns + ` FROM staff WHERE tenant_id = $1 AND user_id = $2`
	staffByControlQuery = `SELECT ` + staffColumns + ` FROM staff WHERE control_room_id = $1`
	staffOfTenantQuery  = `SELECT ` + staffColumns + ` FROM staff WHERE tenant_id = $1 ORDER BY user_id`
	setControlRoomQuery = `
		INSERT INTO staff (tenant_id, user_id, control_room_id) VALUES ($1, $2, $3)
		ON CONFLICT (tenant_id, user_id) DO UPDATE SET control_room_id = excluded.control_room_id`
	setStatusQuery = `
		INSERT INTO staff (tenant_id, user_id, status, status_changed_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (tenant_id, user_id) DO UPDATE SET status = excluded.status, status_changed_at = excluded.status_changed_at`
)

// StaffMember is what the service keeps about one agent or supervisor of a tenant.
type StaffMember struct {
	TenantID        string
	UserID          id.UserID
	ControlRoomID   id.RoomID
	Status          routing.Status
	StatusChangedAt time.Time
}

func (s *StaffMember) Scan(row dbutil.Scannable) (*StaffMember, error) {
	var room sql.NullString
	var changed int64
	if err := row.Scan(&s.TenantID, &s.UserID, &room, &s.Status, &changed); err != nil {
		return nil, err
	}
	s.ControlRoomID = id.RoomID(room.String)
	s.StatusChangedAt = time.UnixMilli(changed)
	return s, nil
}

type StaffQuery struct {
	*dbutil.QueryHelper[*StaffMember]
}

func newStaffQuery(db *dbutil.Database) *StaffQuery {
	return &StaffQuery{dbutil.MakeQueryHelper(db, func(*dbutil.QueryHelper[*StaffMember]) *StaffMember { return &StaffMember{} })}
}

// Get returns a staff member's record, or nil if the service never saw them.
func (q *StaffQuery) Get(ctx context.Context, tenantID string, userID id.UserID) (*StaffMember, error) {
	return noRow(q.QueryOne(ctx, getStaffQuery, tenantID, userID))
}

// ByControlRoom returns the staff member whose control room this is, or nil.
func (q *StaffQuery) ByControlRoom(ctx context.Context, roomID id.RoomID) (*StaffMember, error) {
	return noRow(q.QueryOne(ctx, staffByControlQuery, roomID))
}

// OfTenant lists the tenant's staff records.
func (q *StaffQuery) OfTenant(ctx context.Context, tenantID string) ([]*StaffMember, error) {
	return q.QueryMany(ctx, staffOfTenantQuery, tenantID)
}

// SetControlRoom records a staff member's control room.
func (q *StaffQuery) SetControlRoom(ctx context.Context, tenantID string, userID id.UserID, roomID id.RoomID) error {
	return q.Exec(ctx, setControlRoomQuery, tenantID, userID, roomID)
}

// SetStatus records a staff member's availability.
func (q *StaffQuery) SetStatus(ctx context.Context, tenantID string, userID id.UserID, status routing.Status, at time.Time) error {
	return q.Exec(ctx, setStatusQuery, tenantID, userID, status, at.UnixMilli())
}

// noRow turns "no row" into a nil result.
func noRow[T any](val *T, err error) (*T, error) {
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return val, err
}
