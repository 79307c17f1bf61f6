package bridge

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/database"
)

// The customer room: the DM between a customer and a business identity. Invites to a
// business identity start intake; the customer's events are relayed to the desk and
// side rooms (or are answers for the service, see consentanswers.go); a third person
// in the room, or the customer leaving, ends it.

// handleMember reacts to membership: invites to a business identity start intake; a
// third person in a customer room, or the customer leaving, ends it.
func (b *Bridge) handleMember(ctx context.Context, j *job) error {
	evt := j.evt
	target := id.UserID(evt.GetStateKey())
	membership := evt.Content.AsMember().Membership
	room, err := b.DB.CustomerRoom.Get(ctx, evt.RoomID)
	if err != nil {
		return err
	}
	if t := b.tenants[target]; t != nil && membership == event.MembershipInvite && !b.isOurs(evt.Sender) {
		return b.handleInvite(ctx, j, t, room)
	}
	if room == nil {
		return b.staffLeft(ctx, j) // staffleave.go
	}
	t := b.TenantByID(room.TenantID)
	if t == nil {
		return nil
	}
	leaving := membership == event.MembershipLeave || membership == event.MembershipBan
	if !room.LeftAt.IsZero() {
		// The service refused or left the room: when its own leave arrives, nothing
		// may stay open there, since nothing there would ever close it.
		if target == t.UserID && leaving {
			return b.endRoom(ctx, j, t, false)
		}
		return nil
	}
	switch {
	case target == room.Customer && membership == event.MembershipJoin:
		// A customer invited by an outbound request joins.
		return b.outboundJoined(ctx, j, t, room)
	case target != room.Customer && target != t.UserID &&
		(membership == event.MembershipInvite || membership == event.MembershipJoin || membership == event.MembershipKnock):
		return b.refuseRoom(ctx, j, t, bot.DirectChatsOnly)
	case (target == room.Customer || target == t.UserID) && leaving:
		// The business identity does not stay behind alone.
		return b.endRoom(ctx, j, t, target == room.Customer)
	}
	return nil
}

// handleInvite is intake: join the customer's DM, learn its state (encryption above
// all), record the room and a conversation, and queue the welcome. Every step is
// idempotent, so a repeated invite or a retry after a crash greets once. room is the
// room's record, if it has one.
func (b *Bridge) handleInvite(ctx context.Context, j *job, t *Tenant, room *database.CustomerRoom) error {
	evt := j.evt
	log := zerolog.Ctx(ctx).With().Str("tenant", t.ID).Logger()
	ctx = log.WithContext(ctx)
	server := evt.Sender.Homeserver()
	if b.Config.IsBanned(server) {
		log.Info().Str("server", server).Msg("Refusing an invite from a banned server")
		_, err := t.Client.LeaveRoom(ctx, evt.RoomID, &mautrix.ReqLeave{Reason: "This service does not accept conversations from your server."})
		if err != nil && !errors.Is(err, mautrix.MForbidden) {
			return err
		}
		return nil
	}
	if ok, err := b.roomAllowed(ctx, t, j); !ok {
		return err
	}
	if err := b.joinWithRetry(ctx, t, evt.RoomID, server); err != nil {
		return err
	}
	if room != nil && !room.Serves(t.ID, evt.Sender) {
		return b.declineRoom(ctx, j, t, room)
	}
	// Transactions only carry state sent after we joined: read the rest now.
	if _, err := t.Client.State(ctx, evt.RoomID); err != nil {
		return fmt.Errorf("reading room state: %w", err)
	}
	encrypted, err := b.StateStore.IsEncrypted(ctx, evt.RoomID)
	if err != nil {
		return err
	}
	if encrypted && t.Crypto == nil {
		return b.refuseRoom(ctx, j, t, bot.EncryptionUnsupported)
	}
	// A customer room has exactly two members: anyone else in it would read what
	// agents write to the customer.
	members, err := b.StateStore.GetRoomJoinedOrInvitedMembers(ctx, evt.RoomID)
	if err != nil {
		return err
	}
	for _, member := range members {
		if member != t.UserID && member != evt.Sender {
			return b.refuseRoom(ctx, j, t, bot.DirectChatsOnly)
		}
	}
	log.Info().Stringer("room_id", evt.RoomID).Bool("encrypted", encrypted).Msg("Joined a customer room")
	conv, rooms, err := b.conversationFor(ctx, t, &database.CustomerRoom{RoomID: evt.RoomID, Customer: evt.Sender})
	if err != nil {
		return err
	}
	return j.Commit(ctx, func(ctx context.Context) error {
		err := b.DB.CustomerRoom.Put(ctx, &database.CustomerRoom{
			RoomID: evt.RoomID, TenantID: t.ID, Customer: evt.Sender, JoinedAt: b.now(),
		})
		if err == nil && conv == nil {
			_, err = b.startConversation(ctx, t, j, evt.RoomID, rooms)
		}
		return err
	})
}

