package bridge

import (
	"context"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/internal/ratelimit"
)

// abuseLimits hold the token buckets of customers and their servers (in memory: with
// replicas each enforces its own share, which is enough to keep a flood from
// crowding out everyone else).
type abuseLimits struct {
	customerEvents, serverEvents, roomsOpened, codeAttempts *ratelimit.Limiter
}

func (b *Bridge) initLimits() {
	l := b.Config.Limits
	b.limits = abuseLimits{
		customerEvents: ratelimit.New(l.CustomerEvents.Limit(), 0),
		serverEvents:   ratelimit.New(l.ServerEvents.Limit(), 0),
		roomsOpened:    ratelimit.New(l.RoomsOpened.Limit(), 0),
		codeAttempts:   ratelimit.New(l.CodeAttempts.Limit(), 0),
	}
}

// customerEventAllowed spends the customer's and their server's tokens for an event.
// Over the limit the event is dropped; the customer is told once (in the event's
// commit), then nothing until the rate allows again. What was allowed is never lost.
func (b *Bridge) customerEventAllowed(ctx context.Context, j *job, t *Tenant, room *database.CustomerRoom) (bool, error) {
	now := b.now()
	okCustomer, firstCustomer := b.limits.customerEvents.Take(room.Customer.String(), now)
	if !okCustomer {
		return false, b.slowDown(ctx, j, t, room, firstCustomer)
	}
	okServer, firstServer := b.limits.serverEvents.Take(room.Customer.Homeserver(), now)
	if !okServer {
		return false, b.slowDown(ctx, j, t, room, firstServer)
	}
	return true, nil
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

// roomAllowed spends a token of the customer's rooms with this tenant; over the limit
// the invite is declined without joining.
func (b *Bridge) roomAllowed(ctx context.Context, t *Tenant, j *job) (bool, error) {
	evt := j.evt
	if ok, _ := b.limits.roomsOpened.Take(t.ID+"|"+evt.Sender.String(), b.now()); ok {
		return true, nil
	}
	zerolog.Ctx(ctx).Warn().Str("tenant", t.ID).Msg("Customer over the rooms limit; invite declined")
	_, err := t.Client.LeaveRoom(ctx, evt.RoomID, &mautrix.ReqLeave{Reason: bot.TooManyRooms})
	if err != nil && !refused(err) {
		return false, err
	}
	return false, nil
}
