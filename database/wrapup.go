package database

import (
	"context"
	"database/sql"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

const (
	wrapUpColumns     = `conversation_id, tenant_id, agent, room_id, origin, codes, asked_at, deadline, code, note, settled_at, settled_by`
	insertWrapUpQuery = `
		INSERT INTO wrap_up (conversation_id, tenant_id, agent, room_id, origin, codes, asked_at, deadline)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (conversation_id) DO NOTHING`
	wrapUpQuery         = `SELECT ` + wrapUpColumns + ` FROM wrap_up WHERE conversation_id = $1`
	wrapUpByOriginQuery = `SELECT ` + wrapUpColumns + ` FROM wrap_up WHERE origin = $1`
	// The agent's newest wrap-up question still open.
	openWrapUpQuery = `
		SELECT ` + wrapUpColumns + ` FROM wrap_up
		WHERE tenant_id = $1 AND agent = $2 AND settled_at IS NULL ORDER BY asked_at DESC LIMIT 1`
	// The agent's newest wrap-up, open or not: where a later note goes.
	lastWrapUpQuery = `
		SELECT ` + wrapUpColumns + ` FROM wrap_up
		WHERE tenant_id = $1 AND agent = $2 ORDER BY asked_at DESC LIMIT 1`
	dueWrapUpsQuery = `SELECT ` + wrapUpColumns + ` FROM wrap_up WHERE settled_at IS NULL AND deadline <= $1 ORDER BY deadline`
	// Settling is conditional: a code and the deadline, or two answers, never both
	// settle one wrap-up.
	settleWrapUpQuery = `
		UPDATE wrap_up SET code = $2, note = CASE WHEN $3 = '' THEN note ELSE $3 END, settled_at = $4, settled_by = $5
		WHERE conversation_id = $1 AND settled_at IS NULL`
	setWrapUpNoteQuery = `UPDATE wrap_up SET note = $2 WHERE conversation_id = $1`
)

// How a wrap-up was settled (WrapUp.SettledBy).
const (
	WrapUpByPoll    = "poll"
	WrapUpByText    = "text"
	WrapUpByTimeout = "timeout"
)

// WrapUp is the wrap-up question of an ended conversation and its answer.
type WrapUp struct {
	Conversation int64
	TenantID     string
	Agent        id.UserID
	// Room is the agent's control room, where the question was put.
	Room id.RoomID
	// Origin is the question's name in the event map (its poll; the text is
	// Origin+"|text").
	Origin string
	// Codes are the codes offered, as JSON.
	Codes     string
	AskedAt   time.Time
	Deadline  time.Time
	Code      string
	Note      string
	SettledAt time.Time
	SettledBy string
}

func (w *WrapUp) Scan(row dbutil.Scannable) (*WrapUp, error) {
	var asked, deadline int64
	var settled sql.NullInt64
	if err := row.Scan(&w.Conversation, &w.TenantID, &w.Agent, &w.Room, &w.Origin, &w.Codes, &asked, &deadline,
		&w.Code, &w.Note, &settled, &w.SettledBy); err != nil {
		return nil, err
	}
	w.AskedAt, w.Deadline = time.UnixMilli(asked), time.UnixMilli(deadline)
	if settled.Valid {
		w.SettledAt = time.UnixMilli(settled.Int64)
	}
	return w, nil
}

// WrapUpQuery keeps the wrap-ups.
type WrapUpQuery struct {
	*dbutil.QueryHelper[*WrapUp]
}

// WrapUps are the conversations' wrap-up questions and answers.
func (db *Database) WrapUps() *WrapUpQuery {
	return &WrapUpQuery{dbutil.MakeQueryHelper(db.Database, func(*dbutil.QueryHelper[*WrapUp]) *WrapUp { return &WrapUp{} })}
}

// Add records a question; false when the conversation has one already.
func (q *WrapUpQuery) Add(ctx context.Context, w *WrapUp) (bool, error) {
	res, err := q.GetDB().Exec(ctx, insertWrapUpQuery, w.Conversation, w.TenantID, w.Agent, w.Room, w.Origin, w.Codes,
		w.AskedAt.UnixMilli(), w.Deadline.UnixMilli())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// Get returns a conversation's wrap-up, or nil.
func (q *WrapUpQuery) Get(ctx context.Context, conversation int64) (*WrapUp, error) {
	return q.QueryOne(ctx, wrapUpQuery, conversation)
}

// ByOrigin returns the wrap-up whose question has this event-map name, or nil.
func (q *WrapUpQuery) ByOrigin(ctx context.Context, origin string) (*WrapUp, error) {
	return q.QueryOne(ctx, wrapUpByOriginQuery, origin)
}

// Open returns the agent's newest unanswered wrap-up, or nil.
func (q *WrapUpQuery) Open(ctx context.Context, tenantID string, agent id.UserID) (*WrapUp, error) {
	return q.QueryOne(ctx, openWrapUpQuery, tenantID, agent)
}

// Last returns the agent's newest wrap-up, answered or not, or nil.
func (q *WrapUpQuery) Last(ctx context.Context, tenantID string, agent id.UserID) (*WrapUp, error) {
	return q.QueryOne(ctx, lastWrapUpQuery, tenantID, agent)
}

// Due returns the unanswered wrap-ups whose deadline has passed.
func (q *WrapUpQuery) Due(ctx context.Context, now time.Time) ([]*WrapUp, error) {
	return q.QueryMany(ctx, dueWrapUpsQuery, now.UnixMilli())
}

// Settle records the answer (code "" when the time ran out); a note "" keeps any
// note given before. False if the wrap-up was settled already.
func (q *WrapUpQuery) Settle(ctx context.Context, conversation int64, code, note, by string, now time.Time) (bool, error) {
	res, err := q.GetDB().Exec(ctx, settleWrapUpQuery, conversation, code, note, now.UnixMilli(), by)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// SetNote replaces the conversation's wrap-up note.
func (q *WrapUpQuery) SetNote(ctx context.Context, conversation int64, note string) error {
	return q.Exec(ctx, setWrapUpNoteQuery, conversation, note)
}
