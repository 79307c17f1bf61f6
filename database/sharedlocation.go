package database

import (
	"context"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

const (
	insertSharedLocationQuery = `
		INSERT INTO shared_location (room_id, event_id, conversation_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`
	sharedLocationsQuery = `
		SELECT room_id, event_id, conversation_id FROM shared_location
		WHERE conversation_id = $1 AND room_id = $2 ORDER BY event_id`
	forgetSharedLocationQuery = `DELETE FROM shared_location WHERE conversation_id = $1`
)

// SharedLocation is an event of a customer room, in a conversation, that shared the
// customer's location.
type SharedLocation struct {
	RoomID       id.RoomID
	EventID      id.EventID
	Conversation int64
}

func (l *SharedLocation) Scan(row dbutil.Scannable) (*SharedLocation, error) {
	return dbutil.ValueOrErr(l, row.Scan(&l.RoomID, &l.EventID, &l.Conversation))
}

// SharedLocationQuery keeps which of a customer's events in a conversation shared
// their location, so that a withdrawal of location can take back their copies.
type SharedLocationQuery struct {
	*dbutil.QueryHelper[*SharedLocation]
}

func newSharedLocationQuery(db *dbutil.Database) *SharedLocationQuery {
	return &SharedLocationQuery{dbutil.MakeQueryHelper(db, func(*dbutil.QueryHelper[*SharedLocation]) *SharedLocation {
		return &SharedLocation{}
	})}
}

// Add records a shared location; one recorded already is left as it is.
func (q *SharedLocationQuery) Add(ctx context.Context, l *SharedLocation) error {
	return q.Exec(ctx, insertSharedLocationQuery, l.RoomID, l.EventID, l.Conversation)
}

// Of lists the locations shared from the customer room in a conversation, by event ID.
func (q *SharedLocationQuery) Of(ctx context.Context, conversation int64, room id.RoomID) ([]*SharedLocation, error) {
	return q.QueryMany(ctx, sharedLocationsQuery, conversation, room)
}

// Forget drops a conversation's shared locations (their copies are taken back).
func (q *SharedLocationQuery) Forget(ctx context.Context, conversation int64) error {
	return q.Exec(ctx, forgetSharedLocationQuery, conversation)
}
