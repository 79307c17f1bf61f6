package database

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

const (
	upsertCustomerRoomQuery = `
		INSERT INTO customer_room (room_id, tenant_id, customer_mxid, joined_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (room_id) DO UPDATE SET left_at = NULL
		WHERE customer_room.tenant_id = excluded.tenant_id AND customer_room.customer_mxid = excluded.customer_mxid`
	getCustomerRoomQuery  = `SELECT room_id, tenant_id, customer_mxid, joined_at, left_at FROM customer_room WHERE room_id = $1`
	markCustomerLeftQuery = `UPDATE customer_room SET left_at = $2 WHERE room_id = $1 AND left_at IS NULL`
)

// ErrRoomTaken: the room is recorded for another tenant or another customer. A
// customer room serves one customer and one business for good: its history, its
// consent records and its conversations belong to them.
var ErrRoomTaken = errors.New("the room belongs to another tenant or customer")

// CustomerRoom is the DM between one customer and one tenant's business identity.
type CustomerRoom struct {
	RoomID   id.RoomID
	TenantID string
	Customer id.UserID
	JoinedAt time.Time
	LeftAt   time.Time
}

func (r *CustomerRoom) Scan(row dbutil.Scannable) (*CustomerRoom, error) {
	var joined int64
	var left sql.NullInt64
	if err := row.Scan(&r.RoomID, &r.TenantID, &r.Customer, &joined, &left); err != nil {
		return nil, err
	}
	r.JoinedAt = time.UnixMilli(joined)
	if left.Valid {
		r.LeftAt = time.UnixMilli(left.Int64)
	}
	return r, nil
}

// Serves tells whether the room is the DM between this tenant and this customer.
func (r *CustomerRoom) Serves(tenantID string, customer id.UserID) bool {
	return r.TenantID == tenantID && r.Customer == customer
}

type CustomerRoomQuery struct {
	*dbutil.QueryHelper[*CustomerRoom]
}

func newCustomerRoomQuery(db *dbutil.Database) *CustomerRoomQuery {
	return &CustomerRoomQuery{dbutil.MakeQueryHelper(db, func(*dbutil.QueryHelper[*CustomerRoom]) *CustomerRoom { return &CustomerRoom{} })}
}

// Put records a customer room, or reopens one the same customer had left with the
// same tenant; a room recorded for anyone else gives ErrRoomTaken and stays as it was.
func (q *CustomerRoomQuery) Put(ctx context.Context, r *CustomerRoom) error {
	if put, err := changed(ctx, q.GetDB(), upsertCustomerRoomQuery, r.RoomID, r.TenantID, r.Customer, r.JoinedAt.UnixMilli()); err != nil {
		return err
	} else if !put {
		return ErrRoomTaken
	}
	return nil
}

// Get returns the customer room, or nil if the room is not one.
func (q *CustomerRoomQuery) Get(ctx context.Context, roomID id.RoomID) (*CustomerRoom, error) {
	return noRow(q.QueryOne(ctx, getCustomerRoomQuery, roomID))
}

// MarkLeft records that the service's time in the room ended (the customer left, or
// it refused the room); the first time counts.
func (q *CustomerRoomQuery) MarkLeft(ctx context.Context, roomID id.RoomID, at time.Time) error {
	return q.Exec(ctx, markCustomerLeftQuery, roomID, at.UnixMilli())
}
