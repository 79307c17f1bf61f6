package bridge

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/database"
)

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
		reply := bot.NothingOffered
		if conv != nil {
			if err := b.DB.Claims.ResetMissed(ctx, t.ID, staff.UserID); err != nil {
				return err
			}
		}
		if conv != nil && accept {
			won, err := b.DB.Claims.Accept(ctx, conv.ID, staff.UserID, b.now())
			if err != nil {
				return err
			}
			reply = bot.OfferGone(conv.ID)
			if won {
				b.routerAssigned(ctx, t, staff.UserID, b.now())
				if err = b.announceAssignment(ctx, t, conv, staff.UserID, ""); err != nil {
					return err
				}
				reply = bot.OfferWon(conv.ID) + " " + bot.JoinConversationRooms(b.nameInConversation(ctx, t, conv))
			}
		} else if conv != nil {
			if _, err := b.DB.Conversation.Unoffer(ctx, conv.ID, staff.UserID); err != nil {
				return err
			}
			if err := b.DB.Participants.Add(ctx, conv.ID, staff.UserID, database.RoleDeclined, b.now()); err != nil {
				return err
			}
			reply = bot.OfferDeclined(conv.ID)
			if err := b.offerWaiting(ctx, t); err != nil {
				return err
			}
		}
		return b.reply(ctx, j, t, reply)
	})
}

// assign makes agent the conversation's (main) agent without routing's checks: a
// supervisor's transfer. by names who handed it over. It runs inside a transaction.
func (b *Bridge) assign(ctx context.Context, t *Tenant, conv *database.Conversation, agent id.UserID, by string) error {
	if _, err := b.DB.Conversation.Assign(ctx, conv.ID, agent, b.now()); err != nil {
		return err
	}
	b.routerAssigned(ctx, t, agent, b.now())
	return b.announceAssignment(ctx, t, conv, agent, by)
}

// announceAssignment follows an assignment: the agent joins the rooms, the customer
// sees their name on the business identity, the side room is told.
func (b *Bridge) announceAssignment(ctx context.Context, t *Tenant, conv *database.Conversation, agent id.UserID, by string) error {
	if err := b.addAgent(ctx, t, conv, agent); err != nil {
		return err
	}
	name := t.staffName(agent)
	text := bot.AgentTookConversation(name)
	if by != "" {
		text = bot.HandedOver(by, name)
	}
	zerolog.Ctx(ctx).Info().Int64("conversation", conv.ID).Stringer("agent", agent).Msg("Conversation assigned")
	return firstErr(
		b.sideNotice(ctx, t, conv, "assigned|"+agent.String(), text),
		b.setBusinessName(ctx, t, conv, bot.AgentAtBusiness(name, t.Name)),
	)
}

// addAgent puts an agent into the conversation's desk and side rooms.
func (b *Bridge) addAgent(ctx context.Context, t *Tenant, conv *database.Conversation, agent id.UserID) error {
	now := b.now()
	key := fmt.Sprintf("%d|%s|%d", conv.ID, agent, now.UnixMilli())
	return firstErr(
		b.DB.Participants.Add(ctx, conv.ID, agent, database.RoleAgent, now),
		b.DB.Outbox.Enqueue(ctx, outboxKey("invite-desk", key), conv.DeskRoom, conv.Ghost, InviteAction, memberAction{UserID: agent}, now),
		b.DB.Outbox.Enqueue(ctx, outboxKey("invite-side", key), conv.SideRoom, t.UserID, InviteAction, memberAction{UserID: agent}, now),
	)
}

// removeStaff takes a staff member out of the conversation's rooms.
func (b *Bridge) removeStaff(ctx context.Context, t *Tenant, conv *database.Conversation, userID id.UserID, reason string) error {
	now := b.now()
	key := fmt.Sprintf("%d|%s|%d", conv.ID, userID, now.UnixMilli())
	return firstErr(
		b.DB.Participants.Remove(ctx, conv.ID, userID, now),
		b.DB.Outbox.Enqueue(ctx, outboxKey("kick-desk", key), conv.DeskRoom, conv.Ghost, KickAction, memberAction{UserID: userID, Reason: reason}, now),
		b.DB.Outbox.Enqueue(ctx, outboxKey("kick-side", key), conv.SideRoom, t.UserID, KickAction, memberAction{UserID: userID, Reason: reason}, now),
	)
}

