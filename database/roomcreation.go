package database

import (
	"context"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

const (
	beginRoomCreationQuery = `
		INSERT INTO room_creation (token, tenant_id, purpose, creator, run, started_at)
		VALUES ($1, $2, $3, $4, $5, $6)`
	finishRoomCreationQuery = `DELETE FROM room_creation WHERE token = $1`
	// Every row of an earlier run when the caller is the only process; otherwise only
	// rows older than the grace, since another replica may still be creating.
	abandonedRoomCreationsQuery = `
		SELECT token, tenant_id, purpose, creator, run, started_at FROM room_creation
		WHERE ($1 AND run <> $2) OR started_at < $3
		ORDER BY started_at`
	// Every table that names a room the service uses.
	roomRecordedQuery = `
		SELECT EXISTS (SELECT 1 FROM customer_room WHERE room_id = $1)
			OR EXISTS (SELECT 1 FROM conversation WHERE desk_room_id = $1)
			OR EXISTS (SELECT 1 FROM conversation WHERE side_room_id = $1)
			OR EXISTS (SELECT 1 FROM staff WHERE control_room_id = $1)
			OR EXISTS (SELECT 1 FROM tenant_space WHERE room_id = $1)`
)

// RoomCreation is a room the service began to create and has not recorded yet.
type RoomCreation struct {
	// Token is written into the room's m.room.create content, where it is found again.
	Token    string
	TenantID string
	// Purpose says what the room is for ("control", "space", "desk", "side").
	Purpose   string
	Creator   id.UserID
	Run       string
	StartedAt time.Time
}

// RoomCreationQuery keeps the room creations under way (see 12-room-creation.sql).
type RoomCreationQuery struct {
	*dbutil.QueryHelper[*RoomCreation]
}

func newRoomCreationQuery(db *dbutil.Database) *RoomCreationQuery {
	return &RoomCreationQuery{dbutil.MakeQueryHelper(db, func(*dbutil.QueryHelper[*RoomCreation]) *RoomCreation { return &RoomCreation{} })}
}

func (c *RoomCreation) Scan(row dbutil.Scannable) (*RoomCreation, error) {
	var started int64
	if err := row.Scan(&c.Token, &c.TenantID, &c.Purpose, &c.Creator, &c.Run, &started); err != nil {
		return nil, err
	}
	c.StartedAt = time.UnixMilli(started)
	return c, nil
}

// Begin notes a creation before the homeserver is asked to create the room.
func (q *RoomCreationQuery) Begin(ctx context.Context, c *RoomCreation) error {
	return q.Exec(ctx, beginRoomCreationQuery, c.Token, c.TenantID, c.Purpose, c.Creator, c.Run, c.StartedAt.UnixMilli())
}

// Finish forgets a creation: call it in the transaction that records the room, or
// once an abandoned room is cleaned up (or was never made).
func (q *RoomCreationQuery) Finish(ctx context.Context, token string) error {
	return q.Exec(ctx, finishRoomCreationQuery, token)
}

// Abandoned lists the creations that will never be recorded: with onlyProcess, every
// one of a run other than run; in any case, every one started before startedBefore.
func (q *RoomCreationQuery) Abandoned(ctx context.Context, onlyProcess bool, run string, startedBefore time.Time) ([]*RoomCreation, error) {
	return q.QueryMany(ctx, abandonedRoomCreationsQuery, onlyProcess, run, startedBefore.UnixMilli())
}

// Recorded tells whether any table names the room as one the service uses.
func (q *RoomCreationQuery) Recorded(ctx context.Context, roomID id.RoomID) (bool, error) {
	var recorded bool
	err := q.GetDB().QueryRow(ctx, roomRecordedQuery, roomID).Scan(&recorded)
	return recorded, err
}
