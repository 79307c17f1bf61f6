package database

import (
	"context"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

const (
	insertSharedLocationQuery = `
		INSERT INTO shared_location (room_id, event_id, conversation_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`
	sharedLocationsQuery      = `SELECT event_id FROM shared_location WHERE conversation_id = $1 AND room_id = $2 ORDER BY event_id`
	forgetSharedLocationQuery = `DELETE FROM shared_location WHERE conversation_id = $1`
)

// SharedLocationQuery keeps which of a customer's events in a conversation shared
// their location, so that a withdrawal of location can take back their copies.
type SharedLocationQuery struct {
	db *dbutil.Database
}

// SharedLocations are the locations customers shared, by event.
func (db *Database) SharedLocations() *SharedLocationQuery {
	return &SharedLocationQuery{db.Database}
}

// Add records that an event of the customer room shared the customer's location.
func (q *SharedLocationQuery) Add(ctx context.Context, conversation int64, room id.RoomID, evt id.EventID) error {
	_, err := q.db.Exec(ctx, insertSharedLocationQuery, room, evt, conversation)
	return err
}

// Of lists the events of the customer room that shared a location in a conversation.
func (q *SharedLocationQuery) Of(ctx context.Context, conversation int64, room id.RoomID) ([]id.EventID, error) {
	rows, err := q.db.Query(ctx, sharedLocationsQuery, conversation, room)
	return dbutil.NewRowIterWithError(rows, dbutil.ScanSingleColumn[id.EventID], err).AsList()
}

// Forget drops a conversation's shared locations (their copies are taken back).
func (q *SharedLocationQuery) Forget(ctx context.Context, conversation int64) error {
	_, err := q.db.Exec(ctx, forgetSharedLocationQuery, conversation)
	return err
}
