package database

import (
	"context"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

const (
	allRedactionPositionsQuery = `SELECT room_id, position FROM redaction_position`
	saveRedactionPositionQuery = `
		INSERT INTO redaction_position (room_id, position) VALUES ($1, $2)
		ON CONFLICT (room_id) DO UPDATE SET position = excluded.position`
	forgetRedactionPositionQuery = `DELETE FROM redaction_position WHERE room_id = $1`
)

// RedactionPositionQuery keeps, per desk room, the /messages token up to which its
// redactions are filed in the inbox.
type RedactionPositionQuery struct {
	db *dbutil.Database
}

// RedactionPositions is the desk rooms' redaction positions.
func (db *Database) RedactionPositions() *RedactionPositionQuery {
	return &RedactionPositionQuery{db.Database}
}

// All returns every stored position by room.
func (q *RedactionPositionQuery) All(ctx context.Context) (map[id.RoomID]string, error) {
	rows, err := q.db.Query(ctx, allRedactionPositionsQuery)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[id.RoomID]string{}
	for rows.Next() {
		var room id.RoomID
		var position string
		if err = rows.Scan(&room, &position); err != nil {
			return nil, err
		}
		out[room] = position
	}
	return out, rows.Err()
}

// Save stores a room's position; call it only once everything before it is filed.
func (q *RedactionPositionQuery) Save(ctx context.Context, roomID id.RoomID, position string) error {
	_, err := q.db.Exec(ctx, saveRedactionPositionQuery, roomID, position)
	return err
}

// Forget drops the position of a room that is no longer watched.
func (q *RedactionPositionQuery) Forget(ctx context.Context, roomID id.RoomID) error {
	_, err := q.db.Exec(ctx, forgetRedactionPositionQuery, roomID)
	return err
}
