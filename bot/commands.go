package bot

import "strings"

// Command is a parsed command line: "!ready", "ready", "!invite @carol:example.com".
type Command struct {
	Name string
	Args []string
}

// ParseCommand reads a message body as a command. The "!" is optional so that plain
// answers ("accept", "ready") work from any client; only the first line counts, so a
// reply's quoted fallback is ignored.
func ParseCommand(body string) (Command, bool) {
	line, _, _ := strings.Cut(strings.TrimSpace(body), "\n")
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return Command{}, false
	}
	name := strings.ToLower(strings.TrimPrefix(fields[0], "!"))
	if name == "" {
		return Command{}, false
	}
	return Command{Name: name, Args: fields[1:]}, true
}

// ParseBangCommand reads a message as a command only if it starts with "!": in rooms
// where people also talk (desk and side rooms), a plain "end" is a word, not a command.
func ParseBangCommand(body string) (Command, bool) {
	if !strings.HasPrefix(strings.TrimSpace(body), "!") {
		return Command{}, false
	}
	return ParseCommand(body)
}

// ControlHelp lists the commands of a staff member's control room.
const ControlHelp = `Commands in this room:
- **!ready**: take new conversations
- **!away**: stay signed in, take no new conversations
- **!busy**: busy with other work, take no new conversations
- **!offline**: stop working
- **!status**: your status
- **accept** / **decline**: answer an offered conversation
- **!conversations**: the open conversations
- **!monitor** *number*: watch a conversation from its side room (supervisors)
- **!help**: this list`

// SideHelp lists the commands of a conversation's side room (!end works in the desk
// room too).
const SideHelp = `Commands in this room:
- **!invite** *agent*: add an agent to the conversation
- **!remove** *agent*: take an agent out
- **!transfer** *agent* or **!transfer queue**: hand the conversation over
- **!end**: end the conversation (the customer gets the closing message)
- **!help**: this list`
