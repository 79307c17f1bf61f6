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

// handleStaffCommand runs !invite, !remove, !transfer, !end and !help.
func (b *Bridge) handleStaffCommand(ctx context.Context, j *job, t *Tenant, conv *database.Conversation, staff *routing.Staff, cmd bot.Command) error {
	log := zerolog.Ctx(ctx).With().Int64("conversation", conv.ID).Str("command", cmd.Name).Logger()
	ctx = log.WithContext(ctx)
	participants, err := b.DB.Participants.Current(ctx, conv.ID)
	if err != nil {
		return err
	}
	role := map[id.UserID]database.StaffRole{}
	var agents []id.UserID
	for _, p := range participants {
		role[p.UserID] = p.Role
		if p.Role == database.RoleAgent {
			agents = append(agents, p.UserID)
		}
	}
	var target *routing.Staff
	if len(cmd.Args) > 0 {
		target = t.findStaff(strings.Join(cmd.Args, " "))
	}
	// Replies go to the side room: the desk room is the customer's line.
	answer := func(ctx context.Context, markdown string) error {
		return b.DB.Outbox.Enqueue(ctx, "reply|"+j.entry.Key, conv.SideRoom, t.UserID, event.EventMessage, bot.Notice(markdown), b.now())
	}
	who := staff.Name
	return j.Commit(ctx, func(ctx context.Context) error {
		switch cmd.Name {
		case "end":
			return b.endConversation(ctx, t, conv, who+" ended the conversation.", true)
		case "help":
			return answer(ctx, bot.SideHelp)
		case "invite", "remove", "transfer":
		default:
			return answer(ctx, fmt.Sprintf("I do not know **!%s**. Send **!help** for the commands.", cmd.Name))
		}
		if len(cmd.Args) == 0 {
			return answer(ctx, fmt.Sprintf("Usage: **!%s** *agent* (name or Matrix ID).", cmd.Name))
		}
		if cmd.Name == "transfer" && strings.EqualFold(cmd.Args[0], "queue") {
			return b.transferToQueue(ctx, t, conv, agents, who+" put the conversation back in the queue.")
		}
		if target == nil || target.Role != routing.RoleAgent {
			return answer(ctx, fmt.Sprintf("%s is not one of %s's agents.", strings.Join(cmd.Args, " "), t.Name))
		}
		targetID := id.UserID(target.UserID)
		switch cmd.Name {
		case "invite":
			if role[targetID] == database.RoleAgent {
				return answer(ctx, target.Name+" is already in the conversation.")
			}
			return firstErr(b.addAgent(ctx, t, conv, targetID),
				b.sideNotice(ctx, t, conv, "invited|"+j.entry.Key, fmt.Sprintf("%s added **%s** to the conversation.", who, target.Name)))
		case "remove":
			if role[targetID] != database.RoleAgent {
				return answer(ctx, target.Name+" is not in the conversation.")
			}
			if len(agents) == 1 {
				return answer(ctx, target.Name+" is the only agent: use **!transfer** or **!end**.")
			}
			return firstErr(b.removeStaff(ctx, t, conv, targetID, "removed by "+who),
				b.sideNotice(ctx, t, conv, "removed|"+j.entry.Key, fmt.Sprintf("%s removed **%s** from the conversation.", who, target.Name)))
		default: // transfer to an agent
			for _, agent := range agents {
				if agent != targetID {
					if err := b.removeStaff(ctx, t, conv, agent, "transferred to "+target.Name); err != nil {
						return err
					}
				}
			}
			return b.assign(ctx, t, conv, targetID, who)
		}
	})
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
			b.removeStaff(ctx, t, conv, agent, "transferred to the queue"),
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
			_ = t.router.Released(p.UserID.String(), b.now()) // staff no longer configured: nothing to release
		}
	}
	t.router.Forget(strconv.FormatInt(conv.ID, 10))
	key := fmt.Sprintf("end|%d|", conv.ID)
	if customerPresent {
		if t.Closing != "" {
			err = b.DB.Outbox.Enqueue(ctx, key+"closing", conv.RoomID, t.UserID, event.EventMessage, bot.Notice(t.Closing), b.now())
		}
		if err == nil && conv.Agent != "" {
			err = b.setBusinessName(ctx, t, conv, t.DisplayName)
		}
	}
	readOnly := func(room id.RoomID, owner id.UserID) error {
		return b.DB.Outbox.Enqueue(ctx, key+"readonly|"+room.String(), room, owner, StateAction,
			stateAction{Type: event.StatePowerLevels.Type, Content: staffPowerLevels(owner, true)}, b.now())
	}
	return firstErr(err,
		b.sideNotice(ctx, t, conv, "ended", why+" These rooms are read-only now and stay for the record."),
		readOnly(conv.DeskRoom, conv.Ghost),
		readOnly(conv.SideRoom, t.UserID),
		b.offerWaiting(ctx, t),
	)
}
