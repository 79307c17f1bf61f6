package transport

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

// pollInterval is a safety net: wake-ups normally come from Wake.
const pollInterval = 2 * time.Second

// roomRunner drains a roomQueue: rooms run in parallel, each room strictly in order,
// one goroutine per room at a time. work handles the room's rows until it has none due
// or one fails (that row then blocks its room until its retry time).
type roomRunner struct {
	name  string
	queue roomQueue
	work  func(ctx context.Context, roomID id.RoomID)
	// lease, when set, must be held to work on a room: replicas sharing the database
	// then never drain one room at once.
	lease   *Lease
	renewal time.Duration // how often the lease is renewed
	guard   *panicGuard
	limit   chan struct{}
	wake    chan struct{}
	mu      sync.Mutex
	active  map[id.RoomID]bool
	running sync.WaitGroup
}

func newRoomRunner(name string, q roomQueue, parallel int, lease *Lease, guard *panicGuard, work func(ctx context.Context, roomID id.RoomID)) *roomRunner {
	return &roomRunner{
		name: name, queue: q, work: work, lease: lease, guard: guard, renewal: leaseRenewal,
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
	for ctx.Err() == nil {
		wait := pollInterval
		r.guard.run(ctx, "poll", func() { wait = r.poll(ctx) })
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-r.wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// poll starts the rooms that have rows due and says how long to sleep.
func (r *roomRunner) poll(ctx context.Context) time.Duration {
	wait := pollInterval
	rooms, err := r.queue.DueRooms(ctx, time.Now())
	if err != nil && ctx.Err() == nil {
		zerolog.Ctx(ctx).Err(err).Msg("Could not list due rooms")
	}
	for _, roomID := range rooms {
		r.startRoom(ctx, roomID)
	}
	if next, err := r.queue.NextDue(ctx, time.Now()); err == nil && !next.IsZero() {
		if until := time.Until(next); until < wait {
			wait = max(until, 10*time.Millisecond)
		}
	}
	return wait
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
		defer r.finishRoom(roomID)
		select {
		case r.limit <- struct{}{}:
		case <-ctx.Done():
			return
		}
		defer func() { <-r.limit }()
		log := zerolog.Ctx(ctx).With().Stringer("room_id", roomID).Logger()
		roomCtx := log.WithContext(ctx)
		r.guard.run(roomCtx, "room", func() { r.leased(roomCtx, roomID) })
	}()
}

// leased works on a room while holding its lease, renewing it; without a lease (one
// process) it just works. Losing the lease, or failing to renew it, stops the work:
// another replica may be working on the room by then.
func (r *roomRunner) leased(ctx context.Context, roomID id.RoomID) {
	if r.lease == nil {
		r.work(ctx, roomID)
		return
	}
	if ok, err := r.lease.Acquire(ctx, roomID); err != nil || !ok {
		if err != nil && ctx.Err() == nil {
			zerolog.Ctx(ctx).Warn().Err(err).Msg("Could not take a room's lease")
		}
		return // another replica drains it; the poll comes back later
	}
	workCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer stop()
		ticker := time.NewTicker(r.renewal)
		defer ticker.Stop()
		for {
			select {
			case <-done:
				return
			case <-ticker.C:
				ok, err := r.lease.Acquire(ctx, roomID)
				if ok && err == nil {
					continue
				}
				if ctx.Err() == nil {
					zerolog.Ctx(ctx).Warn().Err(err).Bool("taken", err == nil).Msg("Lost a room's lease; stopping work on it")
				}
				return
			}
		}
	}()
	r.work(workCtx, roomID)
	close(done)
	r.lease.Release(context.WithoutCancel(ctx), roomID)
}

func (r *roomRunner) finishRoom(roomID id.RoomID) {
	r.mu.Lock()
	delete(r.active, roomID)
	r.mu.Unlock()
	// Rows may have arrived for this room while it was running.
	r.Wake()
}

// backoff is the wait before the next try after `attempts` failures: 1 s doubling,
// capped, so a homeserver that is away for a while is retried soon after it returns.
func backoff(attempts int, maxWait time.Duration) time.Duration {
	d := time.Second << min(attempts, 16)
	return min(d, maxWait)
}
