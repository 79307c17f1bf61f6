package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

const (
	insertInboxQuery = `
		INSERT INTO inbox (event_key, room_id, source, body, received_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (event_key) DO NOTHING`
	headInboxQuery = `
		SELECT seq, event_key, room_id, source, body, received_at, attempts, next_attempt
		FROM inbox WHERE room_id = $1 AND handled_at IS NULL ORDER BY seq LIMIT $2`
	headInboxWithRoomQuery = `
		SELECT i.seq, i.event_key, i.room_id, i.source, i.body, i.received_at, i.attempts, i.next_attempt,
			` + customerRoomWithOpenColumns + `
		FROM (` + headInboxQuery + `) i
		LEFT JOIN customer_room r ON r.room_id = i.room_id
		LEFT JOIN conversation c ON c.room_id = r.room_id AND c.status <> 'closed'
		ORDER BY i.seq`
)

// InboxSource says how an event reached the service and, for a customer's event
// whose rate limit was checked on receipt, what was decided: the handler must not
// spend the customer's tokens again.
type InboxSource string

const (
	SourceTransaction InboxSource = "transaction"
	SourceSync        InboxSource = "sync"
	// SourceWithinLimit: received in a transaction, within its sender's rate limit.
	SourceWithinLimit InboxSource = "transaction-within-limit"
	// SourceOverLimit: received in a transaction, over its sender's rate limit. Only
	// the first such event is left to the handler (to tell the sender once); the
	// others are stored handled, with OverLimitReason.
	SourceOverLimit InboxSource = "transaction-over-limit"
)

// OverLimitReason is kept on events stored already settled because their sender was
// over the rate limit.
const OverLimitReason = "over the rate limit"

// InboxEntry is one received event waiting to be handled.
type InboxEntry struct {
	Seq        int64
	Key        string
	RoomID     id.RoomID
	Source     InboxSource
	Body       []byte
	ReceivedAt time.Time
	Attempts   int
	// NextAttempt is when a failed row may be tried again.
	NextAttempt time.Time
}

func (e *InboxEntry) Scan(row dbutil.Scannable) (*InboxEntry, error) {
	var receivedAt, nextAttempt int64
	var body string
	err := row.Scan(&e.Seq, &e.Key, &e.RoomID, &e.Source, &body, &receivedAt, &e.Attempts, &nextAttempt)
	if err != nil {
		return nil, err
	}
	e.Body = []byte(body)
	e.ReceivedAt = time.UnixMilli(receivedAt)
	e.NextAttempt = time.UnixMilli(nextAttempt)
	return e, nil
}

type InboxQuery struct {
	queue
	// urgent stores what homeserver transactions bring (see openUrgent): on
	// PostgreSQL the connections kept for it, which Database.Close closes; nil on SQLite.
	urgent *dbutil.Database
}

// NewInboxEvent is one event to store with InsertMany.
type NewInboxEvent struct {
	Key    string
	RoomID id.RoomID
	Body   []byte
	// Limit is the rate-limit decision made on receipt (NotLimited: none was).
	Limit LimitVerdict
}

// LimitVerdict is what the rate limit decided for an event when it was received.
type LimitVerdict int

const (
	// NotLimited: no decision on receipt (not a customer's event, or the handler
	// decides).
	NotLimited LimitVerdict = iota
	WithinLimit
	// OverLimitTell is the first event over the limit: handled only to tell the sender.
	OverLimitTell
	// OverLimitDropped is stored already handled: it never reaches a handler.
	OverLimitDropped
)

// insertChunk bounds one multi-row insert (7 parameters a row, well under both
// databases' parameter limits).
const insertChunk = 200

