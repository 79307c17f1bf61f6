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
)

// InboxSource says how an event reached the service.
type InboxSource string

const (
	SourceTransaction InboxSource = "transaction"
	SourceSync        InboxSource = "sync"
)

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
}

// NewInboxEvent is one event to store with InsertMany.
type NewInboxEvent struct {
	Key    string
	RoomID id.RoomID
	Body   []byte
}

// insertChunk bounds one multi-row insert (5 parameters a row, well under both
// databases' parameter limits).
const insertChunk = 200

// InsertMany stores events in as few round trips as possible, skipping those whose
// key is already there, and returns how many were new.
//
// The insert goes before other writers waiting for SQLite's write lock: the
// homeserver waits for it before it sends anything else.
func (q *InboxQuery) InsertMany(ctx context.Context, source InboxSource, events []NewInboxEvent, now time.Time) (int, error) {
	ctx = urgentWrite(ctx)
	stored := 0
	for start := 0; start < len(events); start += insertChunk {
		chunk := events[start:min(start+insertChunk, len(events))]
		var query strings.Builder
		query.WriteString(`INSERT INTO inbox (event_key, room_id, source, body, received_at) VALUES `)
		args := make([]any, 0, len(chunk)*5)
		for i, e := range chunk {
			if i > 0 {
				query.WriteString(", ")
			}
			n := len(args)
			fmt.Fprintf(&query, "($%d, $%d, $%d, $%d, $%d)", n+1, n+2, n+3, n+4, n+5)
			args = append(args, e.Key, e.RoomID, source, string(e.Body), now.UnixMilli())
		}
		query.WriteString(` ON CONFLICT (event_key) DO NOTHING`)
		res, err := q.db.Exec(ctx, query.String(), args...)
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

// Heads returns up to limit of the room's first pending events, in order.
func (q *InboxQuery) Heads(ctx context.Context, roomID id.RoomID, limit int) ([]*InboxEntry, error) {
	rows, err := q.db.Query(ctx, headInboxQuery, roomID, limit)
	return dbutil.NewRowIterWithError(rows, func(row dbutil.Scannable) (*InboxEntry, error) {
		return (&InboxEntry{}).Scan(row)
	}, err).AsList()
}
