package bot

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"maunium.net/go/mautrix/format"
)

// Canned replies: ready-made answers a tenant defines, which an agent sends to the
// customer with !c <name>. Their placeholders are filled from what the agent may
// know: the customer's name only when the customer shared identity in this
// conversation (the caller reads it through the consent gate), otherwise nothing.

// The placeholders a canned reply may hold.
const (
	// PlaceholderFirstName is the customer's first name, empty unless identity is shared.
	PlaceholderFirstName = "first_name"
	// PlaceholderName is the customer's full name, empty unless identity is shared.
	PlaceholderName = "name"
	// PlaceholderAgent is the sending agent's name.
	PlaceholderAgent = "agent"
	// PlaceholderBusiness is the tenant's name.
	PlaceholderBusiness = "business"
)

var placeholders = map[string]bool{PlaceholderFirstName: true, PlaceholderName: true, PlaceholderAgent: true, PlaceholderBusiness: true}

// Limits of a canned reply.
const (
	MaxCannedName = 32
	MaxCannedText = 4000
)

var (
	cannedNamePattern   = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
	placeholderPattern  = regexp.MustCompile(`\{([a-z_]+)\}`)
	emptyBeforeEnd      = regexp.MustCompile("[,;:]? *\x00 *([.!?])")
	emptyBeforePause    = regexp.MustCompile(" *\x00 *([,;:])")
	emptyBetweenWords   = regexp.MustCompile(" +\x00 +")
	emptyLeft           = regexp.MustCompile(" *\x00 *")
	errCannedNameFormat = fmt.Errorf("must be 1 to %d characters of a-z, 0-9, - and _, starting with a letter or digit", MaxCannedName)
)

// CannedFacts are what a canned reply's placeholders are filled from. Name is empty
// unless the customer shared identity in the conversation.
type CannedFacts struct {
	Name     string
	Agent    string
	Business string
}

// ValidateCannedName checks a canned reply's name ("greeting", "card-lost").
func ValidateCannedName(name string) error {
	if len(name) == 0 || len(name) > MaxCannedName || !cannedNamePattern.MatchString(name) {
		return errCannedNameFormat
	}
	return nil
}

// ValidateCannedText checks a canned reply's text: not empty, not too long, valid
// UTF-8, and only known placeholders.
func ValidateCannedText(text string) error {
	switch {
	case strings.TrimSpace(text) == "":
		return errors.New("is empty")
	case !utf8.ValidString(text):
		return errors.New("is not valid UTF-8")
	case utf8.RuneCountInString(text) > MaxCannedText:
		return fmt.Errorf("is longer than %d characters", MaxCannedText)
	}
	for _, m := range placeholderPattern.FindAllStringSubmatch(text, -1) {
		if !placeholders[m[1]] {
			return fmt.Errorf("has the unknown placeholder {%s}; use {first_name}, {name}, {agent} or {business}", m[1])
		}
	}
	return nil
}

// FillCanned fills a canned reply's placeholders. An empty value leaves no trace: the
// spaces and the comma around it close up, so "Hello {first_name}, I am {agent}." reads
// "Hello, I am Carol." and "Thanks, {first_name}!" reads "Thanks!".
func FillCanned(text string, facts CannedFacts) string {
	first, _, _ := strings.Cut(strings.TrimSpace(facts.Name), " ")
	values := map[string]string{
		PlaceholderFirstName: first,
		PlaceholderName:      strings.TrimSpace(facts.Name),
		PlaceholderAgent:     facts.Agent,
		PlaceholderBusiness:  facts.Business,
	}
	// An empty value is marked by a NUL (never in a valid reply's text) until the
	// text around it is closed up.
	text = strings.ReplaceAll(text, "\x00", "")
	out := placeholderPattern.ReplaceAllStringFunc(text, func(m string) string {
		v, ok := values[m[1:len(m)-1]]
		switch {
		case !ok:
			return m
		case v == "":
			return "\x00"
		}
		return v
	})
	out = emptyBeforeEnd.ReplaceAllString(out, "$1")
	out = emptyBeforePause.ReplaceAllString(out, "$1")
	out = emptyBetweenWords.ReplaceAllString(out, " ")
	return emptyLeft.ReplaceAllString(out, "")
}

// CannedReply is one canned reply as the side room's list shows it.
type CannedReply struct {
	Name string
	Text string
}

// CannedList answers !canned: every canned reply with its text (placeholders as
// written), sorted by name.
func CannedList(replies []CannedReply) string {
	if len(replies) == 0 {
		return CannedNone
	}
	sorted := append([]CannedReply(nil), replies...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	var sb strings.Builder
	sb.WriteString("Canned replies (send **!c** *name* in the desk room):")
	for _, r := range sorted {
		text, _, cut := strings.Cut(r.Text, "\n")
		if cut {
			text += " …"
		}
		sb.WriteString("\n- **" + r.Name + "**: " + format.EscapeMarkdown(text))
	}
	return sb.String()
}

// Answers about canned replies, in the side room.
const (
	CannedNone  = "This tenant has no canned replies yet."
	CannedUsage = "Send **!c** *name* in the desk room; **!canned** in the side room lists the names."
)

// CannedUnknown answers !c with a name the tenant has no reply for.
func CannedUnknown(name string) string {
	return fmt.Sprintf("There is no canned reply **%s**. %s", format.EscapeMarkdown(name), CannedUsage)
}

// CannedNotYours answers !c from someone who is not an agent of the conversation.
const CannedNotYours = "Only an agent of this conversation can send canned replies to the customer."

// The canned replies' commands.
var (
	CmdCanned     = &CommandSpec{Name: "canned", Help: CommandHelp{Description: "list the canned replies"}, Roles: RoleStaff, Rooms: RoomConversation}
	CmdCannedSend = &CommandSpec{Name: "c", Help: CommandHelp{Args: "*name*", Description: "send a canned reply to the customer as your message (desk room)"}, Roles: RoleAgent, Rooms: RoomDesk}
)
