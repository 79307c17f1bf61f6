package bridge

import (
	"context"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/database"
)

// The conversation's status changes in Matrix terms: what each one says, and to whom,
// and who joins or leaves which room. The changes themselves are the database's
// (database/conversationstate.go); offers and their answers are in offers.go.

// transfer makes agent the conversation's (main) agent without routing's checks: a
// supervisor's transfer. by names who handed it over.
func (c *convo) transfer(ctx context.Context, agent id.UserID, by string) error {
	if _, err := c.b.DB.Conversation.Transfer(ctx, c.ID, agent, c.b.now()); err != nil {
		return err
	}
	c.b.routerAssigned(ctx, c.t, agent, c.b.now())
	return c.announceAssignment(ctx, agent, by)
}

// announceAssignment follows an assignment, which made the agent a participant: the
// agent is invited into the rooms, the customer sees their name on the business
// identity, the side room is told.
func (c *convo) announceAssignment(ctx context.Context, agent id.UserID, by string) error {
	if err := c.inviteAgent(ctx, agent, c.b.now()); err != nil {
		return err
	}
	name := c.t.staffName(agent)
	text := bot.AgentTookConversation(name)
	if by != "" {
		text = bot.HandedOver(by, name)
	}
	zerolog.Ctx(ctx).Info().Int64("conversation", c.ID).Stringer("agent", agent).Msg("Conversation assigned")
	return firstErr(
		c.sideNotice(ctx, "assigned|"+agent.String(), text),
		c.setBusinessName(ctx, bot.AgentAtBusiness(name, c.t.Name)),
	)
}

// requeue takes the agents out and puts the conversation back to waiting; it is not
// offered to them again. notice tells the side room why.
func (c *convo) requeue(ctx context.Context, agents []id.UserID, notice string) error {
	// The notice goes first, so the agents read it before they are taken out.
	if err := c.sideNotice(ctx, "requeued", notice); err != nil {
		return err
	}
	for _, agent := range agents {
		if err := firstErr(
			c.removeStaff(ctx, agent, bot.TransferredToQueue),
			c.b.DB.Participants.Add(ctx, c.ID, agent, database.RoleDeclined, c.b.now()),
		); err != nil {
			return err
		}
	}
	if _, err := c.b.DB.Conversation.RequeueAt(ctx, c.ID, c.b.now()); err != nil {
		return err
	}
	return firstErr(
		c.setBusinessName(ctx, c.t.DisplayName),
		c.b.offerWaiting(ctx, c.t),
	)
}

// end closes the conversation: the customer gets the closing message (if they are
// still there), the business identity's name returns to the tenant's, both staff
// rooms become read-only and stay for the record, and freed agents may get the next
// waiting conversation.
func (c *convo) end(ctx context.Context, why string, customerPresent bool) error {
	b, t := c.b, c.t
	closed, err := b.DB.Conversation.CloseBy(ctx, c.ID, b.now(), c.endedBy(customerPresent))
	if err != nil || !closed {
		return err
	}
	zerolog.Ctx(ctx).Info().Int64("conversation", c.ID).Msg("Conversation ended")
	if err = c.logWrapUp(ctx, b.now()); err != nil {
		return err
	}
	if err = c.outboundEnded(ctx, customerPresent); err != nil {
		return err
	}
	// The agents' wrap-up starts: routing offers them nothing until it has passed.
	participants, err := b.DB.Participants.Current(ctx, c.ID)
	if err != nil {
		return err
	}
	for _, p := range participants {
		if p.Role == database.RoleAgent {
			b.routerReleased(ctx, t, p.UserID, b.now())
		}
	}
	key := outboxKey("end", c.ID)
	if customerPresent {
		if t.Closing != "" {
			err = c.enqueue(ctx, outboxKey(key, "closing"), c.RoomID, t.UserID, event.EventMessage, bot.Notice(t.Closing))
		}
		if err == nil && c.Agent != "" {
			err = c.setBusinessName(ctx, t.DisplayName)
		}
	}
	readOnly := func(room id.RoomID, owner id.UserID) error {
		return c.enqueue(ctx, outboxKey(key, "readonly", room), room, owner, StateAction,
			stateAction{Type: event.StatePowerLevels.Type, Content: staffPowerLevels(owner, true)})
	}
	return firstErr(err,
		c.sideNotice(ctx, "ended", bot.ConversationEnded(why)),
		readOnly(c.DeskRoom, c.Ghost),
		readOnly(c.SideRoom, t.UserID),
		b.offerWaiting(ctx, t),
		c.afterEnd(ctx, customerPresent),
	)
}
