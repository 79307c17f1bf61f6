package bridge

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/consent"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/outbound"
	"github.com/contactcenter/contactcenter/routing"
)

// Outbound contact as a conversation. An allowed request becomes a conversation at
// once: its staff rooms, and a customer room that is either the customer's existing
// DM with the tenant (if both are still in it) or a new encrypted DM the business
// identity creates, as Element creates DMs, without inviting anyone yet. It is routed
// like any conversation, the account manager first (or only the agent the request
// names). The customer hears nothing until an agent accepts: then the decision is
// made again and the business writes in the existing DM, or invites the customer to
// the new one. Every state change of the request is a compare-and-set in the
// transaction of the event that causes it (database.OutboundQuery.SetState), so
// replicas never both act, and a refusal by the customer or their server is final.

// purposeOutbound notes the creation of a new DM with a customer.
const purposeOutbound = "outbound"

// errOutboundTaken: another replica started the request first.
var errOutboundTaken = errors.New("the outbound request was started elsewhere")

// startOutbound makes an allowed request a conversation waiting for an agent. Room
// creation happens before the transaction; if the request was started elsewhere
// meanwhile, the rooms are never recorded and their creators leave them.
func (b *Bridge) startOutbound(ctx context.Context, t *Tenant, r *database.OutboundRequest) error {
	log := zerolog.Ctx(ctx).With().Str("tenant", t.ID).Int64("outbound", r.ID).Logger()
	ctx = log.WithContext(ctx)
	customer := id.UserID(r.Customer)
	roomID, err := b.existingDM(ctx, t, customer)
	if err != nil {
		return err
	}
	newRoom, token := roomID == "", ""
	if newRoom {
		if roomID, token, err = b.createCustomerDM(ctx, t); err != nil {
			return err
		}
	}
	rooms, err := b.createStaffRooms(ctx, t, customer)
	if err != nil {
		return err
	}
	defer b.outbox.Wake()
	err = b.doTxn(ctx, func(ctx context.Context) error {
		now := b.now()
		if newRoom {
			if err := b.DB.CustomerRoom.Put(ctx, &database.CustomerRoom{RoomID: roomID, TenantID: t.ID, Customer: customer, JoinedAt: now}); err != nil {
				return err
			}
			if err := b.DB.Creations.Finish(ctx, token); err != nil {
				return err
			}
		}
		conv, err := b.DB.Conversation.Start(ctx, database.NewConversation{
			TenantID: t.ID, RoomID: roomID, Ghost: rooms.ghost, DeskRoom: rooms.desk, SideRoom: rooms.side,
		}, now)
		if err != nil {
			return err
		}
		if started, err := b.DB.Outbound.Start(ctx, r.ID, conv.ID, roomID, now); err != nil {
			return err
		} else if !started {
			return errOutboundTaken
		}
		for _, token := range rooms.creations {
			if err = b.DB.Creations.Finish(ctx, token); err != nil {
				return err
			}
		}
		c := t.convo(conv, nil)
		if err = c.announceOutbound(ctx, rooms.name, r); err != nil {
			return err
		}
		if err = c.applyRemembered(ctx); err != nil {
			return err
		}
		log.Info().Int64("conversation", conv.ID).Bool("new_room", newRoom).Msg("Outbound conversation waiting for an agent")
		return b.offerWaiting(ctx, t)
	})
	if errors.Is(err, errOutboundTaken) {
		log.Debug().Msg("Outbound request started by another replica")
		return nil
	}
	return err
}

// existingDM is the customer's DM with the tenant that both are still in, or "".
func (b *Bridge) existingDM(ctx context.Context, t *Tenant, customer id.UserID) (id.RoomID, error) {
	rooms, err := b.DB.CustomerRoom.OfCustomer(ctx, t.ID, customer)
	if err != nil {
		return "", err
	}
	for _, room := range rooms {
		theirs, err := b.StateStore.GetMembership(ctx, room.RoomID, customer)
		if err != nil {
			return "", err
		}
		ours, err := b.StateStore.GetMembership(ctx, room.RoomID, t.UserID)
		if err != nil {
			return "", err
		}
		if theirs == event.MembershipJoin && ours == event.MembershipJoin {
			return room.RoomID, nil
		}
	}
	return "", nil
}

