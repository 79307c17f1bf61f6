package database

import (
	"context"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

const (
	insertConsentReactionQuery = `
		INSERT INTO consent_reaction (room_id, event_id, conversation_id, prompt_origin, reaction_key) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT DO NOTHING`
	getConsentReactionQuery = `
		SELECT room_id, event_id, conversation_id, prompt_origin, reaction_key FROM consent_reaction WHERE room_id = $1 AND event_id = $2`
)

// ConsentReaction is a reaction by which a customer answered a consent prompt.
type ConsentReaction struct {
	RoomID       id.RoomID
	EventID      id.EventID
	Conversation int64
	// PromptOrigin names the prompt answered (ConsentPrompt.Origin).
	PromptOrigin string
	Key          string
}

func (r *ConsentReaction) Scan(row dbutil.Scannable) (*ConsentReaction, error) {
	return r, row.Scan(&r.RoomID, &r.EventID, &r.Conversation, &r.PromptOrigin, &r.Key)
}

// ConsentReactionQuery keeps the customers' reactions on consent prompts, so that a
// reaction taken back can be read as a withdrawal.
type ConsentReactionQuery struct {
	*dbutil.QueryHelper[*ConsentReaction]
}

// ConsentReactions are the customers' answers by reaction.
func (db *Database) ConsentReactions() *ConsentReactionQuery {
	return &ConsentReactionQuery{dbutil.MakeQueryHelper(db.Database, func(*dbutil.QueryHelper[*ConsentReaction]) *ConsentReaction { return &ConsentReaction{} })}
}

// Add records a reaction; one recorded already is left as it is.
func (q *ConsentReactionQuery) Add(ctx context.Context, r *ConsentReaction) error {
	return q.Exec(ctx, insertConsentReactionQuery, r.RoomID, r.EventID, r.Conversation, r.PromptOrigin, r.Key)
}

// Get returns the reaction an event of the room is, or nil.
func (q *ConsentReactionQuery) Get(ctx context.Context, room id.RoomID, evt id.EventID) (*ConsentReaction, error) {
	return q.QueryOne(ctx, getConsentReactionQuery, room, evt)
}
