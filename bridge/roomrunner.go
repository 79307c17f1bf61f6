package bridge

import (
	"context"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"
)

// roomQueue is a durable per-room ordered queue (the inbox or the outbox).
type roomQueue interface {
	DueRooms(ctx context.Context, now time.Time) ([]id.RoomID, error)
	NextDue(ctx context.Context, now time.Time) (time.Time, error)
}

// roomRunner drains a roomQueue: rooms run in parallel, each room strictly in order,
// one goroutine per room at a time. work handles the room's rows until it has none due
// or one fails (that row then blocks its room until its retry time).
type roomRunner struct {
	name  string
	queue roomQueue
	work  func(ctx context.Context, roomID id.RoomID)
	// lease, when set, must be held to drain a room: replicas sharing the database
	// then never drain one room at once (see database.RoomLeaseQuery).
	lease   roomLease
	limit   chan struct{}
	wake    chan struct{}
	mu      sync.Mutex
	active  map[id.RoomID]bool
	running sync.WaitGroup
}

// roomLease takes, renews and releases the right to drain a room (false: another
// replica has it).
type roomLease interface {
	Acquire(ctx context.Context, roomID id.RoomID) (bool, error)
	Release(ctx context.Context, roomID id.RoomID)
}

// leaseRenewal is how often a held lease is renewed while its room is drained.
const leaseRenewal = 20 * time.Second

// pollInterval is a safety net: wake-ups normally come from Wake.
const pollInterval = 2 * time.Second

func newRoomRunner(name string, q roomQueue, parallel int, work func(ctx context.Context, roomID id.RoomID)) *roomRunner {
	return &roomRunner{
		name: name, queue: q, work: work,
		limit:  make(chan struct{}, parallel),
		wake:   make(chan struct{}, 1),
		active: map[id.RoomID]bool{},
	}
}

// Wake makes the runner look for due rows now.
func (r *roomRunner) Wake() {
	if r == nil {
		return
	}
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run loops until ctx ends, then waits for running rooms to finish their current row.
func (r *roomRunner) Run(ctx context.Context) {
	log := zerolog.Ctx(ctx).With().Str("queue", r.name).Logger()
	ctx = log.WithContext(ctx)
	defer r.running.Wait()
	for {
		wait := pollInterval
		rooms, err := r.queue.DueRooms(ctx, time.Now())
		if err != nil && ctx.Err() == nil {
			log.Err(err).Msg("Could not list due rooms")
		}
		for _, roomID := range rooms {
			r.startRoom(ctx, roomID)
		}
		if next, err := r.queue.NextDue(ctx, time.Now()); err == nil && !next.IsZero() {
			if until := time.Until(next); until < wait {
				wait = max(until, 10*time.Millisecond)
			}
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-r.wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}

func (r *roomRunner) startRoom(ctx context.Context, roomID id.RoomID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.active[roomID] {
		return
	}
	r.active[roomID] = true
	r.running.Add(1)
	go func() {
		defer r.running.Done()
		select {
		case r.limit <- struct{}{}:
		case <-ctx.Done():
			r.finishRoom(roomID)
			return
		}
		r.leased(ctx, roomID)
		<-r.limit
		r.finishRoom(roomID)
		// Rows may have arrived for this room while it was running.
		r.Wake()
	}()
}

// leased drains a room while holding its lease, renewing it; without a lease (one
// process) it just drains.
func (r *roomRunner) leased(ctx context.Context, roomID id.RoomID) {
	if r.lease == nil {
		r.work(ctx, roomID)
		return
	}
	if ok, err := r.lease.Acquire(ctx, roomID); err != nil || !ok {
		if err != nil && ctx.Err() == nil {
			zerolog.Ctx(ctx).Warn().Err(err).Stringer("room_id", roomID).Msg("Could not take a room's lease")
		}
		return // another replica drains it; the poll comes back later
	}
	done := make(chan struct{})
	go func() {
		ticker := time.NewTicker(leaseRenewal)
		defer ticker.Stop()
		for {
			select {
			case <-done:
				return
			case <-ticker.C:
				_, _ = r.lease.Acquire(ctx, roomID)
			}
		}
	}()
	r.work(ctx, roomID)
	close(done)
	r.lease.Release(context.WithoutCancel(ctx), roomID)
}

func (r *roomRunner) finishRoom(roomID id.RoomID) {
	r.mu.Lock()
	delete(r.active, roomID)
	r.mu.Unlock()
}

// backoff is the wait before the next try after `attempts` failures: 1 s doubling,
// capped, so a homeserver that is away for a while is retried soon after it returns.
func backoff(attempts int, maxWait time.Duration) time.Duration {
	d := time.Second << min(attempts, 16)
	return min(d, maxWait)
}
