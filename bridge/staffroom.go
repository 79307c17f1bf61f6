package bridge

import (
	"context"
	"strings"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/routing"
)

// handleStaffRoom takes an event in a conversation's desk or side room. Only the
// tenant's own staff are heard (anyone else is ignored, which keeps tenants apart).
// Commands work in both rooms; messages of the conversation's agents in the desk room
// are relayed to the customer and mirrored to the side room; nothing from the side
// room is ever relayed.
func (b *Bridge) handleStaffRoom(ctx context.Context, j *job, t *Tenant, conv *database.Conversation) error {
	evt := j.evt
	staff := t.staffEntry(evt.Sender)
	if staff == nil || conv.Status == database.StatusClosed {
		return nil
	}
	if evt.Type == event.EventMessage {
		if cmd, ok := bot.ParseBangCommand(evt.Content.AsMessage().Body); ok {
			return b.handleStaffCommand(ctx, j, t, conv, staff, cmd)
		}
	}
	if evt.RoomID != conv.DeskRoom || !relayable(evt.Type) {
		return nil
	}
	participants, err := b.DB.Participants.Current(ctx, conv.ID)
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
	relays := b.fromAgent(t, conv, staff.Name, agents > 1, evt)
	return j.Commit(ctx, func(ctx context.Context) error { return b.queueRelays(ctx, evt, evt.Sender, relays) })
}

// handleStaffCommand runs a command of a desk or side room (see conversationCommands).
func (b *Bridge) handleStaffCommand(ctx context.Context, j *job, t *Tenant, conv *database.Conversation, staff *routing.Staff, cmd bot.Command) error {
	log := zerolog.Ctx(ctx).With().Int64("conversation", conv.ID).Str("command", cmd.Name).Logger()
	ctx = log.WithContext(ctx)
	participants, err := b.DB.Participants.Current(ctx, conv.ID)
	if err != nil {
		return err
	}
	c := &conversationCall{j: j, t: t, conv: conv, cmd: cmd, who: staff.Name, role: map[id.UserID]database.StaffRole{}}
	for _, p := range participants {
		c.role[p.UserID] = p.Role
		if p.Role == database.RoleAgent {
			c.agents = append(c.agents, p.UserID)
		}
	}
	c.answer = func(ctx context.Context, markdown string) error {
		return b.DB.Outbox.Enqueue(ctx, outboxKey("reply", j.Key()), conv.SideRoom, t.UserID, event.EventMessage, bot.Notice(markdown), b.now())
	}
	room := bot.RoomSide
	if j.evt.RoomID == conv.DeskRoom {
		room = bot.RoomDesk
	}
	return j.Commit(ctx, func(ctx context.Context) error { return b.dispatchConversation(ctx, c, room, staff.Role) })
}

// agentArgument is the agent a command names, or nil after answering why there is
// none (no argument, or nobody of the tenant's agents).
func (b *Bridge) agentArgument(ctx context.Context, c *conversationCall) (*routing.Staff, error) {
	if len(c.cmd.Args) == 0 {
		return nil, c.answer(ctx, bot.AgentUsage(c.spec))
	}
	named := strings.Join(c.cmd.Args, " ")
	target := c.t.findStaff(named)
	if target == nil || target.Role != routing.RoleAgent {
		return nil, c.answer(ctx, bot.NotAnAgent(named, c.t.Name))
	}
	return target, nil
}

// inviteCommand adds an agent to the conversation.
func (b *Bridge) inviteCommand(ctx context.Context, c *conversationCall) error {
	target, err := b.agentArgument(ctx, c)
	if target == nil {
		return err
	}
	targetID := id.UserID(target.UserID)
	if c.role[targetID] == database.RoleAgent {
		return c.answer(ctx, bot.AlreadyInConversation(target.Name))
	}
	return firstErr(b.addAgent(ctx, c.t, c.conv, targetID),
		b.sideNotice(ctx, c.t, c.conv, "invited|"+c.j.entry.Key, bot.AgentAdded(c.who, target.Name)))
}