// createCustomerDM creates a new DM of the business identity as Element creates one
// (is_direct, trusted private chat, encrypted from its first event when the service
// has encryption), with nobody invited yet, and returns it with its creation token.
func (b *Bridge) createCustomerDM(ctx context.Context, t *Tenant) (id.RoomID, string, error) {
	req := &mautrix.ReqCreateRoom{Preset: "trusted_private_chat", IsDirect: true}
	if t.Crypto != nil {
		req.InitialState = []*event.Event{{
			Type:    event.StateEncryption,
			Content: event.Content{Parsed: &event.EncryptionEventContent{Algorithm: id.AlgorithmMegolmV1}},
		}}
	}
	token, err := b.beginRoomCreation(ctx, t, purposeOutbound, t.UserID, req)
	if err != nil {
		return "", "", err
	}
	resp, err := t.Client.CreateRoom(ctx, req)
	if err != nil {
		return "", "", fmt.Errorf("creating a DM for an outbound request: %w", err)
	}
	b.roomCreated(ctx)
	return resp.RoomID, token, nil
}

// announceOutbound is the start of an outbound conversation for staff only: the side
// room's introduction and its supervisors, the rooms' place in the space. The
// customer hears nothing yet.
func (c *convo) announceOutbound(ctx context.Context, name string, r *database.OutboundRequest) error {
	t := c.t
	var err error
	enqueue := func(key string, room id.RoomID, evtType event.Type, content any) {
		if err == nil {
			err = c.enqueue(ctx, outboxKey(key, c.ID), room, t.UserID, evtType, content)
		}
	}
	enqueue("side-intro", c.SideRoom, event.EventMessage, bot.Notice(bot.OutboundSideIntro(c.ID, name, r.Reason)))
	for _, s := range t.staff() {
		if s.Role == routing.RoleSupervisor {
			enqueue("invite-supervisor|"+s.UserID, c.SideRoom, InviteAction, memberAction{UserID: id.UserID(s.UserID)})
		}
	}
	space, spaceErr := c.b.DB.TenantSpace.Get(ctx, t.ID)
	if spaceErr != nil {
		return spaceErr
	}
	if space != nil {
		child := map[string]any{"via": []string{c.b.Config.Homeserver.Domain}}
		enqueue("space-desk", space.RoomID, StateAction, stateAction{Type: event.StateSpaceChild.Type, StateKey: c.DeskRoom.String(), Content: child})
		enqueue("space-side", space.RoomID, StateAction, stateAction{Type: event.StateSpaceChild.Type, StateKey: c.SideRoom.String(), Content: child})
	}
	return err
}

// applyRemembered applies the customer's remembered choices to the conversation
// without asking anything (the customer is not contacted before an agent accepts),
// and writes the card and the routing attributes through the gate.
func (c *convo) applyRemembered(ctx context.Context) error {
	b, t, s := c.b, c.t, c.subject()
	remembered, _, err := c.rememberedChoices(ctx)
	if err != nil {
		return err
	}
	if len(remembered) > 0 {
		if _, err = b.Consent.Decide(ctx, s, c.ID, consent.MethodPolicy, t.purposeMap(), remembered, false); err != nil {
			return err
		}
	}
	return c.updateCard(ctx)
}

