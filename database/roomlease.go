package database

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lib/pq"
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

var holdsLeasesQuery = &variadicQuery{build: func(sb *strings.Builder, n int) {
	sb.WriteString("UPDATE room_lease SET holder = holder WHERE holder = $1 AND expires_at >= $2 AND (queue, room_id) IN (")
	tuples(sb, n, 2, 3, nil)
	sb.WriteString(") RETURNING queue, room_id")
}}

var releaseLeasesQuery = &variadicQuery{build: func(sb *strings.Builder, n int) {
	sb.WriteString("DELETE FROM room_lease WHERE queue = $1 AND holder = $2 AND room_id IN (")
	placeholders(sb, n, 3, 1)
	sb.WriteString(")")
}}

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

// ReleaseMany is Release for several rooms in one statement.
func (q *RoomLeaseQuery) ReleaseMany(ctx context.Context, queue string, rooms []id.RoomID, holder string) error {
	_, err := q.db.Exec(ctx, releaseLeasesQuery.query(len(rooms)), listArgs([]any{queue, holder}, rooms)...)
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

// QueueRoom is a room's lease on one queue.
type QueueRoom struct {
	Queue string
	Room  id.RoomID
}

// HoldsMany is Holds for several leases, of any queues, in one statement: those of the
// list that holder has unexpired, their lease rows locked until the transaction ends.
func (q *RoomLeaseQuery) HoldsMany(ctx context.Context, leases []QueueRoom, holder string, now time.Time) (map[QueueRoom]bool, error) {
	queues, rooms := make([]string, len(leases)), make([]id.RoomID, len(leases))
	for i, l := range leases {
		queues[i], rooms[i] = l.Queue, l.Room
	}
	rows, err := q.db.Query(ctx, holdsLeasesQuery.query(len(leases)), pairArgs([]any{holder, now.UnixMilli()}, queues, rooms)...)
	held, err := dbutil.NewRowIterWithError(rows, func(row dbutil.Scannable) (QueueRoom, error) {
		var l QueueRoom
		return l, row.Scan(&l.Queue, &l.Room)
	}, err).AsList()
	if err != nil {
		return nil, err
	}
	out := make(map[QueueRoom]bool, len(held))
	for _, l := range held {
		out[l] = true
	}
	return out, nil
}

// LeaseHeld names a lease that a write must find held: the write then changes rows
// only if it is, in the same statement (one round trip instead of two).
type LeaseHeld struct {
	Queue  string
	RoomID id.RoomID
	Holder string
	Now    time.Time
}

// LeasesHeld names the leases of one holder on several rooms of a queue that a write
// must find held, each for its room's rows.
type LeasesHeld struct {
	Queue  string
	Rooms  []id.RoomID
	Holder string
	Now    time.Time
}

// leasesCTE is leaseCTE for a LeasesHeld: the WITH query "lease" that checks (and
// locks) the leases of its rooms, returning the room_id of each held; its arguments
// (LeasesHeld.args) are $1 to $4.
const leasesCTE = `lease AS (
		UPDATE room_lease SET holder = holder
		WHERE queue = $1 AND holder = $2 AND expires_at >= $3 AND room_id = ANY($4::text[])
		RETURNING room_id
	)`

func (l LeasesHeld) args() []any {
	rooms := make([]string, len(l.Rooms))
	for i, r := range l.Rooms {
		rooms[i] = r.String()
	}
	return []any{l.Queue, l.Holder, l.Now.UnixMilli(), pq.Array(rooms)}
}

// guard wraps an UPDATE (with a WHERE clause and n arguments) so that it changes rows
// only while the lease is held, locking the lease row until the transaction ends.
func (l *LeaseHeld) guard(update string, n int) string {
	return "WITH " + leaseCTE(n) + " " + update + leaseExists
}

// leaseCTE is the WITH query "lease" that checks (and locks) a LeaseHeld, its
// arguments (LeaseHeld.args) numbered after n others; a statement then adds
// leaseExists to its WHERE clause.
func leaseCTE(n int) string {
	p := func(i int) string { return "$" + strconv.Itoa(n+i) }
	return "lease AS (UPDATE room_lease SET holder = holder WHERE queue = " + p(1) + " AND room_id = " + p(2) +
		" AND holder = " + p(3) + " AND expires_at >= " + p(4) + " RETURNING 1)"
}

const leaseExists = " AND EXISTS (SELECT 1 FROM lease)"

// leaseArgs is how many arguments leaseCTE takes (LeaseHeld.args).
const leaseArgs = 4

func (l *LeaseHeld) args(args []any) []any {
	return append(args, l.Queue, l.RoomID, l.Holder, l.Now.UnixMilli())
}

// execGuarded runs an UPDATE, guarded by a lease when one is given: false when the
// lease was not held (or no row matched).
func execGuarded(ctx context.Context, db *dbutil.Database, lease *LeaseHeld, guarded *sync.Map, update string, args ...any) (bool, error) {
	if lease == nil {
		_, err := db.Exec(ctx, update, args...)
		return true, err
	}
	q, ok := guarded.Load(update)
	if !ok {
		q, _ = guarded.LoadOrStore(update, lease.guard(update, len(args)))
	}
	res, err := db.Exec(ctx, q.(string), lease.args(args)...)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}
