package bridge

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/routing"
)

// Offers: routing asks an agent, in their control room, to take a conversation; they
// answer there (text, reaction or poll vote), or the offer lapses.

// offerOrigin starts the event-map name of an offer: cc:offer:<conversation>:<agent>:<n>.
const offerOrigin = "cc:offer:"

// errNotYetKnown: an answer points at an event the service has not recorded yet. A
// fast client can answer our offer or prompt before the outbox has stored the sent
// event's ID, so the first tries of such an event are retried (see answerRetries).
var errNotYetKnown = errors.New("the event answered is not recorded yet")

// answerRetries is how many times an answer to an unknown event is retried before it
// is taken as an answer to something else (and ignored).
const answerRetries = 3

// sendOffer tells the agent in their control room what is offered and why, and the
// side room that it was.
func (c *convo) sendOffer(ctx context.Context, agent id.UserID, decision routing.Decision, now time.Time) error {
	t := c.t
	record, err := c.b.DB.Staff.Get(ctx, t.ID, agent)
	if err != nil || record == nil || c.Customer == "" {
		return err
	}
	timeout := t.router.Workflow().OfferTimeout
	text := fmt.Sprintf("New conversation **%d** with **%s**, waiting since %s.\n\n%s\n\nReply **accept** to take it, or **decline**. The offer passes on in %s.",
		c.ID, c.customerName(), c.OpenedAt.UTC().Format("15:04 UTC"), decision.Explanation, timeout)
	// The offer three ways: text (reply accept/decline), ✅/❌ reactions on it, a poll.
	origin := fmt.Sprintf("%s%d:%s:%d", offerOrigin, c.ID, agent, now.UnixNano())
	control := record.ControlRoomID
	button := func(i int, key string) error {
		content := map[string]any{"m.relates_to": map[string]any{"rel_type": event.RelAnnotation, "event_id": origin, "key": key}}
		return c.b.DB.Outbox.EnqueueRelay(ctx, outboxKey(origin, "button", i), control, t.UserID, event.EventReaction, content, control, now)
	}
	zerolog.Ctx(ctx).Info().Int64("conversation", c.ID).Stringer("agent", agent).Int("step", decision.Step+1).Msg("Offered a conversation")
	return firstErr(
		c.b.queueOwn(ctx, control, t.UserID, origin, event.EventMessage, bot.Notice(text)),
		button(0, bot.OfferAcceptReaction), button(1, bot.OfferDeclineReaction),
		c.b.queueOwn(ctx, control, t.UserID, origin+"|poll", event.EventUnstablePollStart, bot.OfferPoll(fmt.Sprintf("Take conversation %d?", c.ID))),
		c.sideNotice(ctx, "routed", decision.Explanation+" (offered)"),
	)
}

// offerAnswer reads an agent's reaction or poll vote on an offer in their control
// room: the conversation it offered and whether they accept; ok false when the event
// is not an answer to an offer. early: the event may still be retried.
func (b *Bridge) offerAnswer(ctx context.Context, evt *event.Event, early bool) (convID int64, accept, ok bool, err error) {
	var target id.EventID
	switch evt.Type {
	case event.EventReaction:
		rel := evt.Content.AsReaction().RelatesTo
		target = rel.EventID
		if accept, ok = bot.ParseOfferReaction(rel.Key); !ok {
			return 0, false, false, nil
		}
	case event.EventUnstablePollResponse, eventPollResponse:
		if target, accept, ok = bot.ParseOfferVote(evt.Content.Raw); !ok {
			return 0, false, false, nil
		}
	default:
		return 0, false, false, nil
	}
	origin, err := b.translate(ctx, evt.RoomID, target, evt.RoomID)
	if err == nil && origin == "" && early {
		return 0, false, false, errNotYetKnown
	}
	if err != nil || !strings.HasPrefix(string(origin), offerOrigin) {
		return 0, false, false, err
	}
	idPart, _, _ := strings.Cut(strings.TrimPrefix(string(origin), offerOrigin), ":")
	convID, err = strconv.ParseInt(idPart, 10, 64)
	return convID, accept, err == nil, nil
}

