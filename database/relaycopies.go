package database

import (
	"context"
	"strings"
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

// InboxMark is an inbox entry to mark handled in the statement that writes what
// handling it queued, only while Lease is held (nil: no lease to check).
type InboxMark struct {
	Seq   int64
	At    time.Time
	Lease *LeaseHeld
}

// QueueCopiesMarking queues the copies as QueueCopies does and marks an inbox entry
// handled, atomically, only while the mark's lease is held: false, and nothing
// written, when it is not. On PostgreSQL this is one statement, which needs no
// transaction around it: a relayed message's whole commit in one round trip instead
// of four. The copies are guarded too, not only the mark: a replica that lost the
// room may have read a conversation that has moved on, and its copy would reach a
// desk room that is no longer the conversation's. Without a mark it is QueueCopies.
func (db *Database) QueueCopiesMarking(ctx context.Context, origin RelayedEvent, rows []OutboxRow, copies []Copy, now time.Time, mark *InboxMark) (bool, error) {
	if mark == nil {
		return true, db.QueueCopies(ctx, origin, rows, copies, now)
	}
	if db.Dialect != dbutil.Postgres || len(rows) == 0 || len(copies) == 0 {
		held := false
		err := db.DoTxn(ctx, nil, func(ctx context.Context) (err error) {
			if held, err = db.Inbox.MarkDoneHeld(ctx, mark.Seq, mark.At, mark.Lease); err != nil || !held {
				return err
			}
			return db.QueueCopies(ctx, origin, rows, copies, now)
		})
		return held && err == nil, err
	}
	args := append(make([]any, 0, 6+len(rows)*insertOutboxRows.columns+len(copies)*insertEventMapRows.columns),
		mark.Seq, mark.At.UnixMilli())
	if mark.Lease != nil {
		args = mark.Lease.args(args)
	}
	args, err := outboxArgs(args, rows, now)
	if err != nil {
		return false, err
	}
	args = copyArgs(args, origin.Room, origin.Event, origin.Author, origin.Conversation, copies)
	q := queueMarkingQuery(db.Inbox.markDone, len(rows), len(copies), mark.Lease != nil)
	var handled int
	if err = db.QueryRow(ctx, q, args...).Scan(&handled); err != nil || handled == 0 {
		return false, err
	}
	notedEnqueued(ctx, rows)
	return true, nil
}

// queueMarkingStatements caches queueMarkingQuery's text by its numbers of rows and
// whether it checks a lease.
var queueMarkingStatements sync.Map // queueMarkingShape -> string

type queueMarkingShape struct {
	rows, copies int
	leased       bool
}

// queueMarkingQuery marks the entry handled (markDone, arguments $1 and $2; with the
// lease checked, leaseCTE's next) in a data-modifying WITH, and inserts the
// outbox and event-map rows only if it did; it returns how many entries it marked.
func queueMarkingQuery(markDone string, rows, copies int, leased bool) string {
	shape := queueMarkingShape{rows, copies, leased}
	if q, ok := queueMarkingStatements.Load(shape); ok {
		return q.(string)
	}
	var sb strings.Builder
	sb.WriteString("WITH ")
	next, guard := 3, ""
	if leased {
		sb.WriteString(leaseCTE(2) + ", ")
		next, guard = next+leaseArgs, leaseExists
	}
	sb.WriteString("handled AS (" + markDone + guard + " RETURNING 1), queued AS (")
	insertOutboxRows.insertIf(&sb, rows, next, "handled")
	sb.WriteString("), mapped AS (")
	insertEventMapRows.insertIf(&sb, copies, next+rows*insertOutboxRows.columns, "handled")
	sb.WriteString(") SELECT COUNT(*) FROM handled")
	stored, _ := queueMarkingStatements.LoadOrStore(shape, sb.String())
	return stored.(string)
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
