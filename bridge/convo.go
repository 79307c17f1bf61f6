package bridge

import (
	"context"
	"fmt"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/routing"
)

// convo is one conversation as the bridge works on it, the way mautrix's bridgev2
// gives each room a Portal: its record (with its customer and its three rooms), the
// tenant that serves it, and the inbox job being handled (nil when the service's own
// loops act: routing, timeouts, staff changes). Its methods are the conversation's
// rules in Matrix terms, by room and role: customerroom.go, deskroom.go,
// convostate.go, offers.go, consentglue.go, card.go. Unless they say otherwise they
// run inside the caller's database transaction and only queue what they send.
type convo struct {
	*database.Conversation
	b *Bridge
	t *Tenant
	j *job
}

// convo is the tenant's conversation conv, handled for job j (nil: no job).
func (t *Tenant) convo(conv *database.Conversation, j *job) *convo {
	return &convo{Conversation: conv, b: t.b, t: t, j: j}
}

// convoOf is conv served by its own tenant, or nil if that tenant is gone from the
// config.
func (b *Bridge) convoOf(conv *database.Conversation, j *job) *convo {
	if t := b.TenantByID(conv.TenantID); t != nil {
		return t.convo(conv, j)
	}
	return nil
}

// evt is the event the conversation's job handles.
func (c *convo) evt() *event.Event { return c.j.evt }

// enqueue queues an event (or room action) to send now, under an outbox dedupe key.
func (c *convo) enqueue(ctx context.Context, key string, room id.RoomID, sender id.UserID, evtType event.Type, content any) error {
	return c.b.DB.Outbox.Enqueue(ctx, key, room, sender, evtType, content, c.b.now())
}

// customerName is what staff see for a customer: always their pseudonym, so a name
// never reaches a staff room through a shared identity that is later withdrawn.
func (t *Tenant) customerName(customer id.UserID) string {
	return t.names.Name(customer.String())
}

// customerName is the conversation's customer as staff see them.
func (c *convo) customerName() string {
	if c.Customer == "" {
		return "the customer"
	}
	return c.t.customerName(c.Customer)
}

// staffRooms are the rooms prepared for a new conversation before it is recorded.
type staffRooms struct {
	ghost      id.UserID
	name       string
	desk, side id.RoomID
	// creations are the rooms' room_creation tokens, finished when they are recorded.
	creations []string
}

// conversationFor returns the room's open conversation, or, when there is none, the
// freshly created staff rooms of the next one, for the caller to record with
// startConversation in its commit. Room creation is a network side effect that must
// not run inside a database transaction; if the commit fails, the rooms are never
// recorded and their creator leaves them (see roomcleanup.go).
//
// The staff rooms exist from the conversation's first moment, not from assignment:
// everything the customer writes while waiting is relayed at once, the assigned agent
// reads it on joining, and supervisors can watch the queue.
//
// A room read with its open conversation (database.CustomerRoom.OpenRead) is not read
// again.
func (b *Bridge) conversationFor(ctx context.Context, t *Tenant, room *database.CustomerRoom) (*database.Conversation, *staffRooms, error) {
	conv := room.Open
	if !room.OpenRead {
		var err error
		if conv, err = b.DB.Conversation.Open(ctx, room.RoomID); err != nil {
			return nil, nil, err
		}
	}
	if conv != nil {
		return conv, nil, nil
	}
	rooms, err := b.createStaffRooms(ctx, t, room.Customer)
	return nil, rooms, err
}

// startConversation records a new conversation with its staff rooms and queues what
// starting says: the welcome to the customer, the side room's introduction, the
// rooms' place in the tenant's space, the consent prompt, and an offer if an agent is
// free. It runs inside the caller's transaction (the commit of job j).
func (b *Bridge) startConversation(ctx context.Context, t *Tenant, j *job, roomID id.RoomID, rooms *staffRooms) (*convo, error) {
	conv, err := b.DB.Conversation.Start(ctx, database.NewConversation{
		TenantID: t.ID, RoomID: roomID, Ghost: rooms.ghost, DeskRoom: rooms.desk, SideRoom: rooms.side,
		Step: t.firstStep(), CustomerRef: rooms.name,
	}, b.now())
	if err != nil {
		return nil, err
	}
	for _, token := range rooms.creations {
		if err = b.DB.Creations.Finish(ctx, token); err != nil {
			return nil, err
		}
	}
	zerolog.Ctx(ctx).Info().Int64("conversation", conv.ID).Msg("Conversation started")
	c := t.convo(conv, j)
	if err = c.announceStart(ctx, rooms.name); err != nil {
		return nil, err
	}
	if err = c.openConsent(ctx); err != nil {
		return nil, err
	}
	return c, b.offerWaiting(ctx, t)
}

// announceStart queues the welcome, the closed-hours notice, the side room's
// introduction and its supervisors' invites, and the rooms' place in the space.
func (c *convo) announceStart(ctx context.Context, name string) error {
	t := c.t
	var err error
	enqueue := func(key string, room id.RoomID, sender id.UserID, evtType event.Type, content any) {
		if err == nil {
			err = c.enqueue(ctx, outboxKey(key, c.ID), room, sender, evtType, content)
		}
	}
	enqueue("welcome", c.RoomID, t.UserID, event.EventMessage, bot.Notice(t.Welcome))
	if !t.Hours.Open(c.b.now()) && t.ClosedMessage != "" {
		enqueue("closed", c.RoomID, t.UserID, event.EventMessage, bot.Notice(t.ClosedMessage))
	}
	intro := fmt.Sprintf("Conversation **%d** with **%s** is waiting for an agent. Nothing written in this room ever reaches the customer.\n\n%s",
		c.ID, name, bot.SideHelp)
	enqueue("side-intro", c.SideRoom, t.UserID, event.EventMessage, bot.Notice(intro))
	for _, s := range t.staff() {
		if s.Role == routing.RoleSupervisor {
			enqueue("invite-supervisor|"+s.UserID, c.SideRoom, t.UserID, InviteAction, memberAction{UserID: id.UserID(s.UserID)})
		}
	}
	space, spaceErr := c.b.DB.TenantSpace.Get(ctx, t.ID)
	if spaceErr != nil {
		return spaceErr
	}
	if space != nil {
		child := map[string]any{"via": []string{c.b.Config.Homeserver.Domain}}
		enqueue("space-desk", space.RoomID, t.UserID, StateAction, stateAction{Type: event.StateSpaceChild.Type, StateKey: c.DeskRoom.String(), Content: child})
		enqueue("space-side", space.RoomID, t.UserID, StateAction, stateAction{Type: event.StateSpaceChild.Type, StateKey: c.SideRoom.String(), Content: child})
	}
	return err
}
