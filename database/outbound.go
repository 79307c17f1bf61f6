package database

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"go.mau.fi/util/dbutil"

	"github.com/contactcenter/contactcenter/outbound"
)

const (
	outboundColumns = `id, tenant_id, target_kind, target, customer_mxid, reason, agent, queue, origin, not_before, not_after,
		state, reasons, defer_until, routed_at, attempts, conversation_id, room_id, last_error, created_at, updated_at`
	insertOutboundQuery = `
		INSERT INTO outbound_request (tenant_id, target_kind, target, customer_mxid, reason, agent, queue, origin,
			not_before, not_after, state, reasons, defer_until, routed_at, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15)
		RETURNING id`
	getOutboundQuery = `SELECT ` + outboundColumns + ` FROM outbound_request WHERE tenant_id = $1 AND id = $2`
	// The state changes only from the state the caller saw: of two replicas acting on
	// one request, one wins. routed_at is set once, when it is first allowed.
	setOutboundStateQuery = `
		UPDATE outbound_request SET state = $3, reasons = $4, defer_until = $5, last_error = $6, updated_at = $7,
			routed_at = CASE WHEN $3 = 'routing' AND routed_at IS NULL THEN $7 ELSE routed_at END
		WHERE id = $1 AND state = $2`
	outboundAttemptQuery = `UPDATE outbound_request SET attempts = attempts + 1, updated_at = $2 WHERE id = $1 RETURNING attempts`
	outboundRoomQuery    = `UPDATE outbound_request SET conversation_id = $2, room_id = $3, updated_at = $4 WHERE id = $1`
	dueOutboundQuery     = `
		SELECT ` + outboundColumns + ` FROM outbound_request
		WHERE state = 'deferred' AND defer_until <= $1 ORDER BY defer_until, id LIMIT $2`
	// What counts against the frequency cap: requests allowed to reach the customer,
	// except those that never did (refused later, blocked, failed, expired).
	outboundContactsQuery = `
		SELECT routed_at FROM outbound_request
		WHERE tenant_id = $1 AND customer_mxid = $2 AND routed_at > $3
			AND state IN ('routing', 'invited', 'joined', 'declined', 'done')
		ORDER BY routed_at`
	outboundOfCustomerQuery = `
		SELECT ` + outboundColumns + ` FROM outbound_request
		WHERE tenant_id = $1 AND customer_mxid = $2 ORDER BY id DESC LIMIT $3`
	outboundByConversationQuery = `SELECT ` + outboundColumns + ` FROM outbound_request WHERE conversation_id = $1`
	lockCustomerPostgres        = `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`
)

// Targets of an outbound request: what the tenant named.
const (
	TargetMatrixID  = "matrix_id"
	TargetAccountID = "account_id"
)

// Origins of an outbound request.
const (
	OriginAPI      = "api"
	OriginTrigger  = "trigger"
	OriginCallback = "callback"
)

// OutboundRequest is a tenant's request to contact a customer (see 13-outbound.sql).
type OutboundRequest struct {
	ID         int64
	TenantID   string
	TargetKind string
	Target     string
	// Customer is the Matrix ID contacted ("" while an account ID is not resolved).
	Customer  string
	Reason    string
	Agent     string
	Queue     string
	Origin    string
	NotBefore time.Time
	NotAfter  time.Time
	State     outbound.State
	// Reasons are the latest decision's.
	Reasons    []outbound.Reason
	DeferUntil time.Time
	RoutedAt   time.Time
	// Attempts counts the invites and sends tried for the request.
	Attempts       int
	ConversationID int64
	RoomID         string
	LastError      string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

func (r *OutboundRequest) Scan(row dbutil.Scannable) (*OutboundRequest, error) {
	var customer, agent, queue, room, lastError sql.NullString
	var notBefore, notAfter, deferUntil, routed, conversation sql.NullInt64
	var reasons string
	var created, updated int64
	err := row.Scan(&r.ID, &r.TenantID, &r.TargetKind, &r.Target, &customer, &r.Reason, &agent, &queue, &r.Origin,
		&notBefore, &notAfter, &r.State, &reasons, &deferUntil, &routed, &r.Attempts, &conversation, &room, &lastError,
		&created, &updated)
	if err != nil {
		return nil, err
	}
	if err = json.Unmarshal([]byte(reasons), &r.Reasons); err != nil {
		return nil, fmt.Errorf("outbound request %d: reasons: %w", r.ID, err)
	}
	r.Customer, r.Agent, r.Queue, r.RoomID, r.LastError = customer.String, agent.String, queue.String, room.String, lastError.String
	r.NotBefore, r.NotAfter, r.DeferUntil, r.RoutedAt = optionalTime(notBefore), optionalTime(notAfter), optionalTime(deferUntil), optionalTime(routed)
	r.ConversationID = conversation.Int64
	r.CreatedAt, r.UpdatedAt = time.UnixMilli(created), time.UnixMilli(updated)
	return r, nil
}

// OutboundQuery keeps outbound requests.
type OutboundQuery struct {
	*dbutil.QueryHelper[*OutboundRequest]
}

func newOutboundQuery(db *dbutil.Database) *OutboundQuery {
	return &OutboundQuery{dbutil.MakeQueryHelper(db, func(*dbutil.QueryHelper[*OutboundRequest]) *OutboundRequest {
		return &OutboundRequest{}
	})}
}

// millisOrNull is a time as stored, NULL when zero.
func millisOrNull(t time.Time) sql.NullInt64 {
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: !t.IsZero()}
}

