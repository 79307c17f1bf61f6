package database

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

// The reads of conversations; their status changes are in conversationstate.go.
const (
	// The customer comes from the customer room (a conversation row does not repeat
	// it); a subquery rather than a join, so that row locks taken with these columns
	// lock the conversation alone.
	conversationColumns = `id, tenant_id, room_id, status, opened_at, closed_at,
		offered_to, offered_at, agent_user_id, assigned_at, ghost_user_id, desk_room_id, side_room_id, priority, task,
		(SELECT r.customer_mxid FROM customer_room r WHERE r.room_id = conversation.room_id)`
	selectConversations   = `SELECT ` + conversationColumns + ` FROM conversation`
	openConversationQuery = selectConversations + ` WHERE room_id = $1 AND status <> 'closed'`
	getConversationQuery  = selectConversations + ` WHERE id = $1`
	byStaffRoomQuery      = selectConversations + ` WHERE desk_room_id = $1 OR side_room_id = $1`
	// The queue's order: priority (higher first), then age.
	waitingQuery      = selectConversations + ` WHERE tenant_id = $1 AND status = 'new' ORDER BY priority DESC, opened_at, id`
	claimableQuery    = waitingQuery + ` LIMIT $2`
	openOfTenantQuery = selectConversations + ` WHERE tenant_id = $1 AND status <> 'closed' ORDER BY opened_at, id`
	offeredToQuery    = selectConversations + ` WHERE tenant_id = $1 AND offered_to = $2 AND status = 'offered' ORDER BY offered_at LIMIT 1`
	expiredQuery      = selectConversations + ` WHERE status = 'offered' AND offered_at < $1 ORDER BY offered_at, id`
	openOffersQuery   = `SELECT offered_to, id FROM conversation WHERE tenant_id = $1 AND status = 'offered'`
	countInRoomQuery  = `SELECT COUNT(*) FROM conversation WHERE room_id = $1`
	setTaskQuery      = `UPDATE conversation SET task = $2, priority = $3 WHERE id = $1`
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
	// Customer is the customer of the conversation's room (read from customer_room).
	Customer id.UserID
}

func (c *Conversation) Scan(row dbutil.Scannable) (*Conversation, error) {
	var opened int64
	var closed, offeredAt, assignedAt sql.NullInt64
	var offeredTo, agent, ghost, desk, side, customer sql.NullString
	err := row.Scan(&c.ID, &c.TenantID, &c.RoomID, &c.Status, &opened, &closed,
		&offeredTo, &offeredAt, &agent, &assignedAt, &ghost, &desk, &side, &c.Priority, &c.Task, &customer)
	if err != nil {
		return nil, err
	}
	c.OpenedAt = time.UnixMilli(opened)
	c.ClosedAt = optionalTime(closed)
	c.OfferedAt = optionalTime(offeredAt)
	c.AssignedAt = optionalTime(assignedAt)
	c.OfferedTo, c.Agent, c.Ghost = id.UserID(offeredTo.String), id.UserID(agent.String), id.UserID(ghost.String)
	c.DeskRoom, c.SideRoom = id.RoomID(desk.String), id.RoomID(side.String)
	c.Customer = id.UserID(customer.String)
	return c, nil
}

func optionalTime(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMilli(v.Int64)
}

// ConversationQuery reads conversations and changes their status (see
// conversationstate.go). Each status change is one transaction, or part of the
// caller's when ctx carries one.
type ConversationQuery struct {
	*dbutil.QueryHelper[*Conversation]
	// Row locks of the claims, empty on SQLite.
	skipLocked, noWait string
	// log gets the entries of the state changes (nil: none are logged).
	log *ContactLogQuery
}

func newConversationQuery(db *dbutil.Database) *ConversationQuery {
	q := &ConversationQuery{QueryHelper: dbutil.MakeQueryHelper(db, func(*dbutil.QueryHelper[*Conversation]) *Conversation { return &Conversation{} })}
	if db.Dialect == dbutil.Postgres {
		// NOWAIT: an agent another claim holds is lost at once (see lockTaken), never
		// waited for, so two transactions claiming agents in different orders cannot
		// deadlock.
		q.skipLocked, q.noWait = " FOR UPDATE SKIP LOCKED", " FOR UPDATE NOWAIT"
	}
	return q
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

// Waiting lists the tenant's conversations waiting for an agent, in queue order:
// priority (higher first), then age. A plain read, which sees the conversations
// other transactions are claiming too.
func (q *ConversationQuery) Waiting(ctx context.Context, tenantID string) ([]*Conversation, error) {
	return q.QueryMany(ctx, waitingQuery, tenantID)
}

// Claimable lists up to limit of the tenant's waiting conversations in queue order.
// On PostgreSQL it skips conversations another transaction is claiming and locks the
// ones it returns until the caller's transaction ends, so replicas walking the queue
// at once take different ones. Outside a transaction the locks end with the query.
func (q *ConversationQuery) Claimable(ctx context.Context, tenantID string, limit int) ([]*Conversation, error) {
	if limit < 1 {
		return nil, fmt.Errorf("waiting conversations of %q: limit %d must be positive", tenantID, limit)
	}
	return q.QueryMany(ctx, claimableQuery+q.skipLocked, tenantID, limit)
}

// OpenOfTenant lists the tenant's open conversations, oldest first.
func (q *ConversationQuery) OpenOfTenant(ctx context.Context, tenantID string) ([]*Conversation, error) {
	return q.QueryMany(ctx, openOfTenantQuery, tenantID)
}

// OfferedTo returns the oldest conversation waiting for the agent's answer, or nil.
func (q *ConversationQuery) OfferedTo(ctx context.Context, tenantID string, agent id.UserID) (*Conversation, error) {
	return noRow(q.QueryOne(ctx, offeredToQuery, tenantID, agent))
}

// Expired lists the offers, of every tenant, made before offeredBefore and still
// unanswered, oldest first.
func (q *ConversationQuery) Expired(ctx context.Context, offeredBefore time.Time) ([]*Conversation, error) {
	return q.QueryMany(ctx, expiredQuery, offeredBefore.UnixMilli())
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

// CountInRoom counts every conversation a customer room has had.
func (q *ConversationQuery) CountInRoom(ctx context.Context, roomID id.RoomID) (n int, err error) {
	err = q.GetDB().QueryRow(ctx, countInRoomQuery, roomID).Scan(&n)
	return
}

// SetTask records the conversation's routing attributes and priority.
func (q *ConversationQuery) SetTask(ctx context.Context, convID int64, task string, priority int) error {
	return q.Exec(ctx, setTaskQuery, convID, task, priority)
}

// nullString stores an empty ID as NULL, which unique indexes do not compare.
func nullString[T ~string](v T) any {
	if v == "" {
		return nil
	}
	return string(v)
}

// changed runs a write and tells whether it changed a row: the conditional writes
// of the status changes and of staff records are how a lost race shows.
func changed(ctx context.Context, db *dbutil.Database, query string, args ...any) (bool, error) {
	res, err := db.Exec(ctx, query, args...)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}