// InsertMany stores events in as few round trips as possible, skipping those whose
// key is already there, and returns how many were new (settled ones included). Events
// over the rate limit are stored settled in the same statement, so that a flood costs
// no write transaction of its own per event.
//
// The homeserver waits for the insert before it sends anything else: it goes before
// other writers waiting for SQLite's write lock, and on PostgreSQL it runs on the
// connections kept for urgent writes.
func (q *InboxQuery) InsertMany(ctx context.Context, source InboxSource, events []NewInboxEvent, now time.Time) (int, error) {
	ctx = urgentWrite(ctx)
	stored := 0
	for start := 0; start < len(events); start += insertChunk {
		chunk := events[start:min(start+insertChunk, len(events))]
		var query strings.Builder
		query.WriteString(`INSERT INTO inbox (event_key, room_id, source, body, received_at, handled_at, last_error) VALUES `)
		args := make([]any, 0, len(chunk)*7)
		for i, e := range chunk {
			if i > 0 {
				query.WriteString(", ")
			}
			n := len(args)
			fmt.Fprintf(&query, "($%d, $%d, $%d, $%d, $%d, $%d, $%d)", n+1, n+2, n+3, n+4, n+5, n+6, n+7)
			src, handledAt, lastErr := source, sql.NullInt64{}, sql.NullString{}
			switch e.Limit {
			case WithinLimit:
				src = SourceWithinLimit
			case OverLimitTell:
				src = SourceOverLimit
			case OverLimitDropped:
				src, handledAt, lastErr = SourceOverLimit, sql.NullInt64{Int64: now.UnixMilli(), Valid: true}, sql.NullString{String: OverLimitReason, Valid: true}
			}
			args = append(args, e.Key, e.RoomID, src, string(e.Body), now.UnixMilli(), handledAt, lastErr)
		}
		query.WriteString(` ON CONFLICT (event_key) DO NOTHING`)
		res, err := urgentExecable(ctx, q.db, q.urgent).ExecContext(ctx, query.String(), args...)
		if err != nil {
			return stored, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return stored, err
		}
		stored += int(n)
	}
	return stored, nil
}

// Insert stores a received event unless one with the same key is already there.
func (q *InboxQuery) Insert(ctx context.Context, key string, roomID id.RoomID, source InboxSource, body []byte, now time.Time) (bool, error) {
	ctx = urgentWrite(ctx)
	res, err := q.db.Exec(ctx, insertInboxQuery, key, roomID, source, string(body), now.UnixMilli())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// Head returns the room's first pending event, or nil.
func (q *InboxQuery) Head(ctx context.Context, roomID id.RoomID) (*InboxEntry, error) {
	entry, err := (&InboxEntry{}).Scan(q.db.QueryRow(ctx, headInboxQuery, roomID, 1))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return entry, err
}

// HeadsWithRoom is Heads that also returns the room as a customer room with its open
// conversation (CustomerRoomQuery.GetWithOpen), read in the same statement: nil when
// there are no heads or the room is not a customer room.
func (q *InboxQuery) HeadsWithRoom(ctx context.Context, roomID id.RoomID, limit int) ([]*InboxEntry, *CustomerRoom, error) {
	rows, err := q.db.Query(ctx, headInboxWithRoomQuery, roomID, limit)
	var room *CustomerRoom
	heads, err := dbutil.NewRowIterWithError(rows, func(row dbutil.Scannable) (*InboxEntry, error) {
		entry := &InboxEntry{}
		_, err := entry.Scan(scanFunc(func(entryDest ...any) error {
			var err error
			room, err = scanWithOpen(row, entryDest...)
			return err
		}))
		return entry, err
	}, err).AsList()
	if err != nil {
		return nil, nil, err
	}
	return heads, room, nil
}

// Heads returns up to limit of the room's first pending events, in order.
func (q *InboxQuery) Heads(ctx context.Context, roomID id.RoomID, limit int) ([]*InboxEntry, error) {
	rows, err := q.db.Query(ctx, headInboxQuery, roomID, limit)
	return dbutil.NewRowIterWithError(rows, func(row dbutil.Scannable) (*InboxEntry, error) {
		return (&InboxEntry{}).Scan(row)
	}, err).AsList()
}
