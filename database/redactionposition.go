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

// RedactionPosition is the /messages token of a desk room up to which its
// redactions are filed in the inbox.
type RedactionPosition struct {
	RoomID   id.RoomID
	Position string
}

func (p *RedactionPosition) Scan(row dbutil.Scannable) (*RedactionPosition, error) {
	return dbutil.ValueOrErr(p, row.Scan(&p.RoomID, &p.Position))
}

// RedactionPositionQuery keeps the desk rooms' redaction positions.
type RedactionPositionQuery struct {
	*dbutil.QueryHelper[*RedactionPosition]
}

func newRedactionPositionQuery(db *dbutil.Database) *RedactionPositionQuery {
	return &RedactionPositionQuery{dbutil.MakeQueryHelper(db, func(*dbutil.QueryHelper[*RedactionPosition]) *RedactionPosition {
		return &RedactionPosition{}
	})}
}

// All returns every stored position by room.
func (q *RedactionPositionQuery) All(ctx context.Context) (map[id.RoomID]string, error) {
	positions, err := dbutil.RowIterAsMap(q.QueryManyIter(ctx, allRedactionPositionsQuery), func(p *RedactionPosition) (id.RoomID, string) {
		return p.RoomID, p.Position
	})
	if err != nil {
		return nil, err
	}
	return positions, nil
}

// Save stores a room's position; call it only once everything before it is filed.
func (q *RedactionPositionQuery) Save(ctx context.Context, p *RedactionPosition) error {
	return q.Exec(ctx, saveRedactionPositionQuery, p.RoomID, p.Position)
}

// Forget drops the position of a room that is no longer watched.
func (q *RedactionPositionQuery) Forget(ctx context.Context, roomID id.RoomID) error {
	return q.Exec(ctx, forgetRedactionPositionQuery, roomID)
}