// selectOutbound picks the agent for an outbound conversation: only the agent the
// request names; else the customer's account manager when available; else the step
// of the request's queue, or the workflow's step as for any conversation.
func (t *Tenant) selectOutbound(r *database.OutboundRequest, task *routing.Task, now time.Time, age time.Duration, except []string) (routing.Decision, bool) {
	pick := func(userID, how string) (routing.Decision, bool) {
		state, known := t.router.Agent(userID)
		if !known || !state.Available || contains(except, userID) {
			return routing.Decision{}, false
		}
		return routing.Decision{UserID: userID, Name: state.Name, Explanation: bot.OutboundOffer(r.Reason, "Offered to "+state.Name+": "+how+".")}, true
	}
	if r.Agent != "" {
		return pick(r.Agent, "the agent the request names")
	}
	if task.AccountManager != "" && !task.Anonymous {
		if d, ok := pick(task.AccountManager, "the customer's account manager"); ok {
			return d, true
		}
	}
	step, _ := t.router.StepFor(task, age)
	if r.Queue != "" {
		for i, s := range t.router.Workflow().Steps {
			if strings.EqualFold(s.Queue, r.Queue) {
				step = i
			}
		}
	}
	d, ok := t.router.SelectExcept(task, step, now, except)
	if ok {
		d.Explanation = bot.OutboundOffer(r.Reason, d.Explanation+".")
	}
	return d, ok
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// outboundAccepted follows an agent's acceptance of an outbound conversation, inside
// the acceptance's transaction: the contact is decided again (the customer may have
// withdrawn meanwhile); allowed, the business writes in the existing DM at once, or
// invites the customer to the new one once the transaction commits.
func (c *convo) outboundAccepted(ctx context.Context, agent id.UserID) error {
	b, t := c.b, c.t
	r, err := b.DB.Outbound.ByConversation(ctx, c.ID)
	if err != nil || r == nil || r.State != outbound.StateRouting {
		return err
	}
	now := b.now()
	d, err := b.redecide(ctx, t, r, now, true)
	if err != nil {
		return err
	}
	if d.Verdict == outbound.Refused {
		if _, err = b.DB.Outbound.SetState(ctx, r.ID, database.StateChange{From: r.State, To: outbound.StateRefused, Reasons: d.Reasons, At: now}); err != nil {
			return err
		}
		return firstErr(c.sideNotice(ctx, "outbound-refused", bot.OutboundRefusedNow(reasonCodes(d.Reasons))),
			c.end(ctx, "The customer can no longer be contacted.", false))
	}
	joined, err := b.StateStore.GetMembership(ctx, c.RoomID, c.Customer)
	if err != nil {
		return err
	}
	if joined != event.MembershipJoin {
		b.afterCommit(ctx, func(ctx context.Context) { b.inviteOutbound(ctx, t, r.ID, c.ID) })
		return nil
	}
	if _, err = b.DB.Outbound.AddAttempt(ctx, r.ID, now); err != nil {
		return err
	}
	if changed, err := b.DB.Outbound.SetState(ctx, r.ID, database.StateChange{From: r.State, To: outbound.StateJoined, Reasons: d.Reasons, At: now}); err != nil || !changed {
		return err
	}
	return firstErr(c.writeFirst(ctx, r, agent), c.sideNotice(ctx, "outbound-written", bot.OutboundWritten))
}

// writeFirst queues the business's first words and then what any conversation's
// start asks (the consent prompt for what is not remembered, the card).
func (c *convo) writeFirst(ctx context.Context, r *database.OutboundRequest, agent id.UserID) error {
	text := bot.OutboundFirstMessage(c.t.Name, c.t.staffName(agent), r.Reason)
	if err := c.enqueue(ctx, outboxKey("outbound-first", r.ID), c.RoomID, c.t.UserID, event.EventMessage, bot.Notice(text)); err != nil {
		return err
	}
	return c.openConsent(ctx)
}

func reasonCodes(reasons []outbound.Reason) string {
	codes := make([]string, len(reasons))
	for i, r := range reasons {
		codes[i] = string(r.Code)
	}
	return strings.Join(codes, ", ")
}

// redecide decides a request again with what is known now and stores the decision.
// accepted: an agent took it, so the request itself no longer counts against the cap
// and the open conversation is its own.
func (b *Bridge) redecide(ctx context.Context, t *Tenant, r *database.OutboundRequest, now time.Time, accepted bool) (outbound.Decision, error) {
	policy, err := t.ContactPolicy()
	if err != nil {
		return outbound.Decision{}, err
	}
	facts, err := b.decisionFacts(ctx, t, r)
	if err != nil {
		return outbound.Decision{}, err
	}
	in := outbound.Input{Now: now, ContactPolicy: facts.ContactPolicy, PolicySetAt: facts.PolicySetAt, LastDecision: facts.LastDecision,
		LastDecisionAt: facts.LastDecisionAt, OptedOut: facts.OptedOut, OpenConversation: facts.OpenConversation && !accepted,
		LocationZone: facts.LocationZone, ProfileZone: facts.ProfileZone, TenantZone: policy.TimeZone(),
		NotBefore: r.NotBefore, NotAfter: r.NotAfter, Callback: r.Origin == database.OriginCallback}
	if period := policy.Period(); period > 0 {
		contacts, err := b.DB.Outbound.Contacts(ctx, t.ID, r.Customer, now.Add(-period))
		if err != nil {
			return outbound.Decision{}, err
		}
		for _, at := range contacts {
			if !r.RoutedAt.IsZero() && at.UnixMilli() == r.RoutedAt.UnixMilli() {
				continue // this request itself
			}
			in.Contacts = append(in.Contacts, at)
		}
	}
	d := outbound.Decide(policy, in)
	if accepted && d.Verdict == outbound.Deferred {
		// The window closed while an agent took it: they write now, as they accepted.
		d.Verdict = outbound.Allowed
	}
	err = b.DB.OutboundDecisions.Insert(ctx, &database.StoredDecision{TenantID: t.ID, Customer: r.Customer, RequestID: r.ID,
		Decision: d, Inputs: in, DecidedAt: now})
	return d, err
}
