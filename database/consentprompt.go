package database

import (
	"context"
	"database/sql"
	"time"

	"go.mau.fi/util/dbutil"
)

const (
	consentPromptColumns     = `id, conversation_id, origin, options, asked_at, deadline, settled_at, settled_by`
	insertConsentPromptQuery = `
		INSERT INTO consent_prompt (conversation_id, origin, options, asked_at, deadline) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (origin) DO NOTHING`
	openPromptQuery = `
		SELECT ` + consentPromptColumns + ` FROM consent_prompt
		WHERE conversation_id = $1 AND settled_at IS NULL ORDER BY id DESC LIMIT 1`
	promptByOriginQuery = `SELECT ` + consentPromptColumns + ` FROM consent_prompt WHERE origin = $1`
	countPromptsQuery   = `SELECT COUNT(*) FROM consent_prompt WHERE conversation_id = $1`
	duePromptsQuery     = `SELECT ` + consentPromptColumns + ` FROM consent_prompt WHERE settled_at IS NULL AND deadline <= $1 ORDER BY deadline`
	// Settling is conditional so that an answer and the timeout, or two answers, never
	// both settle one prompt.
	settlePromptQuery = `UPDATE consent_prompt SET settled_at = $2, settled_by = $3 WHERE id = $1 AND settled_at IS NULL`
)

// ConsentPrompt is a consent question put to a customer.
type ConsentPrompt struct {
	ID           int64
	Conversation int64
	// Origin is the prompt's name in the event map.
	Origin string
	// Options is what the prompt offered, as the bot package encodes it.
	Options   string
	AskedAt   time.Time
	Deadline  time.Time
	SettledAt time.Time
	// SettledBy is how it was settled: poll, reaction, text, timeout, replaced.
	SettledBy string
}

func (p *ConsentPrompt) Scan(row dbutil.Scannable) (*ConsentPrompt, error) {
	var asked, deadline int64
	var settled sql.NullInt64
	var by sql.NullString
	if err := row.Scan(&p.ID, &p.Conversation, &p.Origin, &p.Options, &asked, &deadline, &settled, &by); err != nil {
		return nil, err
	}
	p.AskedAt, p.Deadline, p.SettledBy = time.UnixMilli(asked), time.UnixMilli(deadline), by.String
	if settled.Valid {
		p.SettledAt = time.UnixMilli(settled.Int64)
	}
	return p, nil
}

// ConsentPromptQuery keeps the consent prompts.
type ConsentPromptQuery struct {
	*dbutil.QueryHelper[*ConsentPrompt]
}

func newConsentPromptQuery(db *dbutil.Database) *ConsentPromptQuery {
	return &ConsentPromptQuery{dbutil.MakeQueryHelper(db, func(*dbutil.QueryHelper[*ConsentPrompt]) *ConsentPrompt { return &ConsentPrompt{} })}
}

// Add records a prompt; a prompt with the same origin is kept as it was.
func (q *ConsentPromptQuery) Add(ctx context.Context, p *ConsentPrompt) error {
	return q.Exec(ctx, insertConsentPromptQuery, p.Conversation, p.Origin, p.Options, p.AskedAt.UnixMilli(), p.Deadline.UnixMilli())
}

// Open returns the conversation's newest unsettled prompt, or nil.
func (q *ConsentPromptQuery) Open(ctx context.Context, conversation int64) (*ConsentPrompt, error) {
	return q.QueryOne(ctx, openPromptQuery, conversation)
}

// ByOrigin returns a prompt by its event-map name, or nil.
func (q *ConsentPromptQuery) ByOrigin(ctx context.Context, origin string) (*ConsentPrompt, error) {
	return q.QueryOne(ctx, promptByOriginQuery, origin)
}

// Count tells how many prompts a conversation has had (to name the next one).
func (q *ConsentPromptQuery) Count(ctx context.Context, conversation int64) (int, error) {
	var n int
	err := q.GetDB().QueryRow(ctx, countPromptsQuery, conversation).Scan(&n)
	return n, err
}

// Due returns the unsettled prompts whose deadline has passed.
func (q *ConsentPromptQuery) Due(ctx context.Context, now time.Time) ([]*ConsentPrompt, error) {
	return q.QueryMany(ctx, duePromptsQuery, now.UnixMilli())
}

// Settle marks a prompt answered (or given up); false if it was settled already.
func (q *ConsentPromptQuery) Settle(ctx context.Context, promptID int64, by string, now time.Time) (bool, error) {
	res, err := q.GetDB().Exec(ctx, settlePromptQuery, promptID, now.UnixMilli(), by)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
