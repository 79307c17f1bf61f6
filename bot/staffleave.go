package bot

import "maunium.net/go/mautrix/format"

// Staff who leave a conversation's rooms by themselves.

// AgentLeftRequeued tells the side room that the conversation's last agent left the
// desk room, so it waits for an agent again.
func AgentLeftRequeued(name string) string {
	return "**" + format.EscapeMarkdown(name) + "** left the desk room: the conversation is back in the queue."
}

// AgentLeft tells the side room that an agent left the desk room while others stay.
func AgentLeft(name string) string {
	return "**" + format.EscapeMarkdown(name) + "** left the desk room and is out of the conversation."
}

// MonitorLeft tells the side room that a supervisor stopped monitoring by leaving.
func MonitorLeft(name string) string {
	return "**" + format.EscapeMarkdown(name) + "** left and no longer monitors the conversation."
}

// LeftDeskRoom is the reason given when an agent who left the desk room is taken
// out of the side room too.
const LeftDeskRoom = "you left the desk room"
