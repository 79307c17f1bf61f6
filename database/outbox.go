package database

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lib/pq"
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
		FROM outbox WHERE room_id = $1 AND sent_at IS NULL ORDER BY id LIMIT $2`
	sentByKeyQuery = `SELECT event_id FROM outbox WHERE dedupe_key = $1`
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
	// copies is the event map, whose rows of a copy a send completes.
	copies *EventMapQuery
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
	if err == nil {
		enqueuedIn(ctx).add(roomID)
	}
	return err
}

// OutboxRow is one event for EnqueueMany.
type OutboxRow struct {
	DedupeKey string
	RoomID    id.RoomID
	Sender    id.UserID
	EventType event.Type
	Content   any
	// RefsFrom is the room whose event IDs Content refers to ("": none).
	RefsFrom id.RoomID
}

// EnqueueMany records several events in one statement (the copies of one relayed
// event): one round trip, and one statement to parse, instead of one per row. Rows
// are numbered in the order given, which is the order they are sent in per room.
func (q *OutboxQuery) EnqueueMany(ctx context.Context, rows []OutboxRow, now time.Time) error {
	if len(rows) == 0 {
		return nil
	}
	args, err := outboxArgs(make([]any, 0, len(rows)*insertOutboxRows.columns), rows, now)
	if err != nil {
		return err
	}
	if _, err = q.db.Exec(ctx, insertOutboxRows.query(len(rows)), args...); err == nil {
		notedEnqueued(ctx, rows)
	}
	return err
}

// outboxArgs appends the arguments of insertOutboxRows for rows.
func outboxArgs(args []any, rows []OutboxRow, now time.Time) ([]any, error) {
	for _, r := range rows {
		data, err := json.Marshal(r.Content)
		if err != nil {
			return nil, err
		}
		args = append(args, r.DedupeKey, r.RoomID, r.Sender, r.EventType.Type, string(data), now.UnixMilli(), nullString(r.RefsFrom))
	}
	return args, nil
}

// notedEnqueued tells the caller's collector (CollectEnqueued) of the rows' rooms.
func notedEnqueued(ctx context.Context, rows []OutboxRow) {
	for _, r := range rows {
		enqueuedIn(ctx).add(r.RoomID)
	}
}

var insertOutboxRows = multiRowInsert{
	into:    "INSERT INTO outbox (dedupe_key, room_id, sender, event_type, content, created_at, refs_from)",
	columns: 7,
	casts:   map[int]string{5: "::bigint"},
	tail:    " ON CONFLICT (dedupe_key) DO NOTHING",
}

// Head returns the room's first unsent event, or nil.
func (q *OutboxQuery) Head(ctx context.Context, roomID id.RoomID) (*OutboxEntry, error) {
	entry, err := (&OutboxEntry{}).Scan(q.db.QueryRow(ctx, headOutboxQuery, roomID, 1))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return entry, err
}

// Heads returns up to limit of the room's first unsent events, in order.
func (q *OutboxQuery) Heads(ctx context.Context, roomID id.RoomID, limit int) ([]*OutboxEntry, error) {
	rows, err := q.db.Query(ctx, headOutboxQuery, roomID, limit)
	return dbutil.NewRowIterWithError(rows, func(row dbutil.Scannable) (*OutboxEntry, error) {
		return (&OutboxEntry{}).Scan(row)
	}, err).AsList()
}

// Sent is an outbox row sent, with the event ID the homeserver gave it.
type Sent struct {
	ID int64
	// Key is the row's dedupe key, which the event map's rows of its copy name.
	Key     string
	EventID id.EventID
}

var (
	markSentManyQuery = updateByKey("outbox", "event_id", "id", ", sent_at = $1, last_error = NULL", 2)
	// On PostgreSQL the rows marked sent complete the event map in the same statement.
	markSentCompletingQuery = &variadicQuery{build: func(sb *strings.Builder, n int) {
		markSentCompleting(sb, n, "")
	}}
	markSentCompletingGuardedQuery = &variadicQuery{build: func(sb *strings.Builder, n int) {
		markSentCompleting(sb, n, leaseCTE(1+2*n)+", ")
	}}
)

// markSentCompleting writes the statement that marks n rows sent (only while the lease
// of the lease CTE, when given, is held) and sets the event IDs of their copies in
// the event map; it returns the rows marked.
func markSentCompleting(sb *strings.Builder, n int, leaseCTE string) {
	sb.WriteString("WITH " + leaseCTE + "marked AS (")
	sb.WriteString(markSentManyQuery.query(n))
	if leaseCTE != "" {
		sb.WriteString(leaseExists)
	}
	sb.WriteString(` RETURNING dedupe_key, event_id), copies AS (UPDATE event_map SET copy_event = marked.event_id
		FROM marked WHERE event_map.outbox_key = marked.dedupe_key) SELECT COUNT(*) FROM marked`)
}

// MarkSentMany marks several rows sent in one statement, with the event IDs their
// copies got in the event map, only while lease is held when one is given (false
// when it was not).
func (q *OutboxQuery) MarkSentMany(ctx context.Context, sent []Sent, now time.Time, lease *LeaseHeld) (bool, error) {
	ids, events, keys := make([]int64, len(sent)), make([]id.EventID, len(sent)), make([]string, len(sent))
	for i, s := range sent {
		ids[i], events[i], keys[i] = s.ID, s.EventID, s.Key
	}
	args := pairArgs([]any{now.UnixMilli()}, ids, events)
	if q.db.Dialect == dbutil.Postgres {
		query := markSentCompletingQuery.query(len(sent))
		if lease != nil {
			query, args = markSentCompletingGuardedQuery.query(len(sent)), lease.args(args)
		}
		var marked int
		err := q.db.QueryRow(ctx, query, args...).Scan(&marked)
		return marked > 0, err
	}
	held, err := execGuarded(ctx, q.db, lease, &leaseGuarded, markSentManyQuery.query(len(sent)), args...)
	if err != nil || !held {
		return held, err
	}
	return true, q.copies.SetCopies(ctx, keys, events)
}

// markSentHeldQuery marks rows of several rooms sent and completes their copies in the
// event map, each room's rows only while its lease is held, and returns the rooms
// held. Its arguments are arrays, so one prepared statement serves every batch.
//
// The LIMIT, which keeps every row, is for the planner: without it PostgreSQL's
// generic plan counts ten rows from an array parameter and costs more than a custom
// plan of the two or three a batch has, so PostgreSQL plans the statement again on
// every call (0.2 ms, more than it takes to run). With the LIMIT the generic plan
// counts one row and is kept; its shape is the custom plans' (index scans per row).
//
// $3, the leases' time, is also the rows' time sent.
const markSentHeldQuery = `
	WITH ` + leasesCTE + `, marked AS (
		UPDATE outbox SET event_id = sent.event_id, sent_at = $3, last_error = NULL
		FROM (SELECT * FROM unnest($5::bigint[], $6::text[]) LIMIT cardinality($5::bigint[])) AS sent (id, event_id)
		WHERE outbox.id = sent.id AND outbox.room_id IN (SELECT room_id FROM lease)
		RETURNING outbox.dedupe_key, outbox.event_id
	), copies AS (
		UPDATE event_map SET copy_event = marked.event_id FROM marked WHERE event_map.outbox_key = marked.dedupe_key
	)
	SELECT room_id FROM lease`

// MarkSentHeld is MarkSentMany for the rows of several rooms in one statement
// (PostgreSQL): the rows of a room are marked only while its lease is held. It
// returns the rooms held; the others have been lost to another replica.
func (q *OutboxQuery) MarkSentHeld(ctx context.Context, sent []Sent, leases LeasesHeld) (map[id.RoomID]bool, error) {
	ids, events := make([]int64, len(sent)), make([]string, len(sent))
	for i, s := range sent {
		ids[i], events[i] = s.ID, s.EventID.String()
	}
	rows, err := q.db.Query(ctx, markSentHeldQuery, append(leases.args(), pq.Array(ids), pq.Array(events))...)
	held, err := dbutil.NewRowIterWithError(rows, dbutil.ScanSingleColumn[id.RoomID], err).AsList()
	if err != nil {
		return nil, err
	}
	out := make(map[id.RoomID]bool, len(held))
	for _, room := range held {
		out[room] = true
	}
	return out, nil
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

// Enqueued is the rooms that got outbox rows under a context (see CollectEnqueued).
type Enqueued struct {
	mu    sync.Mutex
	rooms []id.RoomID
}

type enqueuedKey struct{}

// CollectEnqueued returns a context under which every outbox row queued is noted, so
// that once the writes have committed the rooms concerned can be sent at once
// instead of found by a poll. A nested call collects into the outer one's list too.
func CollectEnqueued(ctx context.Context) (context.Context, *Enqueued) {
	e := &Enqueued{}
	return context.WithValue(ctx, enqueuedKey{}, &enqueuedChain{e, enqueuedIn(ctx)}), e
}

// enqueuedChain links a collection to the one around it.
type enqueuedChain struct {
	e     *Enqueued
	outer *enqueuedChain
}

func enqueuedIn(ctx context.Context) *enqueuedChain {
	c, _ := ctx.Value(enqueuedKey{}).(*enqueuedChain)
	return c
}

func (c *enqueuedChain) add(roomID id.RoomID) {
	for ; c != nil; c = c.outer {
		c.e.mu.Lock()
		if !slices.Contains(c.e.rooms, roomID) {
			c.e.rooms = append(c.e.rooms, roomID)
		}
		c.e.mu.Unlock()
	}
}

// Rooms are the rooms noted so far.
func (e *Enqueued) Rooms() []id.RoomID {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.rooms)
}
