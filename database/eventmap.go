package database

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

const (
	// A row belongs to the conversation it is given or, for a relayed copy, to the
	// conversation whose desk or side room it joins: every relay has one at one end.
	insertEventMapQuery = `
		INSERT INTO event_map (origin_room, origin_event, copy_room, outbox_key, author, conversation_id)
		VALUES ($1, $2, $3, $4, $5, COALESCE($6, (SELECT MIN(id) FROM conversation
			WHERE desk_room_id IN ($1, $3) OR side_room_id IN ($1, $3))))
		ON CONFLICT DO NOTHING`
	setCopyEventQuery = `UPDATE event_map SET copy_event = $2 WHERE outbox_key = $1`
	copyOfQuery       = `SELECT copy_event FROM event_map WHERE origin_room = $1 AND origin_event = $2 AND copy_room = $3`
	originOfQuery     = `SELECT origin_room, origin_event FROM event_map WHERE copy_room = $1 AND copy_event = $2`
	authorOfQuery     = `SELECT author FROM event_map WHERE copy_room = $1 AND copy_event = $2`
)

// EventMapQuery maps relayed events between rooms.
type EventMapQuery struct {
	db *dbutil.Database
}

// Add records that the outbox entry outboxKey copies an event into copyRoom.
func (q *EventMapQuery) Add(ctx context.Context, originRoom id.RoomID, originEvent id.EventID, copyRoom id.RoomID, outboxKey string, author id.UserID) error {
	_, err := q.db.Exec(ctx, insertEventMapQuery, originRoom, originEvent, copyRoom, outboxKey, author, nil)
	return err
}

// Copy is one relayed copy for AddCopies: the outbox row that sends an origin event
// into a room.
type Copy struct {
	Room      id.RoomID
	OutboxKey string
}

// AddCopies records, in one statement, the copies of one origin event queued for a
// conversation.
func (q *EventMapQuery) AddCopies(ctx context.Context, originRoom id.RoomID, originEvent id.EventID, author id.UserID, conversation int64, copies []Copy) error {
	if len(copies) == 0 {
		return nil
	}
	args := copyArgs(make([]any, 0, len(copies)*insertEventMapRows.columns), originRoom, originEvent, author, conversation, copies)
	_, err := q.db.Exec(ctx, insertEventMapRows.query(len(copies)), args...)
	return err
}

// copyArgs appends the arguments of insertEventMapRows for copies.
func copyArgs(args []any, originRoom id.RoomID, originEvent id.EventID, author id.UserID, conversation int64, copies []Copy) []any {
	for _, c := range copies {
		args = append(args, originRoom, originEvent, c.Room, c.OutboxKey, author, conversation)
	}
	return args
}

var insertEventMapRows = multiRowInsert{
	into:    "INSERT INTO event_map (origin_room, origin_event, copy_room, outbox_key, author, conversation_id)",
	columns: 6,
	casts:   map[int]string{5: "::bigint"},
	tail:    " ON CONFLICT DO NOTHING",
}

// AddOwn records an event the service queues itself under a name (which is also its
// outbox key), so that later events can refer to it by that name. conversation is
// the conversation it belongs to (0: the one of the room, if it is a staff room).
func (q *EventMapQuery) AddOwn(ctx context.Context, room id.RoomID, name string, sender id.UserID, conversation int64) error {
	conv := sql.NullInt64{Int64: conversation, Valid: conversation != 0}
	_, err := q.db.Exec(ctx, insertEventMapQuery, room, name, room, name, sender, conv)
	return err
}

// SetCopy records the event ID of a sent copy.
func (q *EventMapQuery) SetCopy(ctx context.Context, outboxKey string, copyEvent id.EventID) error {
	_, err := q.db.Exec(ctx, setCopyEventQuery, outboxKey, copyEvent)
	return err
}

var setCopiesQuery = updateByKey("event_map", "copy_event", "outbox_key", "", 1)

// SetCopies records the event IDs of several sent copies, by their outbox keys, in
// one statement.
func (q *EventMapQuery) SetCopies(ctx context.Context, outboxKeys []string, copyEvents []id.EventID) error {
	_, err := q.db.Exec(ctx, setCopiesQuery.query(len(outboxKeys)), pairArgs(nil, outboxKeys, copyEvents)...)
	return err
}

// Translate finds the event in room `to` that stands for event evt of room `from`:
// its copy if evt is an origin, its origin if evt is a copy, or another copy of the
// same origin. "" when there is none (evt was never relayed, e.g. a bot prompt).
func (q *EventMapQuery) Translate(ctx context.Context, from id.RoomID, evt id.EventID, to id.RoomID) (id.EventID, error) {
	if copyEvt, err := q.copyOf(ctx, from, evt, to); copyEvt != "" || err != nil {
		return copyEvt, err
	}
	var originRoom id.RoomID
	var originEvent id.EventID
	err := q.db.QueryRow(ctx, originOfQuery, from, evt).Scan(&originRoom, &originEvent)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	} else if err != nil {
		return "", err
	}
	if originRoom == to {
		return originEvent, nil
	}
	return q.copyOf(ctx, originRoom, originEvent, to)
}

func (q *EventMapQuery) copyOf(ctx context.Context, origin id.RoomID, evt id.EventID, to id.RoomID) (id.EventID, error) {
	var copyEvt sql.NullString
	err := q.db.QueryRow(ctx, copyOfQuery, origin, evt, to).Scan(&copyEvt)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return id.EventID(copyEvt.String), err
}

// AuthorOf returns who really wrote the origin of a copy ("" if evt is no copy).
func (q *EventMapQuery) AuthorOf(ctx context.Context, copyRoom id.RoomID, copyEvent id.EventID) (id.UserID, error) {
	var author id.UserID
	err := q.db.QueryRow(ctx, authorOfQuery, copyRoom, copyEvent).Scan(&author)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return author, err
}

const hasOriginQuery = `SELECT EXISTS (SELECT 1 FROM event_map WHERE origin_room = $1 AND origin_event = $2)`

// Has tells whether an event of room was relayed or queued under that name anywhere.
func (q *EventMapQuery) Has(ctx context.Context, room id.RoomID, origin id.EventID) (bool, error) {
	var exists bool
	err := q.db.QueryRow(ctx, hasOriginQuery, room, origin).Scan(&exists)
	return exists, err
}

// The service's own names in a room that start with a prefix (LIKE with the
// prefix's wildcards escaped).
const namedQuery = `
	SELECT origin_event FROM event_map WHERE origin_room = $1 AND copy_room = $1 AND origin_event LIKE $2 ESCAPE '\'
	ORDER BY origin_event`

// Named lists the names under which the service queued its own events in a room
// (AddOwn) that start with prefix, in name order.
func (q *EventMapQuery) Named(ctx context.Context, room id.RoomID, prefix string) ([]string, error) {
	pattern := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(prefix) + "%"
	rows, err := q.db.Query(ctx, namedQuery, room, pattern)
	return dbutil.NewRowIterWithError(rows, dbutil.ScanSingleColumn[string], err).AsList()
}

const pruneClosedEventMapQuery = `
	DELETE FROM event_map WHERE conversation_id IN (SELECT id FROM conversation WHERE status = 'closed' AND closed_at < $1)`

// PruneClosed deletes the rows of conversations closed before a time. Their staff
// rooms are read-only, so nothing refers to those copies any more.
func (q *EventMapQuery) PruneClosed(ctx context.Context, closedBefore time.Time) (int64, error) {
	res, err := q.db.Exec(ctx, pruneClosedEventMapQuery, closedBefore.UnixMilli())
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