// removeCommand takes an agent out of the conversation; its last agent stays.
func (b *Bridge) removeCommand(ctx context.Context, c *conversationCall) error {
	target, err := b.agentArgument(ctx, c)
	if target == nil {
		return err
	}
	targetID := id.UserID(target.UserID)
	if c.role[targetID] != database.RoleAgent {
		return c.answer(ctx, bot.NotInConversation(target.Name))
	}
	if len(c.agents) == 1 {
		return c.answer(ctx, bot.OnlyAgent(target.Name))
	}
	return firstErr(b.removeStaff(ctx, c.t, c.conv, targetID, bot.RemovedBy(c.who)),
		b.sideNotice(ctx, c.t, c.conv, "removed|"+c.j.entry.Key, bot.AgentRemoved(c.who, target.Name)))
}

// transferCommand hands the conversation to an agent, or back to the queue.
func (b *Bridge) transferCommand(ctx context.Context, c *conversationCall) error {
	if len(c.cmd.Args) > 0 && strings.EqualFold(c.cmd.Args[0], "queue") {
		return b.transferToQueue(ctx, c.t, c.conv, c.agents, bot.Requeued(c.who))
	}
	target, err := b.agentArgument(ctx, c)
	if target == nil {
		return err
	}
	targetID := id.UserID(target.UserID)
	for _, agent := range c.agents {
		if agent != targetID {
			if err := b.removeStaff(ctx, c.t, c.conv, agent, bot.TransferredTo(target.Name)); err != nil {
				return err
			}
		}
	}
	return b.assign(ctx, c.t, c.conv, targetID, c.who)
}

// transferToQueue takes the agents out and puts the conversation back to waiting; it
// is not offered to them again. notice tells the side room why.
func (b *Bridge) transferToQueue(ctx context.Context, t *Tenant, conv *database.Conversation, agents []id.UserID, notice string) error {
	// The notice goes first, so the agents read it before they are taken out.
	if err := b.sideNotice(ctx, t, conv, "requeued", notice); err != nil {
		return err
	}
	for _, agent := range agents {
		if err := firstErr(
			b.removeStaff(ctx, t, conv, agent, bot.TransferredToQueue),
			b.DB.Participants.Add(ctx, conv.ID, agent, database.RoleDeclined, b.now()),
		); err != nil {
			return err
		}
	}
	if _, err := b.DB.Conversation.Requeue(ctx, conv.ID); err != nil {
		return err
	}
	return firstErr(
		b.setBusinessName(ctx, t, conv, t.DisplayName),
		b.offerWaiting(ctx, t),
	)
}

// endConversation closes a conversation inside a transaction: the customer gets the
// closing message (if they are still there), the business identity's name returns to
// the tenant's, both staff rooms become read-only and stay for the record, and freed
// agents may get the next waiting conversation.
func (b *Bridge) endConversation(ctx context.Context, t *Tenant, conv *database.Conversation, why string, customerPresent bool) error {
	closed, err := b.DB.Conversation.Close(ctx, conv.ID, b.now())
	if err != nil || !closed {
		return err
	}
	zerolog.Ctx(ctx).Info().Int64("conversation", conv.ID).Msg("Conversation ended")
	// The agents' wrap-up starts: routing offers them nothing until it has passed.
	participants, err := b.DB.Participants.Current(ctx, conv.ID)
	if err != nil {
		return err
	}
	for _, p := range participants {
		if p.Role == database.RoleAgent {
			b.routerReleased(ctx, t, p.UserID, b.now())
		}
	}
	key := outboxKey("end", conv.ID)
	if customerPresent {
		if t.Closing != "" {
			err = b.DB.Outbox.Enqueue(ctx, outboxKey(key, "closing"), conv.RoomID, t.UserID, event.EventMessage, bot.Notice(t.Closing), b.now())
		}
		if err == nil && conv.Agent != "" {
			err = b.setBusinessName(ctx, t, conv, t.DisplayName)
		}
	}
	readOnly := func(room id.RoomID, owner id.UserID) error {
		return b.DB.Outbox.Enqueue(ctx, outboxKey(key, "readonly", room), room, owner, StateAction,
			stateAction{Type: event.StatePowerLevels.Type, Content: staffPowerLevels(owner, true)}, b.now())
	}
	return firstErr(err,
		b.sideNotice(ctx, t, conv, "ended", bot.ConversationEnded(why)),
		readOnly(conv.DeskRoom, conv.Ghost),
		readOnly(conv.SideRoom, t.UserID),
		b.offerWaiting(ctx, t),
	)
}