// setBusinessName sets the business identity's display name in the customer room
// only ("Carol · ACME"): its global profile stays the tenant's.
func (b *Bridge) setBusinessName(ctx context.Context, t *Tenant, conv *database.Conversation, name string) error {
	member := map[string]any{"membership": event.MembershipJoin, "displayname": name}
	if t.Avatar != "" {
		member["avatar_url"] = t.Avatar
	}
	key := outboxKey("name", conv.ID, b.now().UnixNano())
	return b.DB.Outbox.Enqueue(ctx, key, conv.RoomID, t.UserID, StateAction,
		stateAction{Type: event.StateMember.Type, StateKey: t.UserID.String(), Content: member}, b.now())
}

// sideNotice queues a notice from the business identity in the side room.
func (b *Bridge) sideNotice(ctx context.Context, t *Tenant, conv *database.Conversation, key, markdown string) error {
	key = outboxKey("side", conv.ID, key, b.now().UnixNano())
	return b.DB.Outbox.Enqueue(ctx, key, conv.SideRoom, t.UserID, event.EventMessage, bot.Notice(markdown), b.now())
}

// reply answers a command in the room it came from.
func (b *Bridge) reply(ctx context.Context, j *job, t *Tenant, markdown string) error {
	return b.DB.Outbox.Enqueue(ctx, outboxKey("reply", j.Key()), j.evt.RoomID, t.UserID, event.EventMessage, bot.Notice(markdown), b.now())
}

// nameInConversation is the customer's name as staff see it in a conversation.
func (b *Bridge) nameInConversation(ctx context.Context, t *Tenant, conv *database.Conversation) string {
	room, err := b.DB.CustomerRoom.Get(ctx, conv.RoomID)
	if err != nil || room == nil {
		return "the customer"
	}
	return t.customerName(room.Customer)
}

// monitorCommand joins a supervisor to a conversation's side room. Only the tenant's
// own conversations can be found: another tenant's look like no conversation at all.
func (b *Bridge) monitorCommand(ctx context.Context, c *controlCall) error {
	j, t, staff, args := c.j, c.t, c.staff, c.cmd.Args
	var conv *database.Conversation
	var err error
	if len(args) == 1 {
		if convID, parseErr := strconv.ParseInt(strings.TrimPrefix(args[0], "#"), 10, 64); parseErr == nil {
			conv, err = b.DB.Conversation.Get(ctx, convID)
		}
	}
	if err != nil {
		return err
	}
	return j.Commit(ctx, func(ctx context.Context) error {
		switch {
		case len(args) != 1:
			return b.reply(ctx, j, t, bot.MonitorUsage())
		case conv == nil || conv.TenantID != t.ID || conv.Status == database.StatusClosed:
			return b.reply(ctx, j, t, bot.NoOpenConversation(args[0]))
		}
		now := b.now()
		return firstErr(
			b.DB.Participants.Add(ctx, conv.ID, staff.UserID, database.RoleMonitor, now),
			b.DB.Outbox.Enqueue(ctx, outboxKey("monitor", conv.ID, staff.UserID, now.UnixMilli()), conv.SideRoom, t.UserID,
				InviteAction, memberAction{UserID: staff.UserID}, now),
			b.reply(ctx, j, t, bot.MonitorInvited(conv.ID)),
		)
	})
}

// listConversations answers !conversations with the tenant's open conversations.
func (b *Bridge) listConversations(ctx context.Context, t *Tenant) (string, error) {
	open, err := b.DB.Conversation.OpenOfTenant(ctx, t.ID)
	if err != nil {
		return "", err
	}
	if len(open) == 0 {
		return bot.NoOpenConversations, nil
	}
	lines := make([]string, 0, len(open))
	for _, conv := range open {
		state := bot.ConversationWaiting
		if conv.Agent != "" {
			state = bot.ConversationWith(t.staffName(conv.Agent))
		} else if conv.OfferedTo != "" {
			state = bot.ConversationOfferedTo(t.staffName(conv.OfferedTo))
		}
		lines = append(lines, bot.ConversationLine(conv.ID, b.nameInConversation(ctx, t, conv), state, b.now().Sub(conv.OpenedAt)))
	}
	return bot.ConversationList(lines), nil
}
