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
	"github.com/contactcenter/contactcenter/config"
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
// offers go on where they were. Each tick first re-reads every tenant's router from
// the database: that is how this replica learns what another one changed (and puts
// right anything its own cache missed), within a tick.
func (b *Bridge) routeLoop(ctx context.Context) {
	ticker := time.NewTicker(routingTick)
	defer ticker.Stop()
	for {
		if err := b.expireOffers(ctx); err != nil && ctx.Err() == nil {
			zerolog.Ctx(ctx).Warn().Err(err).Msg("Could not expire offers")
		}
		for _, t := range b.tenants {
			if err := b.routeOnTick(ctx, t); err != nil && ctx.Err() == nil {
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

// routeOnTick is a tenant's share of a tick: the router re-read, a routing pass, and
// the queue's news for waiting customers.
func (b *Bridge) routeOnTick(ctx context.Context, t *Tenant) error {
	if err := b.syncRouter(ctx, t); err != nil {
		return err
	}
	var again bool
	err := b.doTxn(ctx, func(ctx context.Context) error {
		var err error
		if again, err = b.routeWaiting(ctx, t); err != nil || !b.tellsQueue(ctx, t) {
			return err
		}
		return b.tellQueue(ctx, t, b.now())
	})
	if err == nil && again {
		b.routeTenant(ctx, t)
	}
	return err
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
		if err = b.doTxn(ctx, func(ctx context.Context) error { return b.expireOffer(ctx, t, conv, wf) }); err != nil {
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
	// The declined row keeps them from this conversation: every pass reads it.
	b.routerOffered(ctx, t, agent, 0, now)
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
		if err = firstErr(b.setStaffStatus(ctx, t, agent, routing.Away, now), b.DB.Claims.ResetMissed(ctx, t.ID, agent)); err != nil {
			return err
		}
		zerolog.Ctx(ctx).Info().Stringer("agent", agent).Int("missed", missed).Msg("Agent set away after unanswered offers")
	}
	key := outboxKey("offer-expired", conv.ID, agent, now.UnixNano())
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

// The router's changes, each applied once the transaction under way commits (see
// afterCommit): the database holds them by then, and a rollback leaves the router as
// it was. An agent the router does not know (taken off the config) has nothing to
// change.

// setStaffStatus records a staff member's status, and tells the router after commit.
func (b *Bridge) setStaffStatus(ctx context.Context, t *Tenant, agent id.UserID, st routing.Status, now time.Time) error {
	if err := b.DB.Staff.SetStatus(ctx, t.ID, agent, st, now); err != nil {
		return err
	}
	b.afterCommit(ctx, func(context.Context) { _ = t.router.SetStatus(agent.String(), st, now) })
	return nil
}

// routerAssigned: the agent took a conversation (claimed, accepted or transferred).
func (b *Bridge) routerAssigned(ctx context.Context, t *Tenant, agent id.UserID, now time.Time) {
	b.afterCommit(ctx, func(context.Context) { _ = t.router.Assigned(agent.String(), now) })
}

// routerReleased: a conversation of the agent ended or left them; their wrap-up starts.
func (b *Bridge) routerReleased(ctx context.Context, t *Tenant, agent id.UserID, now time.Time) {
	b.afterCommit(ctx, func(context.Context) { _ = t.router.Released(agent.String(), now) })
}

// routerOffered: the agent holds an offer of conversation convID now (0: none).
func (b *Bridge) routerOffered(ctx context.Context, t *Tenant, agent id.UserID, convID int64, now time.Time) {
	task := ""
	if convID != 0 {
		task = strconv.FormatInt(convID, 10)
	}
	b.afterCommit(ctx, func(context.Context) { _ = t.router.SyncOffer(agent.String(), task, now) })
}

// RoutingOnly makes a bridge that routes and does nothing else: the config's tenants
// and their routers over db, no homeserver and no loops. It is for measuring a
// routing pass (go run ./cmd/bench -only routing).
func RoutingOnly(cfg *config.Config, db *database.Database) (*Bridge, error) {
	b := New(cfg, zerolog.Nop())
	b.DB = db
	for i := range cfg.Tenants {
		tc := &cfg.Tenants[i]
		router, err := routing.NewRouter(tc.RoutingWorkflow(), tc.Staff)
		if err != nil {
			return nil, fmt.Errorf("tenant %s: %w", tc.ID, err)
		}
		t := &Tenant{Tenant: tc, UserID: cfg.BusinessUserID(tc), b: b, router: router, queueTold: map[int64]queueNotice{}}
		b.tenants[t.UserID] = t
	}
	return b, nil
}

// RoutingPass runs one routing pass of the tenant in a transaction, as the service
// does when something changed; with resync, first re-reading the whole tenant into
// its router inside that transaction (what the tick does before its pass).
func (b *Bridge) RoutingPass(ctx context.Context, tenantID string, resync bool) error {
	t := b.TenantByID(tenantID)
	if t == nil {
		return fmt.Errorf("no tenant %q", tenantID)
	}
	return b.doTxn(ctx, func(ctx context.Context) error {
		if resync {
			if err := b.syncRouter(ctx, t); err != nil {
				return err
			}
		}
		_, err := b.routeWaiting(ctx, t)
		return err
	})
}
