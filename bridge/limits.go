package bridge

import (
	"context"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/internal/ratelimit"
)

// abuseLimits hold the token buckets of customers and their servers (in memory: with
// replicas each enforces its own share, which is enough to keep a flood from
// crowding out everyone else).
type abuseLimits struct {
	customerEvents, serverEvents, roomsOpened, codeAttempts *ratelimit.Limiter
	// invites remembers the rooms limit's answer per invite: an invite handled again
	// (its federated join failed or timed out, which a slow server makes common) must
	// get the same answer without spending another of the customer's rooms.
	invites *answers[bool]
	// events remembers the event limit's verdict on the events whose tokens are spent
	// by their handler rather than on receipt, for the same reason: one handled again
	// after a failure of ours must not spend the customer's tokens twice.
	events *answers[eventVerdict]
}

// eventVerdict is the event limit's answer: allowed, or refused and whether this is
// the refusal the customer is told of.
type eventVerdict struct{ ok, first bool }

// maxRememberedAnswers bounds answers: far more invites than are retried at once.
const maxRememberedAnswers = 4096

// answers are answers by key, the oldest forgotten first.
type answers[T any] struct {
	mu    sync.Mutex
	byKey map[string]T
	order []string
}

func newAnswers[T any]() *answers[T] { return &answers[T]{byKey: map[string]T{}} }

// get returns the answer given for key, computing and keeping it the first time.
func (a *answers[T]) get(key string, decide func() T) T {
	a.mu.Lock()
	defer a.mu.Unlock()
	if answer, ok := a.byKey[key]; ok {
		return answer
	}
	answer := decide()
	if len(a.order) >= maxRememberedAnswers {
		delete(a.byKey, a.order[0])
		a.order = a.order[1:]
	}
	a.byKey[key] = answer
	a.order = append(a.order, key)
	return answer
}

func (b *Bridge) initLimits() {
	l := b.Config.Limits
	b.limits = abuseLimits{
		customerEvents: ratelimit.New(l.CustomerEvents.Limit(), 0),
		serverEvents:   ratelimit.New(l.ServerEvents.Limit(), 0),
		roomsOpened:    ratelimit.New(l.RoomsOpened.Limit(), 0),
		codeAttempts:   ratelimit.New(l.CodeAttempts.Limit(), 0),
		invites:        newAnswers[bool](),
		events:         newAnswers[eventVerdict](),
	}
}

// customerEventAllowed applies the customer's and their server's limits to an event.
// Most were decided when their transaction was received (receiptLimiter): the tokens
// are not spent twice, and of those over the limit only the first reaches here, to
// tell the customer. The others (a call invite, what a /sync loop filed, a sender
// taken for staff on receipt) spend their tokens here, once however often the event
// is handled.
func (b *Bridge) customerEventAllowed(ctx context.Context, j *job, t *Tenant, room *database.CustomerRoom) (bool, error) {
	switch j.entry.Source {
	case database.SourceWithinLimit:
		return true, nil
	case database.SourceOverLimit:
		return false, b.slowDown(ctx, j, t, room, true)
	}
	if v := b.eventVerdictOnce(j.Key(), room.Customer); !v.ok {
		return false, b.slowDown(ctx, j, t, room, v.first)
	}
	return true, nil
}

// eventVerdictOnce spends the sender's tokens for the event of key the first time it
// is asked, and gives that verdict again every later time.
func (b *Bridge) eventVerdictOnce(key string, sender id.UserID) eventVerdict {
	return b.limits.events.get(key, func() eventVerdict {
		ok, first := b.takeEventTokens(sender, b.now())
		return eventVerdict{ok, first}
	})
}

// takeEventTokens spends a token of the sender and one of their server; first is set
// on the first refusal since the sender was last allowed (the one they are told of).
func (b *Bridge) takeEventTokens(sender id.UserID, now time.Time) (ok, first bool) {
	if ok, first = b.limits.customerEvents.Take(sender.String(), now); !ok {
		return false, first
	}
	return b.limits.serverEvents.Take(sender.Homeserver(), now)
}

// limitedOnReceipt are the event types that count against a customer's event limit
// and are checked on receipt: what handleCustomerEvent takes, and encrypted events
// (which decrypt to those). Call invites are left to their handler, which refuses
// some before it counts them.
var limitedOnReceipt = map[string]bool{
	event.EventMessage.Type: true, event.EventSticker.Type: true, event.EventReaction.Type: true,
	event.EventRedaction.Type: true, event.EventUnstablePollStart.Type: true,
	event.EventUnstablePollResponse.Type: true, eventPollResponse.Type: true, event.EventEncrypted.Type: true,
}

// receiptLimiter decides the limits of one transaction's events as they are received.
// It reads nothing from the database: a customer is told apart by who sends, not by
// the room. The service's own users and every tenant's staff are never limited here
// (staff rooms hold only those, so their events need no room lookup); anyone else is
// taken for a customer. That also spends tokens for events the handler ignores (a
// stranger's in a room that is not ours), which only makes a flood reach the limit
// sooner.
type receiptLimiter struct {
	b     *Bridge
	now   time.Time
	staff map[id.UserID]bool // built on first use, once per transaction
}

// verdict spends the sender's tokens for one newly received event.
func (r *receiptLimiter) verdict(sender id.UserID, typ string, state bool) database.LimitVerdict {
	if state || !limitedOnReceipt[typ] || sender == "" || r.b.isOurs(sender) {
		return database.NotLimited
	}
	if r.staff == nil {
		r.staff = map[id.UserID]bool{}
		for _, t := range r.b.tenants {
			for _, s := range t.staff() {
				r.staff[id.UserID(s.UserID)] = true
			}
		}
	}
	if r.staff[sender] {
		return database.NotLimited
	}
	ok, first := r.b.takeEventTokens(sender, r.now)
	switch {
	case ok:
		return database.WithinLimit
	case first:
		return database.OverLimitTell
	default:
		return database.OverLimitDropped
	}
}

// slowDown drops an event over the limit, telling the customer the first time.
func (b *Bridge) slowDown(ctx context.Context, j *job, t *Tenant, room *database.CustomerRoom, tell bool) error {
	zerolog.Ctx(ctx).Warn().Stringer("room_id", room.RoomID).Bool("told", tell).Msg("Customer over the event limit; event dropped")
	if !tell {
		return nil
	}
	return j.Commit(ctx, func(ctx context.Context) error {
		return b.DB.Outbox.Enqueue(ctx, outboxKey("slow-down", j.Key()), room.RoomID, t.UserID, event.EventMessage, bot.Notice(bot.SlowDown), b.now())
	})
}

// roomAllowed spends a token of the customer's rooms with this tenant, once per
// invite; over the limit the invite is declined without joining.
func (b *Bridge) roomAllowed(ctx context.Context, t *Tenant, j *job) (bool, error) {
	evt := j.evt
	allowed := b.limits.invites.get(t.ID+"|"+j.Key(), func() bool {
		ok, _ := b.limits.roomsOpened.Take(t.ID+"|"+evt.Sender.String(), b.now())
		return ok
	})
	if allowed {
		return true, nil
	}
	zerolog.Ctx(ctx).Warn().Str("tenant", t.ID).Msg("Customer over the rooms limit; invite declined")
	_, err := t.Client.LeaveRoom(ctx, evt.RoomID, &mautrix.ReqLeave{Reason: bot.TooManyRooms})
	if err != nil && !refused(err) {
		return false, err
	}
	return false, nil
}
