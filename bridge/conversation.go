package bridge

import (
	"context"
	"fmt"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/routing"
)

// staffRooms are the rooms prepared for a new conversation before it is recorded.
type staffRooms struct {
	ghost      id.UserID
	name       string
	desk, side id.RoomID
	// creations are the rooms' room_creation tokens, finished when they are recorded.
	creations []string
}

// customerName is what staff see for a customer. Identity consent does not exist yet
// (the consent issue), so every customer is shown under their pseudonym.
func (t *Tenant) customerName(customer id.UserID) string {
	return t.names.Name(customer.String())
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
func (b *Bridge) conversationFor(ctx context.Context, t *Tenant, roomID id.RoomID, customer id.UserID) (*database.Conversation, *staffRooms, error) {
	conv, err := b.DB.Conversation.Open(ctx, roomID)
	if err != nil || conv != nil {
		return conv, nil, err
	}
	rooms, err := b.createStaffRooms(ctx, t, customer)
	return nil, rooms, err
}

// createStaffRooms creates the desk room (owned by the customer's ghost, so that with
// one agent it is a two-person room where Element offers calls) and the side room
// (owned by the business identity, with the tenant's supervisors invited).
func (b *Bridge) createStaffRooms(ctx context.Context, t *Tenant, customer id.UserID) (*staffRooms, error) {
	r := &staffRooms{name: t.customerName(customer), ghost: b.Config.GhostUserID(t.names.GhostID(customer.String()))}
	ghost := b.AS.Intent(r.ghost)
	if err := ghost.SetDisplayName(ctx, r.name); err != nil {
		return nil, fmt.Errorf("preparing the customer's ghost: %w", err)
	}
	creation := map[string]any{"m.federate": t.AllowRemoteAgents}
	// Each creation is noted first: rooms a failed or crashed start of the
	// conversation leaves unrecorded are left by their creator (see roomcleanup.go).
	deskReq := &mautrix.ReqCreateRoom{
		Preset:             "private_chat",
		Name:               r.name,
		Topic:              fmt.Sprintf("Your conversation with %s. What you write here is sent to the customer as %s.", r.name, t.DisplayName),
		CreationContent:    creation,
		PowerLevelOverride: staffPowerLevels(r.ghost, false),
	}
	deskToken, err := b.beginRoomCreation(ctx, t, purposeDesk, r.ghost, deskReq)
	if err != nil {
		return nil, err
	}
	desk, err := ghost.CreateRoom(ctx, deskReq)
	if err != nil {
		return nil, fmt.Errorf("creating the desk room: %w", err)
	}
	// Supervisors are invited by startConversation, once the room is recorded: an
	// invite sent with createRoom could be answered before the service knows the room.
	sideReq := &mautrix.ReqCreateRoom{
		Preset:             "private_chat",
		Name:               r.name + " · side room",
		Topic:              "Staff only: nothing written here ever reaches the customer. Send !help for the commands.",
		CreationContent:    creation,
		PowerLevelOverride: staffPowerLevels(t.UserID, false),
	}
	sideToken, err := b.beginRoomCreation(ctx, t, purposeSide, t.UserID, sideReq)
	if err != nil {
		return nil, err
	}
	side, err := t.Client.CreateRoom(ctx, sideReq)
	if err != nil {
		return nil, fmt.Errorf("creating the side room: %w", err)
	}
	r.creations = []string{deskToken, sideToken}
	r.desk, r.side = desk.RoomID, side.RoomID
	zerolog.Ctx(ctx).Info().Stringer("desk_room", r.desk).Stringer("side_room", r.side).Msg("Created the staff rooms")
	b.roomCreated(ctx)
	return r, nil
}

// staffPowerLevels keeps the service in charge of its staff rooms: only the owner
// invites, kicks and changes state; readOnly closes the room for messages too.
func staffPowerLevels(owner id.UserID, readOnly bool) *event.PowerLevelsEventContent {
	hundred := 100
	pl := &event.PowerLevelsEventContent{
		Users:           map[id.UserID]int{owner: 100},
		InvitePtr:       &hundred,
		KickPtr:         &hundred,
		BanPtr:          &hundred,
		StateDefaultPtr: &hundred,
	}
	if readOnly {
		pl.EventsDefault = 100
	}
	return pl
}

// startConversation records a new conversation with its staff rooms and queues what
// starting says: the welcome to the customer, the side room's introduction, the
// rooms' place in the tenant's space, and an offer if an agent is free. It runs inside
// the caller's transaction.
func (b *Bridge) startConversation(ctx context.Context, t *Tenant, roomID id.RoomID, customer id.UserID, rooms *staffRooms) (*database.Conversation, error) {
	conv, err := b.DB.Conversation.Start(ctx, database.NewConversation{
		TenantID: t.ID, RoomID: roomID, Ghost: rooms.ghost, DeskRoom: rooms.desk, SideRoom: rooms.side,
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
	enqueue := func(key string, room id.RoomID, sender id.UserID, evtType event.Type, content any) {
		if err == nil {
			err = b.DB.Outbox.Enqueue(ctx, outboxKey(key, conv.ID), room, sender, evtType, content, b.now())
		}
	}
	enqueue("welcome", roomID, t.UserID, event.EventMessage, bot.Notice(t.Welcome))
	if !t.Hours.Open(b.now()) && t.ClosedMessage != "" {
		enqueue("closed", roomID, t.UserID, event.EventMessage, bot.Notice(t.ClosedMessage))
	}
	intro := fmt.Sprintf("Conversation **%d** with **%s** is waiting for an agent. Nothing written in this room ever reaches the customer.\n\n%s",
		conv.ID, rooms.name, bot.SideHelp)
	enqueue("side-intro", rooms.side, t.UserID, event.EventMessage, bot.Notice(intro))
	for _, s := range t.Staff {
		if s.Role == routing.RoleSupervisor {
			enqueue("invite-supervisor|"+s.UserID, rooms.side, t.UserID, InviteAction, memberAction{UserID: id.UserID(s.UserID)})
		}
	}
	space, spaceErr := b.DB.TenantSpace.Get(ctx, t.ID)
	if spaceErr != nil {
		return nil, spaceErr
	}
	if space != "" {
		child := map[string]any{"via": []string{b.Config.Homeserver.Domain}}
		enqueue("space-desk", space, t.UserID, StateAction, stateAction{Type: event.StateSpaceChild.Type, StateKey: rooms.desk.String(), Content: child})
		enqueue("space-side", space, t.UserID, StateAction, stateAction{Type: event.StateSpaceChild.Type, StateKey: rooms.side.String(), Content: child})
	}
	if err != nil {
		return nil, err
	}
	if err = b.openConsent(ctx, t, conv, customer); err != nil {
		return nil, err
	}
	return conv, b.offerWaiting(ctx, t)
}
