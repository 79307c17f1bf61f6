package transport

import (
	"context"
	"slices"
	"time"

	"maunium.net/go/mautrix/id"
)

// A runner keeps a room's lease between turns rather than releasing it when the room
// runs dry: under load a room has its next turn a few milliseconds later, and taking
// the lease again each time would cost two statements per turn (the release and the
// take). A kept lease with no turn coming is released once it has lain idle for
// leaseLinger, many at once. Another replica that wants the room meanwhile finds it
// held, and tries again shortly after (tryAgainLater) instead of waiting for its poll.

const (
	// keepFor is how long after it was taken a kept lease is used without renewal: well
	// inside LeaseTTL, so that it cannot run out during a turn before the renewal ticks.
	keepFor = leaseRenewal
	// leaseLinger is how long a kept lease may lie idle before it is released.
	leaseLinger = 200 * time.Millisecond
	// maxContestedTries bounds the early tries at a room another replica holds; after
	// them the poll finds it.
	maxContestedTries = 3
	// releaseChunk bounds the rooms released by one statement.
	releaseChunk = 256
)

// claimKept tells whether the room's lease is kept and fresh, for a turn about to
// start: the lease then stays out of the idle releases until the turn ends. A release
// of the room under way is waited for, so that the turn takes the lease anew after it.
func (r *roomRunner) claimKept(ctx context.Context, roomID id.RoomID) bool {
	r.mu.Lock()
	released := r.releasing[roomID]
	r.mu.Unlock()
	if released != nil {
		select {
		case <-released:
		case <-ctx.Done():
			return false
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.idle, roomID)
	at, ok := r.kept[roomID]
	return ok && time.Since(at) < keepFor
}

// keep notes that the lease on a room was just taken or renewed.
func (r *roomRunner) keep(roomID id.RoomID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.kept[roomID] = time.Now()
	delete(r.contested, roomID)
}

// rest keeps the lease of a room whose turn ended with nothing left, for leaseLinger.
func (r *roomRunner) rest(roomID id.RoomID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.kept[roomID]; ok {
		r.idle[roomID] = time.Now()
	}
}

// forget drops a lease that is not held any more (or is about to be released).
func (r *roomRunner) forget(roomID id.RoomID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.kept, roomID)
	delete(r.idle, roomID)
}

// tryAgainLater starts a room that another replica held once more, a little after
// that replica would have released it had it been lying idle.
func (r *roomRunner) tryAgainLater(roomID id.RoomID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.contested[roomID]
	if n >= maxContestedTries {
		delete(r.contested, roomID)
		return
	}
	r.contested[roomID] = n + 1
	time.AfterFunc(2*leaseLinger<<n, func() { r.Hand(roomID) })
}

// releaseIdleLoop releases the leases that have lain idle long enough, until ctx ends.
func (r *roomRunner) releaseIdleLoop(ctx context.Context) {
	ticker := time.NewTicker(leaseLinger / 2)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			r.guard.run(ctx, "lease release", func() { r.releaseIdle(ctx, time.Now().Add(-leaseLinger)) })
		}
	}
}

// releaseIdle releases the kept leases idle since before cutoff (all kept leases for a
// zero cutoff: stopping).
func (r *roomRunner) releaseIdle(ctx context.Context, cutoff time.Time) {
	r.mu.Lock()
	var rooms []id.RoomID
	for roomID := range r.kept {
		since, idle := r.idle[roomID]
		if cutoff.IsZero() || idle && since.Before(cutoff) {
			rooms = append(rooms, roomID)
		}
	}
	if len(rooms) == 0 {
		r.mu.Unlock()
		return
	}
	released := make(chan struct{})
	for _, roomID := range rooms {
		delete(r.kept, roomID)
		delete(r.idle, roomID)
		r.releasing[roomID] = released
	}
	r.mu.Unlock()
	for chunk := range slices.Chunk(rooms, releaseChunk) {
		r.lease.ReleaseMany(context.WithoutCancel(ctx), chunk)
	}
	r.mu.Lock()
	for _, roomID := range rooms {
		delete(r.releasing, roomID)
	}
	r.mu.Unlock()
	close(released)
}
