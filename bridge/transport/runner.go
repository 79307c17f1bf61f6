package transport

import (
	"context"
	"slices"
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

// pollInterval is a safety net: wake-ups normally come from Wake and hand-offs.
const pollInterval = 2 * time.Second

// roomRunner drains a roomQueue: rooms run in parallel, each room strictly in order,
// one goroutine per room at a time. work handles up to a turn's rows of the room and
// says whether rows are left (a failing row blocks its room until its retry time).
//
// Workers are shared fairly (see scheduler): a room that has had its turn waits
// behind the rooms that have not, and the rooms of one key (the remote server they
// depend on) never hold more than perKey workers, so that one slow server, or one
// flooding room, cannot keep the others waiting.
type roomRunner struct {
	name  string
	queue roomQueue
	work  func(ctx context.Context, roomID id.RoomID) (more bool)
	// lease, when set, must be held to work on a room: replicas sharing the database
	// then never drain one room at once.
	lease   *Lease
	renewal time.Duration // how often the lease is renewed
	guard   *panicGuard
	wake    chan struct{}
	sched   *scheduler

	mu      sync.Mutex
	ctx     context.Context // set while Run runs
	running sync.WaitGroup
	// kept are the rooms whose lease this runner holds between turns (see
	// keptleases.go), with when it was last taken or renewed; idle those of them with
	// no turn coming, since when; releasing those whose release is under way;
	// contested the rooms another replica held at their last try, with how many tries.
	kept      map[id.RoomID]time.Time
	idle      map[id.RoomID]time.Time
	releasing map[id.RoomID]chan struct{}
	contested map[id.RoomID]int
	// then are rooms to start once a room's running turn ends (see HandInOrder).
	then map[id.RoomID][]id.RoomID
}

func newRoomRunner(name string, q roomQueue, fair fairness, lease *Lease, guard *panicGuard, work func(ctx context.Context, roomID id.RoomID) bool) *roomRunner {
	return &roomRunner{
		name: name, queue: q, work: work, lease: lease, guard: guard, renewal: leaseRenewal,
		wake:  make(chan struct{}, 1),
		sched: newScheduler(fair),
		kept:  map[id.RoomID]time.Time{}, idle: map[id.RoomID]time.Time{},
		releasing: map[id.RoomID]chan struct{}{}, contested: map[id.RoomID]int{},
		then: map[id.RoomID][]id.RoomID{},
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

// Hand starts rooms known to have rows due (just committed) without a poll.
func (r *roomRunner) Hand(rooms ...id.RoomID) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ctx == nil {
		r.Wake() // not running: the first poll finds them
		return
	}
	for _, roomID := range rooms {
		r.startRoom(r.ctx, roomID)
	}
}

// HandInOrder starts the first room at once and the others once the first's turn
// ends: what a handler queued first (the agent's copy of a customer's message) does
// not share the homeserver with what it queued after (the supervisors' mirror).
func (r *roomRunner) HandInOrder(rooms []id.RoomID) {
	if r == nil || len(rooms) == 0 {
		return
	}
	if len(rooms) > 1 {
		r.mu.Lock()
		for _, roomID := range rooms[1:] {
			if !slices.Contains(r.then[rooms[0]], roomID) {
				r.then[rooms[0]] = append(r.then[rooms[0]], roomID)
			}
		}
		r.mu.Unlock()
	}
	r.Hand(rooms[0])
}

// handThen starts the rooms waiting for a room's turn to end.
func (r *roomRunner) handThen(roomID id.RoomID) {
	r.mu.Lock()
	rooms := r.then[roomID]
	delete(r.then, roomID)
	r.mu.Unlock()
	if len(rooms) > 0 {
		r.Hand(rooms...)
	}
}

// Run loops until ctx ends, then waits for running rooms to finish their current row.
func (r *roomRunner) Run(ctx context.Context) {
	log := zerolog.Ctx(ctx).With().Str("queue", r.name).Logger()
	ctx = log.WithContext(ctx)
	r.mu.Lock()
	r.ctx = ctx
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.ctx = nil
		r.mu.Unlock()
		r.running.Wait()
		r.releaseIdle(context.WithoutCancel(ctx), time.Time{})
	}()
	if r.lease != nil {
		r.running.Go(func() { r.releaseIdleLoop(ctx) })
	}
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

// startRoom queues a room for a worker; a room already queued or running is marked
// to be looked at again once its turn ends.
func (r *roomRunner) startRoom(ctx context.Context, roomID id.RoomID) {
	for _, turn := range r.sched.add(roomID) {
		r.begin(ctx, turn)
	}
}

// begin runs one room's turn in a goroutine of its own.
func (r *roomRunner) begin(ctx context.Context, turn turn) {
	r.running.Add(1)
	go func() {
		defer r.running.Done()
		more := false
		if ctx.Err() == nil {
			log := zerolog.Ctx(ctx).With().Stringer("room_id", turn.room).Logger()
			roomCtx := log.WithContext(ctx)
			r.guard.run(roomCtx, "room", func() { more = r.leased(roomCtx, turn.room) })
		}
		r.handThen(turn.room)
		for _, t := range r.sched.done(turn, more && ctx.Err() == nil) {
			r.begin(ctx, t)
		}
	}()
}

// leased works on a room while holding its lease, renewing it; without a lease (one
// process) it just works. Losing the lease, or failing to renew it, stops the work:
// another replica may be working on the room by then. The lease is kept after the
// turn (see keptleases.go): a room that has a turn again soon needs no new one, so a
// busy room costs no lease statements per turn; every commit still checks the lease.
func (r *roomRunner) leased(ctx context.Context, roomID id.RoomID) bool {
	if r.lease == nil {
		return r.work(ctx, roomID)
	}
	if !r.claimKept(ctx, roomID) {
		if ok, err := r.lease.Acquire(ctx, roomID); err != nil || !ok {
			if err != nil && ctx.Err() == nil {
				zerolog.Ctx(ctx).Warn().Err(err).Msg("Could not take a room's lease")
			}
			r.forget(roomID)
			if err == nil {
				r.tryAgainLater(roomID)
			}
			return false // another replica drains it
		}
		r.keep(roomID)
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
					r.keep(roomID)
					continue
				}
				if ctx.Err() == nil {
					zerolog.Ctx(ctx).Warn().Err(err).Bool("taken", err == nil).Msg("Lost a room's lease; stopping work on it")
				}
				return
			}
		}
	}()
	more := r.work(withLeaseLoss(workCtx, stop), roomID)
	close(done)
	lost := workCtx.Err() != nil && ctx.Err() == nil
	switch {
	case lost || ctx.Err() != nil:
		r.forget(roomID)
		r.lease.Release(context.WithoutCancel(ctx), roomID)
	case !more && !r.sched.wanted(roomID):
		r.rest(roomID)
	}
	return more && !lost
}

// backoff is the wait before the next try after `attempts` failures: 1 s doubling,
// capped, so a homeserver that is away for a while is retried soon after it returns.
func backoff(attempts int, maxWait time.Duration) time.Duration {
	d := time.Second << min(attempts, 16)
	return min(d, maxWait)
}
