package bridge

import (
	"context"
	"time"

	"github.com/rs/zerolog"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/outbound"
)

// The outbound loop, on every replica (each change is a compare-and-set, so two
// replicas acting on one request change it once): deferred requests whose time has
// come are decided again; allowed ones nobody started (the replica that stored them
// failed to) are started; requests nobody took up in time expire.

const (
	// outboundTick is how often the loop looks.
	outboundTick = 2 * time.Second
	// outboundBatch bounds what one tick takes on of each kind.
	outboundBatch = 100
	// inviteLapse is how long an invited customer has to join when the request sets
	// no not_after.
	inviteLapse = 24 * time.Hour
	// startGrace leaves a just-stored request to the replica that stored it.
	startGrace = 10 * time.Second
)

// startOutboundLoop runs the outbound loop until the service stops.
func (b *Bridge) startOutboundLoop(ctx context.Context) error {
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		ticker := time.NewTicker(outboundTick)
		defer ticker.Stop()
		for {
			if err := b.outboundPass(ctx); err != nil && ctx.Err() == nil {
				zerolog.Ctx(ctx).Warn().Err(err).Msg("Outbound pass failed")
			}
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
			}
		}
	}()
	return nil
}

// outboundPass is one tick of the loop.
func (b *Bridge) outboundPass(ctx context.Context) error {
	now := b.now()
	due, err := b.DB.Outbound.Due(ctx, now, outboundBatch)
	if err != nil {
		return err
	}
	for _, r := range due {
		if err = b.decideDue(ctx, r); err != nil {
			return err
		}
	}
	unstarted, err := b.DB.Outbound.Unstarted(ctx, outboundBatch)
	if err != nil {
		return err
	}
	for _, r := range unstarted {
		t := b.TenantByID(r.TenantID)
		if t == nil || now.Sub(r.UpdatedAt) < startGrace {
			continue
		}
		if err = b.startOutbound(ctx, t, r); err != nil {
			zerolog.Ctx(ctx).Warn().Err(err).Int64("outbound", r.ID).Msg("Could not start an outbound request")
		}
	}
	lapsed, err := b.DB.Outbound.Lapsed(ctx, now, now.Add(-inviteLapse), outboundBatch)
	if err != nil {
		return err
	}
	for _, r := range lapsed {
		if err = b.doTxn(ctx, func(ctx context.Context) error { return b.expireOutbound(ctx, r) }); err != nil {
			return err
		}
	}
	return nil
}

// decideDue decides a deferred request again, one decision at a time per customer,
// and starts it once allowed.
func (b *Bridge) decideDue(ctx context.Context, r *database.OutboundRequest) error {
	t := b.TenantByID(r.TenantID)
	if t == nil {
		return nil
	}
	var to outbound.State
	err := b.doTxn(ctx, func(ctx context.Context) error {
		if err := b.DB.Outbound.LockCustomer(ctx, t.ID, r.Customer); err != nil {
			return err
		}
		now := b.now()
		d, err := b.redecide(ctx, t, r, now, false)
		if err != nil {
			return err
		}
		to = outbound.Initial(d.Verdict)
		if d.Has(outbound.ReasonRequestExpired) {
			to = outbound.StateExpired
		}
		changed, err := b.DB.Outbound.SetState(ctx, r.ID, database.StateChange{From: outbound.StateDeferred, To: to,
			Reasons: d.Reasons, DeferUntil: d.Until, At: now})
		if !changed {
			to = ""
		}
		return err
	})
	if err != nil || to != outbound.StateRouting {
		return err
	}
	zerolog.Ctx(ctx).Info().Str("tenant", t.ID).Int64("outbound", r.ID).Msg("Deferred outbound request allowed now")
	r, err = b.DB.Outbound.Get(ctx, t.ID, r.ID)
	if err != nil || r == nil {
		return err
	}
	if err = b.startOutbound(ctx, t, r); err != nil {
		// Stored as routing: the loop starts it on a later tick.
		zerolog.Ctx(ctx).Warn().Err(err).Int64("outbound", r.ID).Msg("Could not start an outbound request")
	}
	return nil
}

// expireOutbound ends a request nobody took up in time, inside a transaction: its
// conversation ends, the customer (if invited) is not argued with.
func (b *Bridge) expireOutbound(ctx context.Context, r *database.OutboundRequest) error {
	changed, err := b.DB.Outbound.SetState(ctx, r.ID, database.StateChange{From: r.State, To: outbound.StateExpired,
		Reasons: r.Reasons, At: b.now()})
	if err != nil || !changed || r.ConversationID == 0 {
		return err
	}
	conv, err := b.DB.Conversation.Get(ctx, r.ConversationID)
	if err != nil || conv == nil {
		return err
	}
	c := b.convoOf(conv, nil)
	if c == nil {
		return nil
	}
	return firstErr(c.sideNotice(ctx, "outbound-expired", bot.OutboundExpired), c.end(ctx, "The outbound request expired.", false))
}
