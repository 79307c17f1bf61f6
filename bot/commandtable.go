package bot

import (
	"slices"
	"strings"
)

// Role is who may use a command, as a set: the bridge maps a staff member's role, or
// the customer, onto one of these.
type Role uint8

const (
	RoleAgent Role = 1 << iota
	RoleSupervisor
	RoleCustomer

	// RoleStaff is everyone on a tenant's staff.
	RoleStaff = RoleAgent | RoleSupervisor
)

// RoomKind is where a command is heard, as a set.
type RoomKind uint8

const (
	// RoomControl is a staff member's DM with the business identity.
	RoomControl RoomKind = 1 << iota
	// RoomDesk is where agents talk to the customer (through the ghost).
	RoomDesk
	// RoomSide is a conversation's staff-only room.
	RoomSide
	// RoomCustomer is the customer's DM with the business identity.
	RoomCustomer

	// RoomConversation is both staff rooms of a conversation.
	RoomConversation = RoomDesk | RoomSide
)

// CommandHelp is what a command's line in the help says: its arguments (Markdown,
// "*agent*") and what it does.
type CommandHelp struct {
	Args        string
	Description string
}

// CommandSpec declares a command: its names, help, who may use it and where. It holds
// no behaviour: the bridge binds a function to each name, and a test checks that
// every command has one.
type CommandSpec struct {
	Name    string
	Aliases []string
	Help    CommandHelp
	Roles   Role
	Rooms   RoomKind
	// Bare commands are known without their "!" in the control room ("accept"), so the
	// help shows them that way.
	Bare bool
	// Also lists further forms for the help ("**!transfer queue**"), already Markdown.
	Also string
}

// Matches tells whether a parsed command name is this command's name or an alias.
func (c *CommandSpec) Matches(name string) bool {
	return c.Name == name || slices.Contains(c.Aliases, name)
}

// The commands. Each is a value of its own so that code and tests can name one.
var (
	CmdReady         = &CommandSpec{Name: "ready", Help: CommandHelp{Description: "take new conversations"}, Roles: RoleStaff, Rooms: RoomControl}
	CmdAway          = &CommandSpec{Name: "away", Help: CommandHelp{Description: "stay signed in, take no new conversations"}, Roles: RoleStaff, Rooms: RoomControl}
	CmdBusy          = &CommandSpec{Name: "busy", Help: CommandHelp{Description: "busy with other work, take no new conversations"}, Roles: RoleStaff, Rooms: RoomControl}
	CmdOff           = &CommandSpec{Name: "offline", Help: CommandHelp{Description: "stop working"}, Roles: RoleStaff, Rooms: RoomControl}
	CmdStatus        = &CommandSpec{Name: "status", Help: CommandHelp{Description: "your status"}, Roles: RoleStaff, Rooms: RoomControl}
	CmdAccept        = &CommandSpec{Name: "accept", Bare: true, Help: CommandHelp{Description: "take the conversation offered to you"}, Roles: RoleStaff, Rooms: RoomControl}
	CmdDecline       = &CommandSpec{Name: "decline", Bare: true, Help: CommandHelp{Description: "pass the offered conversation on"}, Roles: RoleStaff, Rooms: RoomControl}
	CmdConversations = &CommandSpec{Name: "conversations", Help: CommandHelp{Description: "the open conversations"}, Roles: RoleStaff, Rooms: RoomControl}
	CmdMonitor       = &CommandSpec{Name: "monitor", Help: CommandHelp{Args: "*number*", Description: "watch a conversation from its side room"}, Roles: RoleSupervisor, Rooms: RoomControl}
	CmdDashboard     = &CommandSpec{Name: "dashboard", Help: CommandHelp{Description: "a link to the live dashboard"}, Roles: RoleStaff, Rooms: RoomControl}
	CmdReach         = &CommandSpec{Name: "reach", Help: CommandHelp{Args: "*number*", Description: "contact the customer a proposal names"}, Roles: RoleStaff, Rooms: RoomControl}
	CmdPass          = &CommandSpec{Name: "pass", Help: CommandHelp{Args: "*number*", Description: "let a proposal go"}, Roles: RoleStaff, Rooms: RoomControl}

	CmdInvite   = &CommandSpec{Name: "invite", Help: CommandHelp{Args: "*agent*", Description: "add an agent to the conversation"}, Roles: RoleStaff, Rooms: RoomConversation}
	CmdRemove   = &CommandSpec{Name: "remove", Help: CommandHelp{Args: "*agent*", Description: "take an agent out"}, Roles: RoleStaff, Rooms: RoomConversation}
	CmdTransfer = &CommandSpec{Name: "transfer", Also: "**!transfer queue**, **!transfer warm** *agent* (during a call: you stay until **!leave**)", Help: CommandHelp{Args: "*agent*", Description: "hand the conversation over"}, Roles: RoleStaff, Rooms: RoomConversation}
	CmdEnd      = &CommandSpec{Name: "end", Help: CommandHelp{Description: "end the conversation (the customer gets the closing message)"}, Roles: RoleStaff, Rooms: RoomConversation}

	CmdPrivacy  = &CommandSpec{Name: "privacy", Help: CommandHelp{Description: "what you share with us, and a chance to change it"}, Roles: RoleCustomer, Rooms: RoomCustomer}
	CmdIdentify = &CommandSpec{Name: "identify", Help: CommandHelp{Args: "*link code*", Description: "link this chat to your account"}, Roles: RoleCustomer, Rooms: RoomCustomer}
	CmdStop     = &CommandSpec{Name: "stop", Help: CommandHelp{Description: "never be contacted first by us again"}, Roles: RoleCustomer, Rooms: RoomCustomer}
	CmdCallback = &CommandSpec{Name: "callback", Help: CommandHelp{Description: "stop waiting: an agent writes back to you here"}, Roles: RoleCustomer, Rooms: RoomCustomer}

	// Calls: supervisors hear a live call (it rings in their control room) and
	// switch between listening, whispering to the agent and barging in.
	CmdListen  = &CommandSpec{Name: "listen", Help: CommandHelp{Args: "*number*", Description: "hear the conversation's live call, heard by nobody (the number in your control room; again to stop whispering or barging)"}, Roles: RoleSupervisor, Rooms: RoomControl | RoomSide}
	CmdWhisper = &CommandSpec{Name: "whisper", Help: CommandHelp{Description: "during a call you hear: the agent hears you, the customer does not"}, Roles: RoleSupervisor, Rooms: RoomControl | RoomSide}
	CmdBarge   = &CommandSpec{Name: "barge", Help: CommandHelp{Description: "during a call you hear: the customer and the agent both hear you"}, Roles: RoleSupervisor, Rooms: RoomControl | RoomSide}
	CmdLeave   = &CommandSpec{Name: "leave", Help: CommandHelp{Description: "leave the live call (after a warm transfer, or to stop listening)"}, Roles: RoleStaff, Rooms: RoomControl | RoomConversation}

	// CmdHelp is staff-only: in the customer room "!help" is talk for the agents.
	CmdHelp = &CommandSpec{Name: "help", Help: CommandHelp{Description: "this list"}, Roles: RoleStaff, Rooms: RoomControl | RoomConversation}
)

