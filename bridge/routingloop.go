package bridge

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/routing"
)

// routingTick is how often waiting conversations are routed again (a step's timeout
// may have passed, a wrap-up ended) and unanswered offers are looked for.
const routingTick = time.Second

// meanHandleTime estimates how long a conversation keeps an agent, for the wait a
// customer is told.
const meanHandleTime = 5 * time.Minute

// routeLoop runs the periodic routing work of every tenant until the service stops.
// All state is in the database, so after a restart queued conversations and open
// offers go on where they were.
func (b *Bridge) routeLoop(ctx context.Context) {
	ticker := time.NewTicker(routingTick)
	defer ticker.Stop()
	for {
		if err := b.expireOffers(ctx); err != nil && ctx.Err() == nil {
			zerolog.Ctx(ctx).Warn().Err(err).Msg("Could not expire offers")
		}
		for _, t := range b.tenants {
			err := b.DB.DoTxn(ctx, nil, func(ctx context.Context) error {
				if err := b.offerWaiting(ctx, t); err != nil || !b.tellsQueue(ctx, t) {
					return err
				}
				return b.tellQueue(ctx, t, b.now())
			})
			if err != nil && ctx.Err() == nil {
				zerolog.Ctx(ctx).Warn().Err(err).Str("tenant", t.ID).Msg("Could not route waiting conversations")
			}
		}
		b.outbox.Wake()
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// expireOffers takes back offers left unanswered for their tenant's offer timeout:
// the agent is told and passed over for that conversation, and after rona_after such
// offers in a row they are set away ("redirect on no answer"). One query finds the
// lapsed offers of every tenant.
func (b *Bridge) expireOffers(ctx context.Context) error {
	shortest := time.Duration(0)
	for _, t := range b.tenants {
		if timeout := t.router.Workflow().OfferTimeout; shortest == 0 || timeout < shortest {
			shortest = timeout
		}
	}
	expired, err := b.DB.Claims.Expired(ctx, b.now().Add(-shortest))
	if err != nil {
		return err
	}
	for _, conv := range expired {
		t := b.TenantByID(conv.TenantID)
		if t == nil {
			continue
		}
		wf := t.router.Workflow()
		if b.now().Sub(conv.OfferedAt) < wf.OfferTimeout {
			continue // this tenant waits longer
		}
		if err = b.DB.DoTxn(ctx, nil, func(ctx context.Context) error { return b.expireOffer(ctx, t, conv, wf) }); err != nil {
			return err
		}
	}
	return nil
}

func (b *Bridge) expireOffer(ctx context.Context, t *Tenant, conv *database.Conversation, wf *routing.Workflow) error {
	agent, now := conv.OfferedTo, b.now()
	won, err := b.DB.Claims.Withdraw(ctx, conv.ID, agent)
	if err != nil || !won {
		return err // answered or taken back meanwhile
	}
	if err = b.DB.Participants.Add(ctx, conv.ID, agent, database.RoleDeclined, now); err != nil {
		return err
	}
	_ = t.router.SyncOffer(agent.String(), "", now)
	_ = t.router.Exclude(strconv.FormatInt(conv.ID, 10), agent.String())
	missed, err := b.DB.Claims.Missed(ctx, t.ID, agent)
	if err != nil {
		return err
	}
	record, err := b.DB.Staff.Get(ctx, t.ID, agent)
	if err != nil || record == nil {
		return err
	}
	text := fmt.Sprintf("Conversation **%d** went to someone else: no answer within %s.", conv.ID, wf.OfferTimeout)
	if wf.SetsAway(missed) {
		text += fmt.Sprintf(" That is %d offers in a row, so you are now **away**. Send **!ready** when you are back.", missed)
		if err = firstErr(b.DB.Staff.SetStatus(ctx, t.ID, agent, routing.Away, now), b.DB.Claims.ResetMissed(ctx, t.ID, agent)); err != nil {
			return err
		}
		zerolog.Ctx(ctx).Info().Stringer("agent", agent).Int("missed", missed).Msg("Agent set away after unanswered offers")
	}
	key := fmt.Sprintf("offer-expired|%d|%s|%d", conv.ID, agent, now.UnixNano())
	return firstErr(
		b.DB.Outbox.Enqueue(ctx, key, record.ControlRoomID, t.UserID, event.EventMessage, bot.Notice(text), now),
		b.sideNotice(ctx, t, conv, "offer-expired", fmt.Sprintf("%s did not answer the offer within %s; routing goes on.", t.staffName(agent), wf.OfferTimeout)),
	)
}

// tellsQueue tells whether this replica speaks to waiting customers about their place:
// the one holding the tenant's "queue" lease (renewed every tick), so that with
// replicas a customer hears it once. One process always does.
func (b *Bridge) tellsQueue(ctx context.Context, t *Tenant) bool {
	if b.setupLease == nil {
		return true
	}
	ok, err := b.DB.Leases.Acquire(ctx, "queue", id.RoomID("tenant:"+t.ID), b.holder, b.now(), leaseTTL)
	return err == nil && ok
}
