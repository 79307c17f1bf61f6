package bridge

import (
	"context"
	"fmt"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/database"
)

// A conversation's two staff rooms: the desk room (the customer's ghost and the
// agents, whose messages there go to the customer) and the side room (the business
// identity, agents and supervisors: the mirror, the card, staff talk and commands;
// nothing from it is ever relayed). Commands heard in them are in deskcommands.go.

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

// handleStaffRoom takes an event in the conversation's desk or side room. Only the
// tenant's own staff are heard (anyone else is ignored, which keeps tenants apart).
// Commands work in both rooms; messages of the conversation's agents in the desk room
// are relayed to the customer and mirrored to the side room; nothing from the side
// room is ever relayed.
func (c *convo) handleStaffRoom(ctx context.Context) error {
	evt := c.evt()
	staff := c.t.staffEntry(evt.Sender)
	if staff == nil || c.Status == database.StatusClosed {
		return nil
	}
	if evt.Type == event.EventMessage {
		if cmd, ok := bot.ParseBangCommand(evt.Content.AsMessage().Body); ok {
			return c.handleStaffCommand(ctx, staff, cmd)
		}
	}
	if evt.RoomID != c.DeskRoom || !relayable(evt.Type) {
		return nil
	}
	participants, err := c.b.DB.Participants.Current(ctx, c.ID)
	if err != nil {
		return err
	}
	agents := 0
	isAgent := false
	for _, p := range participants {
		if p.Role == database.RoleAgent {
			agents++
			isAgent = isAgent || p.UserID == evt.Sender
		}
	}
	if !isAgent {
		return nil
	}
	relays := c.fromAgent(staff.Name, agents > 1)
	if _, answered := c.b.firstResponses.get(c.ID); answered {
		return c.b.commitRelays(ctx, c.j, c.ID, evt, relays)
	}
	c.j.AfterCommit(func(context.Context) { c.b.firstResponses.put(c.ID, struct{}{}) })
	return c.j.Commit(ctx, func(ctx context.Context) error {
		return firstErr(c.logAgentMessage(ctx, evt.Sender), c.b.queueRelays(ctx, c.ID, evt, evt.Sender, relays))
	})
}

// addAgent makes an agent a participant of the conversation and invites them into
// its desk and side rooms.
func (c *convo) addAgent(ctx context.Context, agent id.UserID) error {
	now := c.b.now()
	return firstErr(
		c.b.DB.Participants.Add(ctx, c.ID, agent, database.RoleAgent, now),
		c.inviteAgent(ctx, agent, now),
	)
}

// inviteAgent invites an agent into the conversation's desk and side rooms.
func (c *convo) inviteAgent(ctx context.Context, agent id.UserID, now time.Time) error {
	key := fmt.Sprintf("%d|%s|%d", c.ID, agent, now.UnixMilli())
	return firstErr(
		c.enqueue(ctx, outboxKey("invite-desk", key), c.DeskRoom, c.Ghost, InviteAction, memberAction{UserID: agent}),
		c.enqueue(ctx, outboxKey("invite-side", key), c.SideRoom, c.t.UserID, InviteAction, memberAction{UserID: agent}),
	)
}

// addMonitor makes a supervisor a monitor of the conversation and invites them into
// its side room.
func (c *convo) addMonitor(ctx context.Context, supervisor id.UserID) error {
	now := c.b.now()
	return firstErr(
		c.b.DB.Participants.Add(ctx, c.ID, supervisor, database.RoleMonitor, now),
		c.enqueue(ctx, outboxKey("monitor", c.ID, supervisor, now.UnixMilli()), c.SideRoom, c.t.UserID, InviteAction, memberAction{UserID: supervisor}),
	)
}

// removeStaff takes a staff member out of the conversation's rooms.
func (c *convo) removeStaff(ctx context.Context, userID id.UserID, reason string) error {
	now := c.b.now()
	key := fmt.Sprintf("%d|%s|%d", c.ID, userID, now.UnixMilli())
	return firstErr(
		c.b.DB.Participants.Remove(ctx, c.ID, userID, now),
		c.enqueue(ctx, outboxKey("kick-desk", key), c.DeskRoom, c.Ghost, KickAction, memberAction{UserID: userID, Reason: reason}),
		c.enqueue(ctx, outboxKey("kick-side", key), c.SideRoom, c.t.UserID, KickAction, memberAction{UserID: userID, Reason: reason}),
	)
}

// sideNotice queues a notice from the business identity in the side room.
func (c *convo) sideNotice(ctx context.Context, key, markdown string) error {
	key = outboxKey("side", c.ID, key, c.b.now().UnixNano())
	return c.enqueue(ctx, key, c.SideRoom, c.t.UserID, event.EventMessage, bot.Notice(markdown))
}
