package bridge

import (
	"context"

	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/routing"
)

// The functions bound to bot.Commands, one map per kind of room. The table says who
// may use a command and where; these say what it does. TestEveryCommandIsBound checks
// that every command heard in a room has its function here.

// controlCall is a command in a staff member's control room.
type controlCall struct {
	j     *job
	t     *Tenant
	staff *database.StaffMember
	spec  *bot.CommandSpec
	cmd   bot.Command
}

// conversationCall is a command in a conversation's desk or side room; it runs inside
// the job's transaction.
type conversationCall struct {
	*convo
	spec *bot.CommandSpec
	cmd  bot.Command
	// who sent it, by name
	who string
	// the conversation's staff now, and its agents
	role   map[id.UserID]database.StaffRole
	agents []id.UserID
}

// customerCommand runs a command in the customer room, inside the event's commit.
type customerCommand func(c *convo, ctx context.Context) error

var controlCommands = map[*bot.CommandSpec]func(*Bridge, context.Context, *controlCall) error{
	bot.CmdReady:         (*Bridge).setStatusCommand,
	bot.CmdAway:          (*Bridge).setStatusCommand,
	bot.CmdBusy:          (*Bridge).setStatusCommand,
	bot.CmdOff:           (*Bridge).setStatusCommand,
	bot.CmdStatus:        (*Bridge).statusCommand,
	bot.CmdAccept:        (*Bridge).offerAnswerCommand,
	bot.CmdDecline:       (*Bridge).offerAnswerCommand,
	bot.CmdConversations: (*Bridge).conversationsCommand,
	bot.CmdMonitor:       (*Bridge).monitorCommand,
	bot.CmdDashboard:     (*Bridge).dashboardCommand,
	bot.CmdListen:        (*Bridge).superviseControlCommand,
	bot.CmdWhisper:       (*Bridge).superviseControlCommand,
	bot.CmdBarge:         (*Bridge).superviseControlCommand,
	bot.CmdLeave:         (*Bridge).superviseControlCommand,
	bot.CmdReach:         (*Bridge).proposalCommand,
	bot.CmdPass:          (*Bridge).proposalCommand,
	bot.CmdNote:          (*Bridge).noteCommand,
	bot.CmdHelp: func(b *Bridge, ctx context.Context, c *controlCall) error {
		return c.j.Commit(ctx, func(ctx context.Context) error { return b.reply(ctx, c.j, c.t, bot.ControlHelp) })
	},
}

var conversationCommands = map[*bot.CommandSpec]func(context.Context, *conversationCall) error{
	bot.CmdInvite:   callInviteCommand,
	bot.CmdRemove:   removeCommand,
	bot.CmdTransfer: callTransferCommand,
	bot.CmdListen:   superviseSideCommand,
	bot.CmdWhisper:  superviseSideCommand,
	bot.CmdBarge:    superviseSideCommand,
	bot.CmdLeave:    leaveCommand,
	bot.CmdEnd: func(ctx context.Context, call *conversationCall) error {
		return call.end(ctx, bot.EndedBy(call.who), true)
	},
	bot.CmdHelp: func(ctx context.Context, call *conversationCall) error {
		return call.answer(ctx, bot.SideHelp)
	},
	bot.CmdCanned:     cannedListCommand,
	bot.CmdCannedSend: cannedSendCommand,
}

var customerCommands = map[*bot.CommandSpec]customerCommand{
	bot.CmdPrivacy:  (*convo).privacyPrompt,
	bot.CmdIdentify: (*convo).identify,
	bot.CmdStop:     (*convo).stopContact,
	bot.CmdCallback: (*convo).callbackCommand,
}

// commandRole is the table's role of a staff member.
func commandRole(r routing.Role) bot.Role {
	switch r {
	case routing.RoleSupervisor:
		return bot.RoleSupervisor
	case routing.RoleAgent:
		return bot.RoleAgent
	}
	return 0
}

// customerCommandIn finds the customer-room command a message is, if any. Anything
// else starting with "!" is not answered: it is the customer talking.
func customerCommandIn(body string) (customerCommand, *bot.CommandSpec) {
	cmd, ok := bot.ParseBangCommand(body)
	if !ok {
		return nil, nil
	}
	spec, refusal := bot.Commands.Resolve(bot.RoomCustomer, bot.RoleCustomer, cmd.Name)
	if refusal != "" {
		return nil, nil
	}
	return customerCommands[spec], spec
}

// dispatchControl runs a command in a control room, or answers why it does not.
func (b *Bridge) dispatchControl(ctx context.Context, j *job, t *Tenant, staff *database.StaffMember, role routing.Role, cmd bot.Command) error {
	spec, refusal := bot.Commands.Resolve(bot.RoomControl, commandRole(role), cmd.Name)
	run := controlCommands[spec]
	if run == nil {
		if refusal == "" {
			refusal = bot.UnknownCommand(cmd.Name)
		}
		return j.Commit(ctx, func(ctx context.Context) error { return b.reply(ctx, j, t, refusal) })
	}
	return run(b, ctx, &controlCall{j: j, t: t, staff: staff, spec: spec, cmd: cmd})
}

// dispatch runs a command of a desk or side room inside the job's
// transaction, or answers why it does not.
func (call *conversationCall) dispatch(ctx context.Context, room bot.RoomKind, role routing.Role) error {
	spec, refusal := bot.Commands.Resolve(room, commandRole(role), call.cmd.Name)
	run := conversationCommands[spec]
	if run == nil {
		if refusal == "" {
			refusal = bot.UnknownCommand(call.cmd.Name)
		}
		return call.answer(ctx, refusal)
	}
	call.spec = spec
	return run(ctx, call)
}
