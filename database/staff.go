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
	staffColumns        = `tenant_id, user_id, control_room_id, status, status_changed_at, removed_at`
	getStaffQuery       = `SELECT ` + staffColumns + ` FROM staff WHERE tenant_id = $1 AND user_id = $2`
	staffByControlQuery = `SELECT ` + staffColumns + ` FROM staff WHERE control_room_id = $1`
	staffOfTenantQuery  = `SELECT ` + staffColumns + ` FROM staff WHERE tenant_id = $1 ORDER BY user_id`
	setControlRoomQuery = `
		INSERT INTO staff (tenant_id, user_id, control_room_id) VALUES ($1, $2, $3)
		ON CONFLICT (tenant_id, user_id) DO UPDATE SET control_room_id = excluded.control_room_id`
	setStatusQuery = `
		INSERT INTO staff (tenant_id, user_id, status, status_changed_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (tenant_id, user_id) DO UPDATE SET status = excluded.status, status_changed_at = excluded.status_changed_at`
	markStaffRemovedQuery = `
		UPDATE staff SET removed_at = $3, status = 'offline', status_changed_at = $3
		WHERE tenant_id = $1 AND user_id = $2 AND removed_at IS NULL`
	restoreStaffQuery = `UPDATE staff SET removed_at = NULL WHERE tenant_id = $1 AND user_id = $2 AND removed_at = $3`
	// Offers in a row an agent let lapse (see Withdraw).
	missedQuery      = `SELECT missed_offers FROM staff WHERE tenant_id = $1 AND user_id = $2`
	insertStaffQuery = `INSERT INTO staff (tenant_id, user_id) VALUES ($1, $2) ON CONFLICT (tenant_id, user_id) DO NOTHING`
	missQuery        = `UPDATE staff SET missed_offers = missed_offers + 1 WHERE tenant_id = $1 AND user_id = $2`
	resetMissedQuery = `UPDATE staff SET missed_offers = 0 WHERE tenant_id = $1 AND user_id = $2`
)

// StaffMember is what the service keeps about one agent or supervisor of a tenant.
type StaffMember struct {
	TenantID        string
	UserID          id.UserID
	ControlRoomID   id.RoomID
	Status          routing.Status
	StatusChangedAt time.Time
	// RemovedAt is when the service took them out of their rooms because the config
	// no longer lists them (zero: on the staff, or not taken out yet).
	RemovedAt time.Time
}

func (s *StaffMember) Scan(row dbutil.Scannable) (*StaffMember, error) {
	var room sql.NullString
	var changed int64
	var removed sql.NullInt64
	if err := row.Scan(&s.TenantID, &s.UserID, &room, &s.Status, &changed, &removed); err != nil {
		return nil, err
	}
	s.ControlRoomID = id.RoomID(room.String)
	s.StatusChangedAt = time.UnixMilli(changed)
	s.RemovedAt = optionalTime(removed)
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

// MarkRemoved records that a staff member is taken out of their rooms, and sets them
// offline; false if that was already recorded (by this start, an earlier one or
// another replica), so that it is done once.
func (q *StaffQuery) MarkRemoved(ctx context.Context, tenantID string, userID id.UserID, at time.Time) (bool, error) {
	return changed(ctx, q.GetDB(), markStaffRemovedQuery, tenantID, userID, at.UnixMilli())
}

// Restore clears the removal recorded at removedAt (they are on the staff again);
// false if someone else cleared it first.
func (q *StaffQuery) Restore(ctx context.Context, tenantID string, userID id.UserID, removedAt time.Time) (bool, error) {
	return changed(ctx, q.GetDB(), restoreStaffQuery, tenantID, userID, removedAt.UnixMilli())
}

// Missed counts the offers in a row the agent let time out.
func (q *StaffQuery) Missed(ctx context.Context, tenantID string, agent id.UserID) (missed int, err error) {
	err = q.GetDB().QueryRow(ctx, missedQuery, tenantID, agent).Scan(&missed)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return missed, err
}

// ResetMissed starts the agent's count of missed offers again (they are back at work).
func (q *StaffQuery) ResetMissed(ctx context.Context, tenantID string, agent id.UserID) error {
	return q.Exec(ctx, resetMissedQuery, tenantID, agent)
}

// noRow turns "no row" into a nil result.
func noRow[T any](val *T, err error) (*T, error) {
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return val, err
}
