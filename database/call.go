package database

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

// Call states and outcomes (see 15-calls.sql).
const (
	CallRinging  = "ringing"
	CallAnswered = "answered"
	CallEnded    = "ended"

	OutcomeAnswered  = "answered"
	OutcomeAbandoned = "abandoned"
	OutcomeMissed    = "missed"
	OutcomeFailed    = "failed"
)

// Call is one recorded voice call.
type Call struct {
	ID              int64
	TenantID        string
	ConversationID  int64
	CustomerRoom    id.RoomID
	CustomerCallID  string
	CustomerPartyID string
	State           string
	Outcome         string
	Agent           id.UserID
	StartedAt       time.Time
	AnsweredAt      time.Time
	EndedAt         time.Time
	EndReason       string
	EndedBy         string
	Stats           string
}

// CallLeg is one agent a call rang.
type CallLeg struct {
	Call      int64
	DeskRoom  id.RoomID
	Agent     id.UserID
	LegCallID string
	PartyID   string
	RangAt    time.Time
	EndedAt   time.Time
	Outcome   string
}

const (
	callColumns = `id, tenant_id, conversation_id, customer_room, customer_call_id, customer_party_id, state, outcome,
		agent, started_at, answered_at, ended_at, end_reason, ended_by, stats`
	insertCallQuery = `
		INSERT INTO calls (tenant_id, conversation_id, customer_room, customer_call_id, state, started_at)
		VALUES ($1, $2, $3, $4, 'ringing', $5)
		ON CONFLICT (customer_room, customer_call_id) DO NOTHING`
	callByCustomerQuery   = `SELECT ` + callColumns + ` FROM calls WHERE customer_room = $1 AND customer_call_id = $2`
	callsOfConvQuery      = `SELECT ` + callColumns + ` FROM calls WHERE conversation_id = $1 ORDER BY id`
	liveCallsQuery        = `SELECT ` + callColumns + ` FROM calls WHERE state <> 'ended' ORDER BY id`
	setCustomerPartyQuery = `UPDATE calls SET customer_party_id = $2 WHERE id = $1`
	answerCallQuery       = `UPDATE calls SET state = 'answered', agent = $2, answered_at = $3 WHERE id = $1 AND state = 'ringing'`
	takeOverCallQuery     = `UPDATE calls SET agent = $2 WHERE id = $1 AND state = 'answered' AND agent <> $2`
	endCallQuery          = `
		UPDATE calls SET state = 'ended', outcome = $2, end_reason = $3, ended_by = $4, stats = $5, ended_at = $6
		WHERE id = $1 AND state <> 'ended'`
	insertLegQuery = `
		INSERT INTO call_legs (call_row, desk_room, agent, leg_call_id, party_id, rang_at) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (call_row, leg_call_id) DO NOTHING`
	endLegQuery = `UPDATE call_legs SET outcome = $3, ended_at = $4 WHERE call_row = $1 AND leg_call_id = $2 AND ended_at IS NULL`
	legsQuery   = `SELECT call_row, desk_room, agent, leg_call_id, party_id, rang_at, ended_at, outcome FROM call_legs WHERE call_row = $1 ORDER BY rang_at, leg_call_id`
)

// CallQuery reads and writes the calls and their legs.
type CallQuery struct {
	db *dbutil.Database
}

// Calls is the voice calls' table.
func (db *Database) Calls() *CallQuery { return &CallQuery{db.Database} }

func scanCall(row dbutil.Scannable) (*Call, error) {
	var c Call
	var started int64
	var answered, ended sql.NullInt64
	err := row.Scan(&c.ID, &c.TenantID, &c.ConversationID, &c.CustomerRoom, &c.CustomerCallID, &c.CustomerPartyID,
		&c.State, &c.Outcome, &c.Agent, &started, &answered, &ended, &c.EndReason, &c.EndedBy, &c.Stats)
	if err != nil {
		return nil, err
	}
	c.StartedAt, c.AnsweredAt, c.EndedAt = time.UnixMilli(started), optionalTime(answered), optionalTime(ended)
	return &c, nil
}