// refuseRoom says why the service will not serve a room, then leaves it.
func (b *Bridge) refuseRoom(ctx context.Context, j *job, t *Tenant, why string) error {
	zerolog.Ctx(ctx).Info().Str("reason", why).Msg("Refusing a room")
	return j.Commit(ctx, func(ctx context.Context) error { return b.refuse(ctx, j, t, why) })
}

// refuse is refuseRoom inside a transaction.
func (b *Bridge) refuse(ctx context.Context, j *job, t *Tenant, why string) error {
	key := outboxKey("refuse", j.evt.RoomID, j.Key())
	err := b.DB.Outbox.Enqueue(ctx, key, j.evt.RoomID, t.UserID, event.EventMessage, bot.Notice(why), b.now())
	if err != nil {
		return err
	}
	return b.closeRoom(ctx, j, t, true)
}

// declineRoom answers an invite into a customer room recorded for another tenant or
// another customer: the room, its consent records and its conversations stay theirs.
// The invited business identity says why and leaves, touching nothing of the record.
// If the room's own business identity still serves it, the newcomer is a third person
// there, and it refuses the room as it would for anyone.
func (b *Bridge) declineRoom(ctx context.Context, j *job, t *Tenant, room *database.CustomerRoom) error {
	zerolog.Ctx(ctx).Info().Str("owner", room.TenantID).Msg("Declining a room recorded for another conversation")
	owner := b.TenantByID(room.TenantID)
	roomID := j.evt.RoomID
	return j.Commit(ctx, func(ctx context.Context) error {
		key := outboxKey("decline", t.ID, roomID, j.Key())
		err := firstErr(
			b.DB.Outbox.Enqueue(ctx, outboxKey(key, "notice"), roomID, t.UserID, event.EventMessage, bot.Notice(bot.RoomOfAnotherConversation), b.now()),
			b.DB.Outbox.Enqueue(ctx, outboxKey(key, "leave"), roomID, t.UserID, LeaveAction, struct{}{}, b.now()),
		)
		if err != nil || owner == nil || !room.LeftAt.IsZero() {
			return err
		}
		return b.refuse(ctx, j, owner, bot.DirectChatsOnly)
	})
}

// endRoom ends the service's presence in a customer room the customer (or the
// business identity itself) left.
func (b *Bridge) endRoom(ctx context.Context, j *job, t *Tenant, leave bool) error {
	return j.Commit(ctx, func(ctx context.Context) error { return b.closeRoom(ctx, j, t, leave) })
}

// closeRoom records the room as left, closes its conversation and, if asked, queues
// the business identity's leave behind what it says last. It runs in a transaction.
func (b *Bridge) closeRoom(ctx context.Context, j *job, t *Tenant, leave bool) error {
	roomID := j.evt.RoomID
	if leave {
		err := b.DB.Outbox.Enqueue(ctx, outboxKey("leave", roomID, j.Key()), roomID, t.UserID, LeaveAction, struct{}{}, b.now())
		if err != nil {
			return err
		}
	}
	if room, err := b.DB.CustomerRoom.Get(ctx, roomID); err != nil || room == nil {
		return err
	}
	if err := b.DB.CustomerRoom.MarkLeft(ctx, roomID, b.now()); err != nil {
		return err
	}
	conv, err := b.DB.Conversation.Open(ctx, roomID)
	if err != nil || conv == nil {
		return err
	}
	c := b.convoOf(conv, j)
	if c == nil {
		// Its tenant is gone from the config: nobody is left to tell.
		_, err = b.DB.Conversation.Close(ctx, conv.ID, b.now())
		return err
	}
	return c.end(ctx, "The customer left.", false)
}

