package transport

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/database"
)

const (
	// LeaseTTL is how long a replica's lease on a room lasts without renewal: a replica
	// that dies holds its rooms this long.
	LeaseTTL = time.Minute
	// leaseRenewal is how often a held lease is renewed while its room is worked on.
	leaseRenewal = 20 * time.Second
)

// Lease is the right of one replica at a time to work on a room's queue, kept in the
// database shared by the replicas.
type Lease struct {
	q      *database.RoomLeaseQuery
	queue  string
	holder string
	now    func() time.Time
}

// NewLease makes a lease on the rooms of one queue (a name of the caller's choosing)
// for holder.
func NewLease(q *database.RoomLeaseQuery, queue, holder string, now func() time.Time) *Lease {
	return &Lease{q: q, queue: queue, holder: holder, now: now}
}

// Acquire takes or renews the lease on a room; false when another replica holds it.
func (l *Lease) Acquire(ctx context.Context, roomID id.RoomID) (bool, error) {
	return l.q.Acquire(ctx, l.queue, roomID, l.holder, l.now(), LeaseTTL)
}

// Release gives the lease up, if this replica holds it.
func (l *Lease) Release(ctx context.Context, roomID id.RoomID) {
	if err := l.q.Release(ctx, l.queue, roomID, l.holder); err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Stringer("room_id", roomID).Msg("Could not release a room's lease; it expires by itself")
	}
}

// ReleaseMany gives up the leases on several rooms, those this replica holds.
func (l *Lease) ReleaseMany(ctx context.Context, rooms []id.RoomID) {
	if err := l.q.ReleaseMany(ctx, l.queue, rooms, l.holder); err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Int("rooms", len(rooms)).Msg("Could not release rooms' leases; they expire by themselves")
	}
}

// leaseLossKey carries the function that stops a room's turn when its lease is found
// lost (a commit or a record refused for it).
type leaseLossKey struct{}

func withLeaseLoss(ctx context.Context, stop func()) context.Context {
	return context.WithValue(ctx, leaseLossKey{}, stop)
}

// leaseLost stops the turn of ctx's room: another replica holds the room now, and the
// runner must take the lease anew before it works on the room again.
func leaseLost(ctx context.Context) {
	if stop, ok := ctx.Value(leaseLossKey{}).(func()); ok {
		stop()
	}
}

// Held checks, inside the caller's transaction, that this replica still holds the
// room; the lease row stays locked until that transaction ends.
func (l *Lease) Held(ctx context.Context, roomID id.RoomID) error {
	ok, err := l.q.Holds(ctx, l.queue, roomID, l.holder, l.now())
	if err != nil {
		return err
	} else if !ok {
		return ErrLeaseLost
	}
	return nil
}

// NewHolder names this process among replicas (host, pid and a random part).
func NewHolder() string {
	host, _ := os.Hostname()
	var random [6]byte
	_, _ = rand.Read(random[:])
	return fmt.Sprintf("%s/%d/%x", host, os.Getpid(), random)
}

// heldFor is the check of this lease on a room, for a write that makes it in the same
// statement.
func (l *Lease) heldFor(roomID id.RoomID) *database.LeaseHeld {
	return &database.LeaseHeld{Queue: l.queue, RoomID: roomID, Holder: l.holder, Now: l.now()}
}
