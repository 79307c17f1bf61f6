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
	insertConversationQuery = `
		INSERT INTO conversation (tenant_id, room_id, status, opened_at) VALUES ($1, $2, $3, $4) RETURNING id`
	conversationColumns    = `id, tenant_id, room_id, status, opened_at, closed_at`
	openConversationQuery  = `SELECT ` + conversationColumns + ` FROM conversation WHERE room_id = $1 AND status <> 'closed'`
	closeConversationQuery = `UPDATE conversation SET status = 'closed', closed_at = $2 WHERE id = $1 AND status <> 'closed'`
	countConversationQuery = `SELECT COUNT(*) FROM conversation WHERE room_id = $1`
)

// ConversationStatus is where a conversation stands.
type ConversationStatus string

const (
	// StatusNew: the customer was greeted; nobody is assigned yet.
	StatusNew    ConversationStatus = "new"
	StatusClosed ConversationStatus = "closed"
)

// Conversation is one contact in a customer room, from its start to its end.
type Conversation struct {
	ID       int64
	TenantID string
	RoomID   id.RoomID
	Status   ConversationStatus
	OpenedAt time.Time
	ClosedAt time.Time
}

func (c *Conversation) Scan(row dbutil.Scannable) (*Conversation, error) {
	var opened int64
	var closed sql.NullInt64
	if err := row.Scan(&c.ID, &c.TenantID, &c.RoomID, &c.Status, &opened, &closed); err != nil {
		return nil, err
	}
	c.OpenedAt = time.UnixMilli(opened)
	if closed.Valid {
		c.ClosedAt = time.UnixMilli(closed.Int64)
	}
	return c, nil
}

type ConversationQuery struct {
	db *dbutil.Database
}

// Open returns the room's open conversation, or nil.
func (q *ConversationQuery) Open(ctx context.Context, roomID id.RoomID) (*Conversation, error) {
	c, err := (&Conversation{}).Scan(q.db.QueryRow(ctx, openConversationQuery, roomID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return c, err
}

// Start opens a new conversation in a customer room.
func (q *ConversationQuery) Start(ctx context.Context, tenantID string, roomID id.RoomID, now time.Time) (*Conversation, error) {
	c := &Conversation{TenantID: tenantID, RoomID: roomID, Status: StatusNew, OpenedAt: now}
	err := q.db.QueryRow(ctx, insertConversationQuery, tenantID, roomID, c.Status, now.UnixMilli()).Scan(&c.ID)
	return c, err
}

// Close ends a conversation; closing a closed one does nothing.
func (q *ConversationQuery) Close(ctx context.Context, convID int64, now time.Time) error {
	_, err := q.db.Exec(ctx, closeConversationQuery, convID, now.UnixMilli())
	return err
}

// CountInRoom counts every conversation a customer room has had.
func (q *ConversationQuery) CountInRoom(ctx context.Context, roomID id.RoomID) (n int, err error) {
	err = q.db.QueryRow(ctx, countConversationQuery, roomID).Scan(&n)
	return
}
