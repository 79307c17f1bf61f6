package database

import (
	"context"
	"sync"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

// RelayedEvent is the event whose copies are queued: where it comes from, who wrote
// it and the conversation it belongs to.
type RelayedEvent struct {
	Room         id.RoomID
	Event        id.EventID
	Author       id.UserID
	Conversation int64
}

// QueueCopies queues the copies of a relayed event in the outbox (rows) and records
// them in the event map (copies), as EnqueueMany and AddCopies do. On PostgreSQL both
// are one statement, one round trip on the path of every relayed message; SQLite,
// which has no round trips, runs the two.
func (db *Database) QueueCopies(ctx context.Context, origin RelayedEvent, rows []OutboxRow, copies []Copy, now time.Time) error {
	if db.Dialect != dbutil.Postgres || len(rows) == 0 || len(copies) == 0 {
		if err := db.Outbox.EnqueueMany(ctx, rows, now); err != nil {
			return err
		}
		return db.EventMap.AddCopies(ctx, origin.Room, origin.Event, origin.Author, origin.Conversation, copies)
	}
	args := make([]any, 0, len(rows)*insertOutboxRows.columns+len(copies)*insertEventMapRows.columns)
	args, err := outboxArgs(args, rows, now)
	if err != nil {
		return err
	}
	args = copyArgs(args, origin.Room, origin.Event, origin.Author, origin.Conversation, copies)
	if _, err = db.Exec(ctx, queueCopiesQuery(len(rows), len(copies)), args...); err == nil {
		notedEnqueued(ctx, rows)
	}
	return err
}

// queueCopiesStatements caches queueCopiesQuery's text by its numbers of rows.
var queueCopiesStatements sync.Map // [2]int -> string

// queueCopiesQuery inserts the outbox rows in a data-modifying WITH and the event
// map's rows after it, in one statement (PostgreSQL).
func queueCopiesQuery(rows, copies int) string {
	key := [2]int{rows, copies}
	if q, ok := queueCopiesStatements.Load(key); ok {
		return q.(string)
	}
	q := "WITH queued AS (" + insertOutboxRows.query(rows) + ") " +
		insertEventMapRows.queryFrom(copies, rows*insertOutboxRows.columns+1)
	stored, _ := queueCopiesStatements.LoadOrStore(key, q)
	return stored.(string)
}