// handleCustomerEvent takes what the customer sends in their room: it is relayed to
// the conversation's desk room and mirrored to its side room. A customer writing after
// their conversation ended starts a new one (with a welcome) that this event opens.
// t is the room's tenant; an open conversation is served by its own tenant.
func (b *Bridge) handleCustomerEvent(ctx context.Context, j *job, t *Tenant, room *database.CustomerRoom) error {
	evt := j.evt
	if evt.Sender != room.Customer || !room.LeftAt.IsZero() {
		// A room the service refused or left (its leave may still be on its way):
		// nothing written there opens a conversation, which would never close.
		return nil
	}
	if ok, err := b.customerEventAllowed(ctx, j, t, room); !ok {
		return err
	}
	if handled, err := b.surveyInput(ctx, j, t, room); handled || err != nil {
		return err // survey.go
	}
	conv, rooms, err := b.conversationFor(ctx, t, room)
	if err != nil {
		return err
	}
	var c *convo
	if conv != nil {
		if c = b.convoOf(conv, j); c == nil {
			return nil // its tenant is gone from the config
		}
	} else {
		// A new conversation's rooms exist already: the event can be prepared for them.
		c = t.convo(&database.Conversation{RoomID: room.RoomID, Customer: room.Customer,
			Ghost: rooms.ghost, DeskRoom: rooms.desk, SideRoom: rooms.side}, j)
	}
	var relays []relay
	refusal := mediaCopied
	if relayable(evt.Type) {
		if relays, refusal, err = c.fromCustomer(ctx); err != nil {
			return err
		}
	}
	if conv != nil && refusal == mediaCopied && consentIgnores(evt) {
		// Nothing to write but the copies, which can carry the entry's mark: the
		// commit of most of a conversation's messages.
		if err = b.commitRelays(ctx, j, c.ID, evt, relays); err == nil {
			j.KeepForNext(keepRoom(room, conv))
		}
		return err
	}
	relayedOnly := false
	err = j.Commit(ctx, func(ctx context.Context) error {
		if conv == nil {
			var err error
			if c, err = b.startConversation(ctx, t, j, room.RoomID, rooms); err != nil {
				return err
			}
		}
		if err := c.tellMediaRefusal(ctx, refusal); err != nil {
			return err
		}
		// Answers to the service (consent, codes, !privacy) are not for the agents.
		if handled, err := c.consentInput(ctx, j.entry.Attempts < answerRetries); handled || err != nil {
			return err
		}
		relayedOnly = conv != nil && refusal == mediaCopied && leftAsIs(evt)
		return b.queueRelays(ctx, c.ID, evt, evt.Sender, relays)
	})
	if err == nil && relayedOnly {
		j.KeepForNext(keepRoom(room, conv))
	}
	return err
}

// keptRoom is a customer room with its open conversation as read for one event, left
// for the next event of the room's turn (transport.Job.KeepForNext) when relaying the
// first changed neither: a customer writing several messages at once has the room
// read once. Each event gets copies of its own.
type keptRoom struct {
	room database.CustomerRoom
	open database.Conversation
}

// keepRoom copies a room and its open conversation.
func keepRoom(room *database.CustomerRoom, open *database.Conversation) keptRoom {
	kept := keptRoom{room: *room, open: *open}
	kept.room.Open = nil
	return kept
}

func (k keptRoom) role() roomRole {
	room, open := k.room, k.open
	room.OpenRead, room.Open = true, &open
	return roomRole{kind: customerRoom, tenantID: room.TenantID, customer: &room}
}

// setBusinessName sets the business identity's display name in the customer room
// only ("Carol · ACME"): its global profile stays the tenant's.
func (c *convo) setBusinessName(ctx context.Context, name string) error {
	t := c.t
	member := map[string]any{"membership": event.MembershipJoin, "displayname": name}
	if t.Avatar != "" {
		member["avatar_url"] = t.Avatar
	}
	key := outboxKey("name", c.ID, c.b.now().UnixNano())
	return c.enqueue(ctx, key, c.RoomID, t.UserID, StateAction,
		stateAction{Type: event.StateMember.Type, StateKey: t.UserID.String(), Content: member})
}

// tellCustomer answers the customer's event with a notice from the service; what
// tells one answer to the event from another.
func (c *convo) tellCustomer(ctx context.Context, what, markdown string) error {
	return c.enqueue(ctx, outboxKey("tell", what, c.evt().ID), c.RoomID, c.t.UserID, event.EventMessage, bot.Notice(markdown))
}

// joinWithRetry joins a room over federation. Right after an invite a homeserver may
// still refuse the join (M_FORBIDDEN "from leave to join" on Dendrite, about 1 in 6),
// so retry a few times with growing waits before giving the inbox the failure.
func (b *Bridge) joinWithRetry(ctx context.Context, t *Tenant, roomID id.RoomID, via string) error {
	wait := 250 * time.Millisecond
	var err error
	for attempt := 0; attempt < 6; attempt++ {
		_, err = t.Client.JoinRoom(ctx, roomID.String(), &mautrix.ReqJoinRoom{Via: []string{via}})
		if err == nil {
			return nil
		}
		zerolog.Ctx(ctx).Debug().Err(err).Int("attempt", attempt+1).Msg("Join failed; retrying")
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait *= 2
	}
	return fmt.Errorf("joining %s: %w", roomID, err)
}