func (q *CallQuery) list(ctx context.Context, query string, args ...any) ([]*Call, error) {
	rows, err := q.db.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Call
	for rows.Next() {
		c, err := scanCall(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Start records a call the customer placed, or returns the one already recorded for
// that call ID in that room (a handler run again).
func (q *CallQuery) Start(ctx context.Context, tenantID string, convID int64, room id.RoomID, customerCallID string, now time.Time) (*Call, error) {
	if _, err := q.db.Exec(ctx, insertCallQuery, tenantID, convID, room, customerCallID, now.UnixMilli()); err != nil {
		return nil, err
	}
	return scanCall(q.db.QueryRow(ctx, callByCustomerQuery, room, customerCallID))
}

// ByCustomerCall is the call the customer placed with that call ID, or nil.
func (q *CallQuery) ByCustomerCall(ctx context.Context, room id.RoomID, customerCallID string) (*Call, error) {
	c, err := scanCall(q.db.QueryRow(ctx, callByCustomerQuery, room, customerCallID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return c, err
}

// OfConversation lists a conversation's calls, oldest first.
func (q *CallQuery) OfConversation(ctx context.Context, convID int64) ([]*Call, error) {
	return q.list(ctx, callsOfConvQuery, convID)
}

// Live lists the calls not ended.
func (q *CallQuery) Live(ctx context.Context) ([]*Call, error) {
	return q.list(ctx, liveCallsQuery)
}

// SetCustomerParty records the service's party ID on the customer's call.
func (q *CallQuery) SetCustomerParty(ctx context.Context, callID int64, party string) error {
	_, err := q.db.Exec(ctx, setCustomerPartyQuery, callID, party)
	return err
}

// Answered records who took the call and when (once).
func (q *CallQuery) Answered(ctx context.Context, callID int64, agent id.UserID, at time.Time) (bool, error) {
	return changed(ctx, q.db, answerCallQuery, callID, agent, at.UnixMilli())
}

// TakenOver records the agent a transfer moved an answered call to; answered_at
// stays the first answer, when the customer stopped waiting.
func (q *CallQuery) TakenOver(ctx context.Context, callID int64, agent id.UserID) (bool, error) {
	return changed(ctx, q.db, takeOverCallQuery, callID, agent)
}

// End records how the call ended (once).
func (q *CallQuery) End(ctx context.Context, callID int64, outcome, reason, endedBy, stats string, at time.Time) (bool, error) {
	return changed(ctx, q.db, endCallQuery, callID, outcome, reason, endedBy, stats, at.UnixMilli())
}

// AddLeg records an agent the call rings.
func (q *CallQuery) AddLeg(ctx context.Context, l *CallLeg) error {
	_, err := q.db.Exec(ctx, insertLegQuery, l.Call, l.DeskRoom, l.Agent, l.LegCallID, l.PartyID, l.RangAt.UnixMilli())
	return err
}

// EndLeg records how an agent's ringing or talking ended (once).
func (q *CallQuery) EndLeg(ctx context.Context, callID int64, legCallID, outcome string, at time.Time) error {
	_, err := q.db.Exec(ctx, endLegQuery, callID, legCallID, outcome, at.UnixMilli())
	return err
}

// Legs lists the agents a call rang, in order.
func (q *CallQuery) Legs(ctx context.Context, callID int64) ([]*CallLeg, error) {
	rows, err := q.db.Query(ctx, legsQuery, callID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*CallLeg
	for rows.Next() {
		var l CallLeg
		var rang int64
		var ended sql.NullInt64
		if err = rows.Scan(&l.Call, &l.DeskRoom, &l.Agent, &l.LegCallID, &l.PartyID, &rang, &ended, &l.Outcome); err != nil {
			return nil, err
		}
		l.RangAt, l.EndedAt = time.UnixMilli(rang), optionalTime(ended)
		out = append(out, &l)
	}
	return out, rows.Err()
}

// MissRing counts a call the agent let ring out like an offer they let lapse (the
// RONA count, staff.missed_offers) and returns how many they missed in a row. An
// answer, accepted or declined, starts the count again (StaffQuery.ResetMissed).
func (q *CallQuery) MissRing(ctx context.Context, tenantID string, agent id.UserID) (missed int, err error) {
	if _, err = q.db.Exec(ctx, missQuery, tenantID, agent); err != nil {
		return 0, err
	}
	err = q.db.QueryRow(ctx, missedQuery, tenantID, agent).Scan(&missed)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return missed, err
}
