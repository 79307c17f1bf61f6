package database

import (
	"context"
	"database/sql"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

const (
	conversationColumns = `id, tenant_id, room_id, status, opened_at, closed_at,
		offered_to, offered_at, agent_user_id, assigned_at, ghost_user_id, desk_room_id, side_room_id, priority, task`
	insertConversationQuery = `
		INSERT INTO conversation (tenant_id, room_id, status, opened_at, ghost_user_id, desk_room_id, side_room_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`
	openConversationQuery    = `SELECT ` + conversationColumns + ` FROM conversation WHERE room_id = $1 AND status <> 'closed'`
	getConversationQuery     = `SELECT ` + conversationColumns + ` FROM conversation WHERE id = $1`
	byStaffRoomQuery         = `SELECT ` + conversationColumns + ` FROM conversation WHERE desk_room_id = $1 OR side_room_id = $1`
	waitingQuery             = `SELECT ` + conversationColumns + ` FROM conversation WHERE tenant_id = $1 AND status = 'new' ORDER BY priority DESC, opened_at, id`
	openOfTenantQuery        = `SELECT ` + conversationColumns + ` FROM conversation WHERE tenant_id = $1 AND status <> 'closed' ORDER BY opened_at, id`
	offeredToQuery           = `SELECT ` + conversationColumns + ` FROM conversation WHERE tenant_id = $1 AND offered_to = $2 AND status = 'offered' ORDER BY offered_at LIMIT 1`
	unofferQuery             = `UPDATE conversation SET status = 'new', offered_to = NULL, offered_at = NULL WHERE id = $1 AND status = 'offered' AND offered_to = $2`
	assignConversationQuery  = `UPDATE conversation SET status = 'assigned', agent_user_id = $2, assigned_at = $3, offered_to = NULL WHERE id = $1 AND status <> 'closed'`
	requeueConversationQuery = `UPDATE conversation SET status = 'new', agent_user_id = NULL, offered_to = NULL, offered_at = NULL WHERE id = $1 AND status <> 'closed'`
	closeConversationQuery   = `UPDATE conversation SET status = 'closed', closed_at = $2, offered_to = NULL WHERE id = $1 AND status <> 'closed'`
	countConversationQuery   = `SELECT COUNT(*) FROM conversation WHERE room_id = $1`
	openOffersQuery          = `SELECT offered_to, id FROM conversation WHERE tenant_id = $1 AND status = 'offered'`
	setTaskQuery             = `UPDATE conversation SET task = $2, priority = $3 WHERE id = $1`
)

// ConversationStatus is where a conversation stands.
type ConversationStatus string

const (
	// StatusNew: waiting for an agent.
	StatusNew ConversationStatus = "new"
	// StatusOffered: an agent was asked to take it and has not answered yet.
	StatusOffered ConversationStatus = "offered"
	// StatusAssigned: an agent serves it.
	StatusAssigned ConversationStatus = "assigned"
	StatusClosed   ConversationStatus = "closed"
)

// Conversation is one contact in a customer room, from its start to its end.
type Conversation struct {
	ID         int64
	TenantID   string
	RoomID     id.RoomID
	Status     ConversationStatus
	OpenedAt   time.Time
	ClosedAt   time.Time
	OfferedTo  id.UserID
	OfferedAt  time.Time
	Agent      id.UserID
	AssignedAt time.Time
	// Ghost stands for the customer in the desk room.
	Ghost    id.UserID
	DeskRoom id.RoomID
	SideRoom id.RoomID
	// Priority orders the queue (higher first), from the workflow's rules.
	Priority int
	// Task is the routing attributes as JSON (what consent allows routing to use).
	Task string
}

func (c *Conversation) Scan(row dbutil.Scannable) (*Conversation, error) {
	var opened int64
	var closed, offeredAt, assignedAt sql.NullInt64
	var offeredTo, agent, ghost, desk, side sql.NullString
	err := row.Scan(&c.ID, &c.TenantID, &c.RoomID, &c.Status, &opened, &closed,
		&offeredTo, &offeredAt, &agent, &assignedAt, &ghost, &desk, &side, &c.Priority, &c.Task)
	if err != nil {
		return nil, err
	}
	c.OpenedAt = time.UnixMilli(opened)
	c.ClosedAt = optionalTime(closed)
	c.OfferedAt = optionalTime(offeredAt)
	c.AssignedAt = optionalTime(assignedAt)
	c.OfferedTo, c.Agent, c.Ghost = id.UserID(offeredTo.String), id.UserID(agent.String), id.UserID(ghost.String)
	c.DeskRoom, c.SideRoom = id.RoomID(desk.String), id.RoomID(side.String)
	return c, nil
}

func optionalTime(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMilli(v.Int64)
}

type ConversationQuery struct {
	*dbutil.QueryHelper[*Conversation]
}

func newConversationQuery(db *dbutil.Database) *ConversationQuery {
	return &ConversationQuery{dbutil.MakeQueryHelper(db, func(*dbutil.QueryHelper[*Conversation]) *Conversation { return &Conversation{} })}
}

// Open returns the room's open conversation, or nil.
func (q *ConversationQuery) Open(ctx context.Context, roomID id.RoomID) (*Conversation, error) {
	return noRow(q.QueryOne(ctx, openConversationQuery, roomID))
}

// Get returns a conversation by its ID, or nil.
func (q *ConversationQuery) Get(ctx context.Context, convID int64) (*Conversation, error) {
	return noRow(q.QueryOne(ctx, getConversationQuery, convID))
}

// ByStaffRoom returns the conversation whose desk or side room this is, or nil.
func (q *ConversationQuery) ByStaffRoom(ctx context.Context, roomID id.RoomID) (*Conversation, error) {
	return noRow(q.QueryOne(ctx, byStaffRoomQuery, roomID))
}

// NewConversation is what a conversation starts with.
type NewConversation struct {
	TenantID string
	RoomID   id.RoomID
	Ghost    id.UserID
	DeskRoom id.RoomID
	SideRoom id.RoomID
}

// Start opens a new conversation in a customer room, waiting for an agent.
func (q *ConversationQuery) Start(ctx context.Context, n NewConversation, now time.Time) (*Conversation, error) {
	c := &Conversation{TenantID: n.TenantID, RoomID: n.RoomID, Status: StatusNew, OpenedAt: now,
		Ghost: n.Ghost, DeskRoom: n.DeskRoom, SideRoom: n.SideRoom}
	err := q.GetDB().QueryRow(ctx, insertConversationQuery, n.TenantID, n.RoomID, c.Status, now.UnixMilli(),
		nullString(n.Ghost), nullString(n.DeskRoom), nullString(n.SideRoom)).Scan(&c.ID)
	return c, err
}

// Waiting lists the tenant's conversations waiting for an agent, oldest first.
func (q *ConversationQuery) Waiting(ctx context.Context, tenantID string) ([]*Conversation, error) {
	return q.QueryMany(ctx, waitingQuery, tenantID)
}

// OpenOfTenant lists the tenant's open conversations, oldest first.
func (q *ConversationQuery) OpenOfTenant(ctx context.Context, tenantID string) ([]*Conversation, error) {
	return q.QueryMany(ctx, openOfTenantQuery, tenantID)
}

// OfferedTo returns the oldest conversation waiting for the agent's answer, or nil.
func (q *ConversationQuery) OfferedTo(ctx context.Context, tenantID string, agent id.UserID) (*Conversation, error) {
	return noRow(q.QueryOne(ctx, offeredToQuery, tenantID, agent))
}

// OpenOffers maps each agent of a tenant holding an unanswered offer to its
// conversation (claims give an agent one offer at a time).
func (q *ConversationQuery) OpenOffers(ctx context.Context, tenantID string) (map[id.UserID]int64, error) {
	rows, err := q.GetDB().Query(ctx, openOffersQuery, tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	offers := map[id.UserID]int64{}
	for rows.Next() {
		var agent id.UserID
		var convID int64
		if err = rows.Scan(&agent, &convID); err != nil {
			return nil, err
		}
		offers[agent] = convID
	}
	return offers, rows.Err()
}

// Unoffer puts a conversation offered to agent back to waiting (they declined); false
// if it is not offered to them any more (it lapsed and went to someone else).
func (q *ConversationQuery) Unoffer(ctx context.Context, convID int64, agent id.UserID) (bool, error) {
	return q.update(ctx, unofferQuery, convID, agent)
}

// Assign records the agent who serves the conversation.
func (q *ConversationQuery) Assign(ctx context.Context, convID int64, agent id.UserID, now time.Time) (bool, error) {
	return q.update(ctx, assignConversationQuery, convID, agent, now.UnixMilli())
}

// Requeue puts an open conversation back to waiting for an agent.
func (q *ConversationQuery) Requeue(ctx context.Context, convID int64) (bool, error) {
	return q.update(ctx, requeueConversationQuery, convID)
}

// Close ends a conversation; closing a closed one does nothing and reports false.
func (q *ConversationQuery) Close(ctx context.Context, convID int64, now time.Time) (bool, error) {
	return q.update(ctx, closeConversationQuery, convID, now.UnixMilli())
}

func (q *ConversationQuery) update(ctx context.Context, query string, args ...any) (bool, error) {
	res, err := q.GetDB().Exec(ctx, query, args...)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// CountInRoom counts every conversation a customer room has had.
func (q *ConversationQuery) CountInRoom(ctx context.Context, roomID id.RoomID) (n int, err error) {
	err = q.GetDB().QueryRow(ctx, countConversationQuery, roomID).Scan(&n)
	return
}

// collectCounts counts rows of one user ID column per user.
func collectCounts(rows dbutil.Rows, err error) (map[id.UserID]int, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	counts := map[id.UserID]int{}
	for rows.Next() {
		var userID id.UserID
		if err = rows.Scan(&userID); err != nil {
			return nil, err
		}
		counts[userID]++
	}
	return counts, rows.Err()
}

// nullString stores an empty ID as NULL, which unique indexes do not compare.
func nullString[T ~string](v T) any {
	if v == "" {
		return nil
	}
	return string(v)
}

// SetTask records the conversation's routing attributes and priority.
func (q *ConversationQuery) SetTask(ctx context.Context, convID int64, task string, priority int) error {
	return q.Exec(ctx, setTaskQuery, convID, task, priority)
}
