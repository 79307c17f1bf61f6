package database

import (
	"context"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

// The reads and conditional writes the running service needs to carry outbound
// requests through (the API's own are in outbound.go).
const (
	unstartedOutboundQuery = `
		SELECT ` + outboundColumns + ` FROM outbound_request
		WHERE state = 'routing' AND conversation_id IS NULL ORDER BY id LIMIT $1`
	routingOutboundQuery = `
		SELECT ` + outboundColumns + ` FROM outbound_request
		WHERE tenant_id = $1 AND state = 'routing' AND conversation_id IS NOT NULL`
	// Requests an agent or the customer did not take up in time: past not_after, or
	// invited since before $2.
	lapsedOutboundQuery = `
		SELECT ` + outboundColumns + ` FROM outbound_request
		WHERE (state IN ('routing', 'invited') AND not_after IS NOT NULL AND not_after < $1)
			OR (state = 'invited' AND updated_at < $2)
		ORDER BY id LIMIT $3`
	outboundInRoomQuery = `
		SELECT ` + outboundColumns + ` FROM outbound_request WHERE room_id = $1 AND state IN ('routing', 'invited', 'joined')
		ORDER BY id DESC LIMIT 1`
	startOutboundQuery = `
		UPDATE outbound_request SET conversation_id = $2, room_id = $3, updated_at = $4
		WHERE id = $1 AND conversation_id IS NULL AND state = 'routing'`
	firstAttemptQuery = `UPDATE outbound_request SET attempts = attempts + 1, updated_at = $2 WHERE id = $1 AND attempts = 0`

	customerRoomsQuery = `
		SELECT room_id, tenant_id, customer_mxid, joined_at, left_at FROM customer_room
		WHERE tenant_id = $1 AND customer_mxid = $2 AND left_at IS NULL ORDER BY joined_at DESC, room_id`
	openOfCustomerQuery = selectConversations + `
		WHERE tenant_id = $1 AND status <> 'closed'
			AND room_id IN (SELECT room_id FROM customer_room WHERE tenant_id = $1 AND customer_mxid = $2)
		ORDER BY id LIMIT 1`
	tenantConversationsQuery = selectConversations + `
		WHERE tenant_id = $1 AND ($2 = '' OR ($2 = 'open' AND status <> 'closed') OR ($2 = 'closed' AND status = 'closed'))
			AND ($3 = 0 OR id < $3)
		ORDER BY id DESC LIMIT $4`
)

// Unstarted lists allowed requests that have no conversation yet, oldest first.
func (q *OutboundQuery) Unstarted(ctx context.Context, limit int) ([]*OutboundRequest, error) {
	return q.QueryMany(ctx, unstartedOutboundQuery, limit)
}

// Routing maps the tenant's conversations that are outbound requests waiting for an
// agent to their request.
func (q *OutboundQuery) Routing(ctx context.Context, tenantID string) (map[int64]*OutboundRequest, error) {
	list, err := q.QueryMany(ctx, routingOutboundQuery, tenantID)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]*OutboundRequest, len(list))
	for _, r := range list {
		out[r.ConversationID] = r
	}
	return out, nil
}

// Lapsed lists requests past their not_after while routing or invited, and those
// invited before invitedBefore, oldest first.
func (q *OutboundQuery) Lapsed(ctx context.Context, now, invitedBefore time.Time, limit int) ([]*OutboundRequest, error) {
	return q.QueryMany(ctx, lapsedOutboundQuery, now.UnixMilli(), invitedBefore.UnixMilli(), limit)
}

// InRoom returns the newest request under way (routing, invited or joined) in a
// customer room, or nil.
func (q *OutboundQuery) InRoom(ctx context.Context, roomID id.RoomID) (*OutboundRequest, error) {
	return noRow(q.QueryOne(ctx, outboundInRoomQuery, roomID))
}

// Start links an allowed request to the conversation started for it; started is
// false when another replica started it first.
func (q *OutboundQuery) Start(ctx context.Context, id, conversationID int64, roomID id.RoomID, at time.Time) (started bool, err error) {
	res, err := q.GetDB().Exec(ctx, startOutboundQuery, id, conversationID, roomID, at.UnixMilli())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// FirstAttempt counts the request's first invite; first is false when one was
// counted before: a request is never invited twice.
func (q *OutboundQuery) FirstAttempt(ctx context.Context, id int64, at time.Time) (first bool, err error) {
	res, err := q.GetDB().Exec(ctx, firstAttemptQuery, id, at.UnixMilli())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// OfCustomer lists the customer's rooms with the tenant that neither side has left,
// the newest first.
func (q *CustomerRoomQuery) OfCustomer(ctx context.Context, tenantID string, customer id.UserID) ([]*CustomerRoom, error) {
	return q.QueryMany(ctx, customerRoomsQuery, tenantID, customer)
}

// OpenOfCustomer returns an open conversation of the customer at the tenant, or nil.
func (q *ConversationQuery) OpenOfCustomer(ctx context.Context, tenantID string, customer id.UserID) (*Conversation, error) {
	return noRow(q.QueryOne(ctx, openOfCustomerQuery, tenantID, customer))
}

// OfTenant lists the tenant's conversations, newest first: state "open", "closed"
// or "" for both; before > 0 lists only smaller IDs.
func (q *ConversationQuery) OfTenant(ctx context.Context, tenantID, state string, before int64, limit int) ([]*Conversation, error) {
	return q.QueryMany(ctx, tenantConversationsQuery, tenantID, state, before, limit)
}

const (
	customersOfTenantQuery = `SELECT DISTINCT customer_mxid FROM customer_room WHERE tenant_id = $1`
	byGhostQuery           = selectConversations + ` WHERE tenant_id = $1 AND ghost_user_id = $2 ORDER BY id DESC LIMIT 1`
)

// CustomersOfTenant lists every customer who has had a room with the tenant.
func (q *CustomerRoomQuery) CustomersOfTenant(ctx context.Context, tenantID string) ([]id.UserID, error) {
	rows, err := q.GetDB().Query(ctx, customersOfTenantQuery, tenantID)
	return dbutil.NewRowIterWithError(rows, dbutil.ScanSingleColumn[id.UserID], err).AsList()
}

// ByGhost returns the tenant's newest conversation whose customer the ghost stands
// for, or nil.
func (q *ConversationQuery) ByGhost(ctx context.Context, tenantID string, ghost id.UserID) (*Conversation, error) {
	return noRow(q.QueryOne(ctx, byGhostQuery, tenantID, ghost))
}
