package bot

import (
	"fmt"
	"strings"
	"time"
)

// Texts of the control room: its name and topic, the greeting, and the answers to
// commands about one's status and offers.

// ControlRoomName names a staff member's control room.
func ControlRoomName(tenant string) string {
	return tenant + " contact center"
}

// ControlRoomTopic is a control room's topic.
const ControlRoomTopic = "Your status and conversation offers. Send !help for the commands."

// ControlGreeting opens a new control room: staff start offline.
func ControlGreeting(name, tenant string) string {
	return fmt.Sprintf("Hello %s. This room is your line to %s's contact center. %s\n\n%s", name, tenant, Status("offline", time.Time{}), ControlHelp)
}

// StatusNow answers a change of status.
func StatusNow(status string) string {
	return fmt.Sprintf("You are now **%s**.", status)
}

// Status answers !status. A zero (or Unix epoch) since means the status never changed.
func Status(status string, since time.Time) string {
	if since.IsZero() || since.UnixMilli() == 0 {
		return fmt.Sprintf("You are **%s**.", status)
	}
	return fmt.Sprintf("You are **%s** (since %s).", status, since.UTC().Format("15:04 UTC, 2 Jan"))
}

// UnknownCommand answers a command no table entry is called.
func UnknownCommand(name string) string {
	return fmt.Sprintf("I do not know **!%s**. Send **!help** for the commands.", name)
}

// CommandNotForYou answers a command someone's role may not use.
func CommandNotForYou(c *CommandSpec) string {
	return fmt.Sprintf("Only %s can use **%s**.", roleNames(c.Roles), commandWord(c))
}

// CommandNotHere answers a command sent in a room where it is not heard.
func CommandNotHere(c *CommandSpec) string {
	return fmt.Sprintf("**%s** works only in %s.", commandWord(c), roomNames(c.Rooms))
}

// roomNames says where a room set is: "your control room", "a conversation's desk or
// side room".
func roomNames(r RoomKind) string {
	var names []string
	if r&RoomControl != 0 {
		names = append(names, "your control room")
	}
	switch r & RoomConversation {
	case RoomConversation:
		names = append(names, "a conversation's desk or side room")
	case RoomDesk:
		names = append(names, "a conversation's desk room")
	case RoomSide:
		names = append(names, "a conversation's side room")
	}
	if r&RoomCustomer != 0 {
		names = append(names, "the chat with a customer")
	}
	return strings.Join(names, " or ")
}

// NothingOffered answers accept or decline when no offer is open.
const NothingOffered = "Nothing is offered to you right now."

// OfferGone answers an accept that lost the race: someone else took the conversation.
func OfferGone(conv int64) string {
	return fmt.Sprintf("Conversation **%d** is no longer offered to you.", conv)
}

// OfferWon answers an accept that got the conversation; JoinConversationRooms follows.
func OfferWon(conv int64) string {
	return fmt.Sprintf("Conversation **%d** is yours.", conv)
}

// JoinConversationRooms tells an agent who got a conversation where to go.
func JoinConversationRooms(customer string) string {
	return fmt.Sprintf("Join the two rooms you are invited to: **%s** (what you write there goes to the customer) and its **side room** (staff only).", customer)
}

// OfferDeclined answers a decline.
func OfferDeclined(conv int64) string {
	return fmt.Sprintf("You passed on conversation **%d**.", conv)
}

// MonitorUsage answers !monitor without exactly one argument.
func MonitorUsage() string {
	return "Usage: " + commandUsage(CmdMonitor) + " (see **" + commandWord(CmdConversations) + "**)."
}

// NoOpenConversation answers !monitor with a number that is not one of the tenant's
// open conversations (another tenant's included, so tenants learn nothing of each
// other).
func NoOpenConversation(number string) string {
	return fmt.Sprintf("There is no open conversation %s.", number)
}

// MonitorInvited answers !monitor that worked.
func MonitorInvited(conv int64) string {
	return fmt.Sprintf("You are invited to the side room of conversation **%d**. The customer cannot see you.", conv)
}

// NoOpenConversations answers !conversations when there are none.
const NoOpenConversations = "No open conversations."

// ConversationList answers !conversations with one line per conversation
// (ConversationLine).
func ConversationList(lines []string) string {
	return "Open conversations:\n" + strings.Join(lines, "")
}

// ConversationLine is one conversation in ConversationList; state is
// ConversationWaiting, ConversationWith or ConversationOfferedTo.
func ConversationLine(conv int64, customer, state string, age time.Duration) string {
	return fmt.Sprintf("- **%d** · %s · %s · %s\n", conv, customer, state, age.Round(time.Minute))
}

// ConversationWaiting is the state of a conversation nobody has or is offered.
const ConversationWaiting = "waiting"

// ConversationWith is the state of a conversation an agent has.
func ConversationWith(agent string) string { return "with " + agent }

// ConversationOfferedTo is the state of a conversation offered to an agent.
func ConversationOfferedTo(agent string) string { return "offered to " + agent }
