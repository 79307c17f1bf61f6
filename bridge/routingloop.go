package bridge

import (
	"context"
	"fmt"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

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
	// Staff and workflow changes made through the admin API, on any replica.
	if err := b.refreshLive(ctx, t); err != nil {
		return err
	}
	b.settleStaffRooms(ctx, t)
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