// Commands is the table, in the order the help lists them.
var Commands = CommandTable{
	CmdReady, CmdAway, CmdBusy, CmdOff, CmdStatus, CmdAccept, CmdDecline, CmdConversations, CmdMonitor, CmdDashboard,
	CmdReach, CmdPass, CmdNote,
	CmdInvite, CmdRemove, CmdTransfer, CmdEnd, CmdCanned, CmdCannedSend,
	CmdListen, CmdWhisper, CmdBarge, CmdLeave,
	CmdPrivacy, CmdIdentify, CmdStop, CmdCallback,
	CmdHelp,
}

// CommandTable is a list of commands.
type CommandTable []*CommandSpec

// Find returns the command a name (or alias) means, wherever it is heard.
func (tbl CommandTable) Find(name string) *CommandSpec {
	for _, c := range tbl {
		if c.Matches(name) {
			return c
		}
	}
	return nil
}

// Resolve finds what a command name means in a room for someone in a role. When it
// may not run there, the spec is nil and refusal is the answer to give.
func (tbl CommandTable) Resolve(room RoomKind, role Role, name string) (spec *CommandSpec, refusal string) {
	var elsewhere *CommandSpec
	for _, c := range tbl {
		if !c.Matches(name) {
			continue
		}
		if c.Rooms&room == 0 {
			elsewhere = c
			continue
		}
		if c.Roles&role == 0 {
			return nil, CommandNotForYou(c)
		}
		return c, ""
	}
	if elsewhere != nil && elsewhere.Roles&role != 0 {
		return nil, CommandNotHere(elsewhere)
	}
	return nil, UnknownCommand(name)
}

// In lists the commands heard in a room, in table order.
func (tbl CommandTable) In(room RoomKind) CommandTable {
	var out CommandTable
	for _, c := range tbl {
		if c.Rooms&room != 0 {
			out = append(out, c)
		}
	}
	return out
}

// Help renders the list of a room's commands. A command not every role there may use
// names who may ("(supervisors)").
func (tbl CommandTable) Help(room RoomKind) string {
	cmds := tbl.In(room)
	everyone := Role(0)
	for _, c := range cmds {
		everyone |= c.Roles
	}
	var sb strings.Builder
	sb.WriteString("Commands in this room:")
	for _, c := range cmds {
		sb.WriteString("\n- ")
		sb.WriteString(commandUsage(c))
		if c.Also != "" {
			sb.WriteString(" or " + c.Also)
		}
		sb.WriteString(": " + c.Help.Description)
		if c.Roles != everyone {
			sb.WriteString(" (" + roleNames(c.Roles) + ")")
		}
	}
	return sb.String()
}

// commandUsage is how the help and the answers write a command: "**!monitor**
// *number*", or "**accept**" for a bare one.
func commandUsage(c *CommandSpec) string {
	s := "**" + commandWord(c) + "**"
	if c.Help.Args != "" {
		s += " " + c.Help.Args
	}
	return s
}

func commandWord(c *CommandSpec) string {
	if c.Bare {
		return c.Name
	}
	return "!" + c.Name
}

// roleNames says who a role set is, in the plural: "supervisors", "agents and
// supervisors".
func roleNames(r Role) string {
	var names []string
	for _, n := range []struct {
		role Role
		name string
	}{{RoleAgent, "agents"}, {RoleSupervisor, "supervisors"}, {RoleCustomer, "customers"}} {
		if r&n.role != 0 {
			names = append(names, n.name)
		}
	}
	return strings.Join(names, " and ")
}

// The help of each staff room, generated from the table so it lists every command.
var (
	// ControlHelp lists the commands of a staff member's control room.
	ControlHelp = Commands.Help(RoomControl)
	// SideHelp lists the commands of a conversation's side room.
	SideHelp = Commands.Help(RoomSide)
)