func textOrNull(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

func reasonsJSON(reasons []outbound.Reason) (string, error) {
	if reasons == nil {
		reasons = []outbound.Reason{}
	}
	data, err := json.Marshal(reasons)
	return string(data), err
}

// LockCustomer serialises decisions about one customer of a tenant until the
// transaction ends, so that two requests at once cannot both pass the frequency cap.
// Call it inside a transaction. SQLite's write transactions are exclusive already.
func (q *OutboundQuery) LockCustomer(ctx context.Context, tenantID, customer string) error {
	if q.GetDB().Dialect != dbutil.Postgres {
		return nil
	}
	return q.Exec(ctx, lockCustomerPostgres, tenantID+" "+customer) // tenant IDs have no spaces
}

// Insert stores a new request (its state must be one a new request may take) and
// sets its ID.
func (q *OutboundQuery) Insert(ctx context.Context, r *OutboundRequest) error {
	if err := outbound.Transition("", r.State); err != nil {
		return err
	}
	reasons, err := reasonsJSON(r.Reasons)
	if err != nil {
		return err
	}
	if r.State == outbound.StateRouting && r.RoutedAt.IsZero() {
		r.RoutedAt = r.CreatedAt
	}
	r.UpdatedAt = r.CreatedAt
	return q.GetDB().QueryRow(ctx, insertOutboundQuery, r.TenantID, r.TargetKind, r.Target, textOrNull(r.Customer), r.Reason,
		textOrNull(r.Agent), textOrNull(r.Queue), r.Origin, millisOrNull(r.NotBefore), millisOrNull(r.NotAfter), r.State,
		reasons, millisOrNull(r.DeferUntil), millisOrNull(r.RoutedAt), r.CreatedAt.UnixMilli()).Scan(&r.ID)
}

// Get returns a tenant's request, or nil: another tenant's request is not found.
func (q *OutboundQuery) Get(ctx context.Context, tenantID string, id int64) (*OutboundRequest, error) {
	return noRow(q.QueryOne(ctx, getOutboundQuery, tenantID, id))
}

// ByConversation returns the request that started a conversation, or nil.
func (q *OutboundQuery) ByConversation(ctx context.Context, conversationID int64) (*OutboundRequest, error) {
	return noRow(q.QueryOne(ctx, outboundByConversationQuery, conversationID))
}

// OfCustomer lists a customer's newest requests at a tenant, newest first.
func (q *OutboundQuery) OfCustomer(ctx context.Context, tenantID, customer string, limit int) ([]*OutboundRequest, error) {
	return q.QueryMany(ctx, outboundOfCustomerQuery, tenantID, customer, limit)
}

// StateChange is a request's move from one state to the next.
type StateChange struct {
	From, To   outbound.State
	Reasons    []outbound.Reason
	DeferUntil time.Time // for deferred
	Error      string    // what went wrong, for blocked and failed
	At         time.Time
}

// SetState moves a request on if the state machine allows it and it is still in
// c.From; changed is false when another replica moved it first.
func (q *OutboundQuery) SetState(ctx context.Context, id int64, c StateChange) (changed bool, err error) {
	if err = outbound.Transition(c.From, c.To); err != nil {
		return false, err
	}
	reasons, err := reasonsJSON(c.Reasons)
	if err != nil {
		return false, err
	}
	res, err := q.GetDB().Exec(ctx, setOutboundStateQuery, id, c.From, c.To, reasons, millisOrNull(c.DeferUntil),
		textOrNull(c.Error), c.At.UnixMilli())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// AddAttempt counts an invite or send tried for the request and returns the count.
func (q *OutboundQuery) AddAttempt(ctx context.Context, id int64, at time.Time) (int, error) {
	var n int
	err := q.GetDB().QueryRow(ctx, outboundAttemptQuery, id, at.UnixMilli()).Scan(&n)
	return n, err
}

// SetRoom records the conversation the request started and the customer room used.
func (q *OutboundQuery) SetRoom(ctx context.Context, id, conversationID int64, roomID string, at time.Time) error {
	return q.Exec(ctx, outboundRoomQuery, id, conversationID, roomID, at.UnixMilli())
}

// Due lists deferred requests whose time has come, oldest first.
func (q *OutboundQuery) Due(ctx context.Context, now time.Time, limit int) ([]*OutboundRequest, error) {
	return q.QueryMany(ctx, dueOutboundQuery, now.UnixMilli(), limit)
}

// Contacts lists when the customer was contacted by the tenant after since (for the
// frequency cap), oldest first.
func (q *OutboundQuery) Contacts(ctx context.Context, tenantID, customer string, since time.Time) ([]time.Time, error) {
	rows, err := q.GetDB().Query(ctx, outboundContactsQuery, tenantID, customer, since.UnixMilli())
	millis, err := dbutil.NewRowIterWithError(rows, dbutil.ScanSingleColumn[int64], err).AsList()
	if err != nil {
		return nil, err
	}
	out := make([]time.Time, len(millis))
	for i, m := range millis {
		out[i] = time.UnixMilli(m)
	}
	return out, nil
}
