package bridge

import (
	"context"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/consent"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/outbound"
)

// Callbacks. A customer who has waited the workflow's max_wait (or whose call found
// no agent) is offered to stop waiting: with !callback, their grant of contact for
// that purpose is recorded in the conversation (with a receipt, as any consent), the
// conversation ends, and an outbound request of origin "callback" is made for them,
// decided like any other except that their grant stands in for a remembered "always"
// and the frequency cap does not count. The business then writes in the same DM once
// an agent accepts it.

// callbackPurpose is the purpose of the contact grant a callback records.
const callbackPurpose = "to write back to you once an agent is free, as you asked"

// offerCallback offers the customer in room a callback, once per key.
func (b *Bridge) offerCallback(ctx context.Context, t *Tenant, room id.RoomID, key ...any) error {
	return b.DB.Outbox.Enqueue(ctx, outboxKey("callback-offer", key...), room, t.UserID, event.EventMessage,
		bot.Notice(bot.CallbackOffer), b.now())
}

// offerCallbackNow is offerCallback outside any transaction (a call nobody took):
// queued and sent at once; a failure is logged, the customer keeps waiting.
func (b *Bridge) offerCallbackNow(ctx context.Context, t *Tenant, room id.RoomID, key ...any) {
	if err := b.offerCallback(ctx, t, room, key...); err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Msg("Could not offer a callback")
		return
	}
	b.outbox.Wake()
}

// callbackCommand answers !callback in the customer room, inside the event's commit.
// Only a customer waiting for an agent may ask.
func (c *convo) callbackCommand(ctx context.Context) error {
	b, t := c.b, c.t
	if c.Agent != "" || c.Status == database.StatusClosed {
		return c.tellCustomer(ctx, "callback", bot.CallbackNotWaiting)
	}
	purposes := t.purposeMap()
	purposes[consent.Contact] = callbackPurpose
	records, err := b.Consent.Decide(ctx, c.subject(), c.ID, consent.MethodText, purposes,
		[]consent.Change{{Category: consent.Contact, Grant: true}}, false)
	if err != nil {
		return err
	}
	customer, room := c.Customer, c.RoomID
	b.afterCommit(ctx, func(ctx context.Context) { b.requestCallback(ctx, t, customer, room) })
	return firstErr(
		c.afterDecisions(ctx, records),
		c.sideNotice(ctx, "callback", bot.CallbackSideNotice),
		c.end(ctx, "The customer chose to be called back.", true),
	)
}

// requestCallback makes the outbound request of a callback once the conversation has
// ended, tells the customer when to expect it, and starts it if it may go now.
func (b *Bridge) requestCallback(ctx context.Context, t *Tenant, customer id.UserID, room id.RoomID) {
	log := zerolog.Ctx(ctx).With().Str("tenant", t.ID).Logger()
	ctx = log.WithContext(ctx)
	defer b.outbox.Wake()
	facts, err := b.OutboundFacts(ctx, t.ID, customer.String())
	var r *database.OutboundRequest
	var d outbound.Decision
	if err == nil {
		err = b.doTxn(ctx, func(ctx context.Context) error {
			if r, d, err = b.decideOutbound(ctx, t, facts, outboundOrder{Customer: customer.String(), Reason: bot.CallbackReason,
				Origin: database.OriginCallback}); err != nil {
				return err
			}
			return b.DB.Outbox.Enqueue(ctx, outboxKey("callback", r.ID), room, t.UserID, event.EventMessage,
				bot.Notice(callbackAnswer(r.State, d)), b.now())
		})
	}
	if err != nil {
		log.Warn().Err(err).Msg("Could not make the outbound request of a callback")
		if err = b.DB.Outbox.Enqueue(ctx, outboxKey("callback-failed", room, b.now().UnixNano()), room, t.UserID, event.EventMessage,
			bot.Notice(bot.CallbackRefused("an error on our side")), b.now()); err != nil {
			log.Warn().Err(err).Msg("Could not tell the customer a callback failed")
		}
		return
	}
	log.Info().Int64("outbound", r.ID).Str("state", string(r.State)).Msg("Callback requested")
	if r.State == outbound.StateRouting {
		if err = b.startOutbound(ctx, t, r); err != nil {
			// Stored as routing: the outbound loop starts it on a later tick.
			log.Warn().Err(err).Int64("outbound", r.ID).Msg("Could not start an outbound request")
		}
	}
}

// callbackAnswer tells the customer what becomes of their callback.
func callbackAnswer(state outbound.State, d outbound.Decision) string {
	switch state {
	case outbound.StateRouting:
		return bot.CallbackAccepted("")
	case outbound.StateDeferred:
		when := d.Until
		if loc, err := time.LoadLocation(d.Zone); err == nil {
			when = when.In(loc)
		}
		return bot.CallbackAccepted(when.Format("Monday 15:04") + " (" + d.Zone + ")")
	}
	return bot.CallbackRefused(reasonCodes(d.Reasons))
}
