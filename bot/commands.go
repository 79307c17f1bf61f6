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
