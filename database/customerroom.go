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
	// The room with its open conversation, if any: a handler of the customer's event
	// needs both, and one statement is one round trip. The conversation's columns are
	// those of conversationColumns, with zero values where there is none.
	getCustomerRoomWithOpenQuery = `
		SELECT ` + customerRoomWithOpenColumns + `
		FROM customer_room r LEFT JOIN conversation c ON c.room_id = r.room_id AND c.status <> 'closed'
		WHERE r.room_id = $1`
	// customerRoomWithOpenColumns are a customer room's and its open conversation's
	// columns (scanWithOpen), none of them NULL when the room is missing.
	customerRoomWithOpenColumns = `COALESCE(r.room_id, ''), COALESCE(r.tenant_id, ''), COALESCE(r.customer_mxid, ''),
			COALESCE(r.joined_at, 0), r.left_at,
			COALESCE(c.id, 0), COALESCE(c.tenant_id, ''), COALESCE(c.room_id, ''), COALESCE(c.status, ''),
			COALESCE(c.opened_at, 0), c.closed_at, c.offered_to, c.offered_at, c.agent_user_id, c.assigned_at,
			c.ghost_user_id, c.desk_room_id, c.side_room_id, COALESCE(c.priority, 0), COALESCE(c.task, ''),
			COALESCE(r.customer_mxid, '')`
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
	// OpenRead tells that the room was read with its open conversation (GetWithOpen):
	// Open is that conversation, nil when there is none.
	OpenRead bool
	Open     *Conversation
}

func (r *CustomerRoom) Scan(row dbutil.Scannable) (*CustomerRoom, error) {
	return r.scanWith(row)
}

// scanWith scans the room's columns followed by more.
func (r *CustomerRoom) scanWith(row dbutil.Scannable, more ...any) (*CustomerRoom, error) {
	var joined int64
	var left sql.NullInt64
	dest := append([]any{&r.RoomID, &r.TenantID, &r.Customer, &joined, &left}, more...)
	if err := row.Scan(dest...); err != nil {
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

// GetWithOpen returns the customer room with its open conversation (OpenRead set), or
// nil if the room is not one.
func (q *CustomerRoomQuery) GetWithOpen(ctx context.Context, roomID id.RoomID) (*CustomerRoom, error) {
	return noRow(scanWithOpen(q.GetDB().QueryRow(ctx, getCustomerRoomWithOpenQuery, roomID)))
}

// scanWithOpen scans customerRoomWithOpenColumns, after more (the columns before
// them); the room is nil when the row had none.
func scanWithOpen(row dbutil.Scannable, more ...any) (*CustomerRoom, error) {
	room := &CustomerRoom{OpenRead: true}
	conv, err := (&Conversation{}).Scan(scanFunc(func(convDest ...any) error {
		_, err := room.scanWith(scanFunc(func(roomDest ...any) error {
			return row.Scan(append(more, roomDest...)...)
		}), convDest...)
		return err
	}))
	if err != nil {
		return nil, err
	}
	if room.RoomID == "" {
		return nil, nil
	}
	if conv.ID != 0 {
		room.Open = conv
	}
	return room, nil
}

// scanFunc is a dbutil.Scannable made of a function: it lets one row fill two records.
type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// MarkLeft records that the service's time in the room ended (the customer left, or
// it refused the room); the first time counts.
func (q *CustomerRoomQuery) MarkLeft(ctx context.Context, roomID id.RoomID, at time.Time) error {
	return q.Exec(ctx, markCustomerLeftQuery, roomID, at.UnixMilli())
}
