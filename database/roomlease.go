package database

import (
	"context"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

const (
	// The lease is taken, or kept, only if nobody else holds it unexpired.
	acquireLeaseQuery = `
		INSERT INTO room_lease (queue, room_id, holder, expires_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (queue, room_id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE room_lease.holder = excluded.holder OR room_lease.expires_at < $5`
	releaseLeaseQuery = `DELETE FROM room_lease WHERE queue = $1 AND room_id = $2 AND holder = $3`
	// An UPDATE rather than a SELECT: inside a transaction it locks the row until the
	// commit, so another replica cannot take the lease between the check and the commit.
	holdsLeaseQuery = `
		UPDATE room_lease SET holder = holder
		WHERE queue = $1 AND room_id = $2 AND holder = $3 AND expires_at >= $4`
)

// RoomLeaseQuery lets one replica at a time drain a room's queue.
type RoomLeaseQuery struct {
	db *dbutil.Database
}

// Acquire takes or renews the lease on a room's queue until now+ttl; false when
// another holder has it.
func (q *RoomLeaseQuery) Acquire(ctx context.Context, queue string, roomID id.RoomID, holder string, now time.Time, ttl time.Duration) (bool, error) {
	res, err := q.db.Exec(ctx, acquireLeaseQuery, queue, roomID, holder, now.Add(ttl).UnixMilli(), now.UnixMilli())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// Release gives the lease up, if this holder has it.
func (q *RoomLeaseQuery) Release(ctx context.Context, queue string, roomID id.RoomID, holder string) error {
	_, err := q.db.Exec(ctx, releaseLeaseQuery, queue, roomID, holder)
	return err
}

// Holds tells whether holder has an unexpired lease on a room's queue. Called inside a
// transaction, it keeps the lease row locked until that transaction ends.
func (q *RoomLeaseQuery) Holds(ctx context.Context, queue string, roomID id.RoomID, holder string, now time.Time) (bool, error) {
	res, err := q.db.Exec(ctx, holdsLeaseQuery, queue, roomID, holder, now.UnixMilli())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