// handleOfferAnswer takes an agent's answer to their offer: "accept" or "decline" in
// the control room, or a reaction or poll vote on the offer of conversation convID
// (0: whatever is offered to them now).
func (b *Bridge) handleOfferAnswer(ctx context.Context, j *job, t *Tenant, staff *database.StaffMember, accept bool, convID int64) error {
	conv, err := b.DB.Conversation.OfferedTo(ctx, t.ID, staff.UserID)
	if err != nil {
		return err
	}
	if conv != nil && convID != 0 && conv.ID != convID {
		conv = nil // an answer to an older offer, no longer theirs
	}
	zerolog.Ctx(ctx).Debug().Int64("answered", convID).Bool("accept", accept).Bool("offered_now", conv != nil).Msg("Offer answer")
	return j.Commit(ctx, func(ctx context.Context) error {
		if conv == nil {
			return b.reply(ctx, j, t, bot.NothingOffered)
		}
		c := t.convo(conv, j)
		won, err := b.DB.Conversation.Answer(ctx, t.ID, c.ID, staff.UserID, accept, b.now())
		if err != nil {
			return err
		}
		reply, how := bot.OfferDeclined(c.ID), bot.OfferEndDeclined
		switch {
		case accept && won:
			how = bot.OfferEndAccepted
			b.routerAssigned(ctx, t, staff.UserID, b.now())
			if err = firstErr(c.announceAssignment(ctx, staff.UserID, ""), c.outboundAccepted(ctx, staff.UserID)); err != nil {
				return err
			}
			reply = bot.OfferWon(c.ID) + " " + bot.JoinConversationRooms(c.customerName())
		case accept:
			reply, how = bot.OfferGone(c.ID), bot.OfferEndGone
		default:
			// Declined even if the offer lapsed meanwhile: it is not offered to them again.
			if err = firstErr(b.DB.Participants.Add(ctx, c.ID, staff.UserID, database.RoleDeclined, b.now()), b.offerWaiting(ctx, t)); err != nil {
				return err
			}
		}
		return firstErr(c.markOfferAnswered(ctx, staff.UserID, how), b.reply(ctx, j, t, reply)) // promptedits.go
	})
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
	expired, err := b.DB.Conversation.Expired(ctx, b.now().Add(-shortest))
	if err != nil {
		return err
	}
	for _, conv := range expired {
		c := b.convoOf(conv, nil)
		if c == nil {
			continue
		}
		if b.now().Sub(conv.OfferedAt) < c.t.router.Workflow().OfferTimeout {
			continue // this tenant waits longer
		}
		if err = b.doTxn(ctx, c.expireOffer); err != nil {
			return err
		}
	}
	return nil
}

// expireOffer takes back the conversation's lapsed offer, in a transaction.
func (c *convo) expireOffer(ctx context.Context) error {
	b, t, wf := c.b, c.t, c.t.router.Workflow()
	agent, now := c.OfferedTo, b.now()
	won, err := b.DB.Conversation.WithdrawAt(ctx, c.ID, agent, now)
	if err != nil || !won {
		return err // answered or taken back meanwhile
	}
	if err = b.DB.Participants.Add(ctx, c.ID, agent, database.RoleDeclined, now); err != nil {
		return err
	}
	// The declined row keeps them from this conversation: every pass reads it.
	b.routerOffered(ctx, t, agent, 0, now)
	missed, err := b.DB.Staff.Missed(ctx, t.ID, agent)
	if err != nil {
		return err
	}
	record, err := b.DB.Staff.Get(ctx, t.ID, agent)
	if err != nil || record == nil {
		return err
	}
	text := fmt.Sprintf("Conversation **%d** went to someone else: no answer within %s.", c.ID, wf.OfferTimeout)
	if wf.SetsAway(missed) {
		text += fmt.Sprintf(" That is %d offers in a row, so you are now **away**. Send **!ready** when you are back.", missed)
		if err = firstErr(b.setStaffStatus(ctx, t, agent, routing.Away, now), b.DB.Staff.ResetMissed(ctx, t.ID, agent)); err != nil {
			return err
		}
		zerolog.Ctx(ctx).Info().Stringer("agent", agent).Int("missed", missed).Msg("Agent set away after unanswered offers")
	}
	key := outboxKey("offer-expired", c.ID, agent, now.UnixNano())
	return firstErr(
		c.markOfferAnswered(ctx, agent, bot.OfferEndLapsed), // promptedits.go
		b.DB.Outbox.Enqueue(ctx, key, record.ControlRoomID, t.UserID, event.EventMessage, bot.Notice(text), now),
		c.sideNotice(ctx, "offer-expired", fmt.Sprintf("%s did not answer the offer within %s; routing goes on.", t.staffName(agent), wf.OfferTimeout)),
	)
}
