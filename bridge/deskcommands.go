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

// handleStaffCommand runs a command of the desk or side room (see
// conversationCommands).
func (c *convo) handleStaffCommand(ctx context.Context, staff *routing.Staff, cmd bot.Command) error {
	log := zerolog.Ctx(ctx).With().Int64("conversation", c.ID).Str("command", cmd.Name).Logger()
	ctx = log.WithContext(ctx)
	participants, err := c.b.DB.Participants.Current(ctx, c.ID)
	if err != nil {
		return err
	}
	call := &conversationCall{convo: c, cmd: cmd, who: staff.Name, role: map[id.UserID]database.StaffRole{}}
	for _, p := range participants {
		call.role[p.UserID] = p.Role
		if p.Role == database.RoleAgent {
			call.agents = append(call.agents, p.UserID)
		}
	}
	room := bot.RoomSide
	if c.evt().RoomID == c.DeskRoom {
		room = bot.RoomDesk
	}
	return c.j.Commit(ctx, func(ctx context.Context) error { return call.dispatch(ctx, room, staff.Role) })
}

// answer replies to the command in the side room (the desk room is the customer's
// line).
func (call *conversationCall) answer(ctx context.Context, markdown string) error {
	return call.enqueue(ctx, outboxKey("reply", call.j.Key()), call.SideRoom, call.t.UserID, event.EventMessage, bot.Notice(markdown))
}

// agentArgument is the agent a command names, or nil after answering why there is
// none (no argument, or nobody of the tenant's agents).
func (call *conversationCall) agentArgument(ctx context.Context) (*routing.Staff, error) {
	if len(call.cmd.Args) == 0 {
		return nil, call.answer(ctx, bot.AgentUsage(call.spec))
	}
	named := strings.Join(call.cmd.Args, " ")
	target := call.t.findStaff(named)
	if target == nil || target.Role != routing.RoleAgent {
		return nil, call.answer(ctx, bot.NotAnAgent(named, call.t.Name))
	}
	return target, nil
}

// inviteCommand adds an agent to the conversation.
func inviteCommand(ctx context.Context, call *conversationCall) error {
	target, err := call.agentArgument(ctx)
	if target == nil {
		return err
	}
	targetID := id.UserID(target.UserID)
	if call.role[targetID] == database.RoleAgent {
		return call.answer(ctx, bot.AlreadyInConversation(target.Name))
	}
	return firstErr(call.addAgent(ctx, targetID),
		call.sideNotice(ctx, "invited|"+call.j.Key(), bot.AgentAdded(call.who, target.Name)))
}

// removeCommand takes an agent out of the conversation; its last agent stays.
func removeCommand(ctx context.Context, call *conversationCall) error {
	target, err := call.agentArgument(ctx)
	if target == nil {
		return err
	}
	targetID := id.UserID(target.UserID)
	if call.role[targetID] != database.RoleAgent {
		return call.answer(ctx, bot.NotInConversation(target.Name))
	}
	if len(call.agents) == 1 {
		return call.answer(ctx, bot.OnlyAgent(target.Name))
	}
	return firstErr(call.removeStaff(ctx, targetID, bot.RemovedBy(call.who)),
		call.sideNotice(ctx, "removed|"+call.j.Key(), bot.AgentRemoved(call.who, target.Name)))
}

// transferCommand hands the conversation to an agent, or back to the queue.
func transferCommand(ctx context.Context, call *conversationCall) error {
	if len(call.cmd.Args) > 0 && strings.EqualFold(call.cmd.Args[0], "queue") {
		return call.requeue(ctx, call.agents, bot.Requeued(call.who))
	}
	target, err := call.agentArgument(ctx)
	if target == nil {
		return err
	}
	targetID := id.UserID(target.UserID)
	for _, agent := range call.agents {
		if agent != targetID {
			if err := call.removeStaff(ctx, agent, bot.TransferredTo(target.Name)); err != nil {
				return err
			}
		}
	}
	return call.transfer(ctx, targetID, call.who)
}
