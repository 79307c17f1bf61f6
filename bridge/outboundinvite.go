package bridge

import (
	"context"
	"net/http"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/outbound"
)

// The customer's side of an outbound request: the invite to a new DM (tried once,
// never again), their joining, and how the conversation's end ends the request.

// inviteOutbound invites the customer to the new DM of an accepted request, outside
// any transaction. The attempt is counted before the invite: a request is invited at
// most once, whatever fails or restarts. A refusal by the customer's homeserver, or
// no answer from it, ends the request for good and tells the agent.
func (b *Bridge) inviteOutbound(ctx context.Context, t *Tenant, requestID, convID int64) {
	log := zerolog.Ctx(ctx).With().Str("tenant", t.ID).Int64("outbound", requestID).Logger()
	ctx = log.WithContext(ctx)
	r, err := b.DB.Outbound.Get(ctx, t.ID, requestID)
	if err != nil || r == nil || r.State != outbound.StateRouting {
		if err != nil {
			log.Warn().Err(err).Msg("Could not read an accepted outbound request")
		}
		return
	}
	if first, err := b.DB.Outbound.FirstAttempt(ctx, r.ID, b.now()); err != nil || !first {
		if err != nil {
			log.Warn().Err(err).Msg("Could not count an outbound invite")
		}
		return
	}
	customer := id.UserID(r.Customer)
	// The invite endpoint, which reaches the customer's server over federation;
	// is_direct marks it a DM's, as createRoom's invites are (servers that do not
	// know the field ignore it).
	url := t.Client.BuildClientURL("v3", "rooms", r.RoomID, "invite")
	_, inviteErr := t.Client.MakeRequest(ctx, http.MethodPost, url, map[string]any{"user_id": customer, "is_direct": true,
		"reason": t.Name + ": " + r.Reason}, nil)
	defer b.outbox.Wake()
	err = b.doTxn(ctx, func(ctx context.Context) error {
		conv, err := b.DB.Conversation.Get(ctx, convID)
		if err != nil || conv == nil {
			return err
		}
		c := t.convo(conv, nil)
		now := b.now()
		if inviteErr != nil {
			errcode, status := matrixErr(inviteErr)
			state := outbound.InviteFailureMessage(errcode, status, inviteErr.Error())
			why := errcode
			if why == "" {
				why = inviteErr.Error()
			}
			log.Info().Str("errcode", errcode).Int("status", status).Str("state", string(state)).Msg("The customer's homeserver refused an outbound invite")
			if changed, err := b.DB.Outbound.SetState(ctx, r.ID, database.StateChange{From: outbound.StateRouting, To: state, Error: why, At: now}); err != nil || !changed {
				return err
			}
			return firstErr(
				c.sideNotice(ctx, "outbound-refused", bot.OutboundInviteRefused(string(state), errcode)),
				c.end(ctx, "The customer's homeserver did not take the invite.", false),
				c.enqueue(ctx, outboxKey("outbound-leave", r.ID), c.RoomID, t.UserID, LeaveAction, struct{}{}),
				b.DB.CustomerRoom.MarkLeft(ctx, c.RoomID, now),
			)
		}
		if changed, err := b.DB.Outbound.SetState(ctx, r.ID, database.StateChange{From: outbound.StateRouting, To: outbound.StateInvited, Reasons: r.Reasons, At: now}); err != nil || !changed {
			return err
		}
		log.Info().Msg("Customer invited to a new DM for an outbound request")
		// The first words wait for the customer to join: their devices get the keys
		// of what is written once they are in the room.
		return c.sideNotice(ctx, "outbound-invited", bot.OutboundInvited)
	})
	if err != nil {
		log.Warn().Err(err).Msg("Could not record the outcome of an outbound invite")
	}
}

// outboundJoined: the customer joined a customer room; an outbound request that
// invited them there is joined now, and the business writes its first words.
func (b *Bridge) outboundJoined(ctx context.Context, j *job, t *Tenant, room *database.CustomerRoom) error {
	r, err := b.DB.Outbound.InRoom(ctx, room.RoomID)
	if err != nil || r == nil || r.State != outbound.StateInvited {
		return err
	}
	return j.Commit(ctx, func(ctx context.Context) error {
		changed, err := b.DB.Outbound.SetState(ctx, r.ID, database.StateChange{From: outbound.StateInvited, To: outbound.StateJoined, Reasons: r.Reasons, At: b.now()})
		if err != nil || !changed {
			return err
		}
		conv, err := b.DB.Conversation.Get(ctx, r.ConversationID)
		if err != nil || conv == nil {
			return err
		}
		c := t.convo(conv, j)
		return firstErr(c.writeFirst(ctx, r, conv.Agent), c.sideNotice(ctx, "outbound-joined", bot.OutboundJoined))
	})
}

// outboundEnded ends the request of an outbound conversation that ends: a customer who
// left (or rejected the invite) declined; one who never joined while staff ended it
// let it expire; a conversation that took place is done.
func (c *convo) outboundEnded(ctx context.Context, customerPresent bool) error {
	r, err := c.b.DB.Outbound.ByConversation(ctx, c.ID)
	if err != nil || r == nil || r.State.Terminal() {
		return err
	}
	var to outbound.State
	switch {
	case r.State == outbound.StateRouting:
		to = outbound.StateExpired
	case !customerPresent:
		to = outbound.StateDeclined
	case r.State == outbound.StateInvited:
		to = outbound.StateExpired
	default:
		to = outbound.StateDone
	}
	_, err = c.b.DB.Outbound.SetState(ctx, r.ID, database.StateChange{From: r.State, To: to, Reasons: r.Reasons, At: c.b.now()})
	return err
}
