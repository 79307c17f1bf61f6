package database

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

const (
	insertOutboxQuery = `
		INSERT INTO outbox (dedupe_key, room_id, sender, event_type, content, created_at, refs_from) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (dedupe_key) DO NOTHING`
	headOutboxQuery = `
		SELECT id, dedupe_key, room_id, sender, event_type, content, created_at, attempts, next_attempt, refs_from
		FROM outbox WHERE room_id = $1 AND sent_at IS NULL ORDER BY id LIMIT 1`
	setOutboxEventIDQuery = `UPDATE outbox SET event_id = $2 WHERE id = $1`
	sentByKeyQuery        = `SELECT event_id FROM outbox WHERE dedupe_key = $1`
)

// OutboxEntry is one event the service has decided to send.
type OutboxEntry struct {
	ID        int64
	DedupeKey string
	RoomID    id.RoomID
	Sender    id.UserID
	EventType event.Type
	Content   json.RawMessage
	CreatedAt time.Time
	Attempts  int
	// NextAttempt is when a failed row may be tried again.
	NextAttempt time.Time
	// RefsFrom is the room whose event IDs the content refers to (replies, edits,
	// reactions, redactions); they are translated into RoomID's when sent.
	RefsFrom id.RoomID
}

func (e *OutboxEntry) Scan(row dbutil.Scannable) (*OutboxEntry, error) {
	var createdAt, nextAttempt int64
	var evtType, content string
	var refsFrom sql.NullString
	err := row.Scan(&e.ID, &e.DedupeKey, &e.RoomID, &e.Sender, &evtType, &content, &createdAt, &e.Attempts, &nextAttempt, &refsFrom)
	if err != nil {
		return nil, err
	}
	e.EventType = event.Type{Type: evtType, Class: event.MessageEventType}
	e.Content = json.RawMessage(content)
	e.CreatedAt = time.UnixMilli(createdAt)
	e.NextAttempt = time.UnixMilli(nextAttempt)
	e.RefsFrom = id.RoomID(refsFrom.String)
	return e, nil
}

type OutboxQuery struct {
	queue
}

// Enqueue records an event to send. The dedupe key makes the decision idempotent: a
// handler that runs twice enqueues once.
func (q *OutboxQuery) Enqueue(ctx context.Context, dedupeKey string, roomID id.RoomID, sender id.UserID, evtType event.Type, content any, now time.Time) error {
	return q.EnqueueRelay(ctx, dedupeKey, roomID, sender, evtType, content, "", now)
}

// EnqueueRelay records an event whose content refers to events of room refsFrom.
func (q *OutboxQuery) EnqueueRelay(ctx context.Context, dedupeKey string, roomID id.RoomID, sender id.UserID, evtType event.Type, content any, refsFrom id.RoomID, now time.Time) error {
	data, err := json.Marshal(content)
	if err != nil {
		return err
	}
	_, err = q.db.Exec(ctx, insertOutboxQuery, dedupeKey, roomID, sender, evtType.Type, string(data), now.UnixMilli(), nullString(refsFrom))
	return err
}

// Head returns the room's first unsent event, or nil.
func (q *OutboxQuery) Head(ctx context.Context, roomID id.RoomID) (*OutboxEntry, error) {
	entry, err := (&OutboxEntry{}).Scan(q.db.QueryRow(ctx, headOutboxQuery, roomID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return entry, err
}

// MarkSent records the event ID the homeserver gave the sent event.
func (q *OutboxQuery) MarkSent(ctx context.Context, entryID int64, eventID id.EventID, now time.Time) error {
	return q.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		if _, err := q.db.Exec(ctx, setOutboxEventIDQuery, entryID, eventID); err != nil {
			return err
		}
		return q.MarkDone(ctx, entryID, now)
	})
}

// SentEventID returns the event ID of a sent outbox entry ("" if not sent yet).
func (q *OutboxQuery) SentEventID(ctx context.Context, dedupeKey string) (id.EventID, error) {
	var evtID sql.NullString
	err := q.db.QueryRow(ctx, sentByKeyQuery, dedupeKey).Scan(&evtID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return id.EventID(evtID.String), err
}
