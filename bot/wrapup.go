package bot

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/format"
	"maunium.net/go/mautrix/id"
)

// Wrap-up: once a conversation ends, its agent is asked in their control room for a
// disposition from the tenant's list of wrap-up codes — a single-choice poll, and the
// same list numbered for clients without polls — and may add a note.

// wrapUpAnswerPrefix starts the poll answer IDs of the wrap-up poll: code1, code2, …
const wrapUpAnswerPrefix = "code"

// WrapUpPrompt is the question's text notice (Markdown): the codes numbered, and how
// to answer.
func WrapUpPrompt(convID int64, customer string, codes []string, within time.Duration) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "Conversation **%d** with **%s** ended. How did it end? Reply with the number, and a note after it if you like (**2 will call back**):\n",
		convID, format.EscapeMarkdown(customer))
	for i, c := range codes {
		fmt.Fprintf(&sb, "\n%d. %s", i+1, format.EscapeMarkdown(c))
	}
	fmt.Fprintf(&sb, "\n\nWrap-up ends when you answer, or in %s. **!note** *text* adds a note afterwards.", within)
	return sb.String()
}

// WrapUpPoll is the question as a single-choice poll.
func WrapUpPoll(convID int64, codes []string) *event.Content {
	question := fmt.Sprintf("Wrap-up code for conversation %d", convID)
	answers := make([]event.PollOption, len(codes))
	fallback := question
	for i, c := range codes {
		answers[i] = event.PollOption{ID: wrapUpAnswerPrefix + strconv.Itoa(i+1), MSC1767Message: event.MSC1767Message{Text: c}}
		fallback += fmt.Sprintf("\n%d. %s", i+1, c)
	}
	return &event.Content{
		Parsed: &event.PollStartEventContent{PollStart: event.PollStart{
			Kind: pollKindDisclose, MaxSelections: 1,
			Question: event.MSC1767Message{Text: question}, Answers: answers,
		}},
		Raw: map[string]any{extensibleText: fallback, "body": fallback},
	}
}

// ParseWrapUpVote reads a vote on a wrap-up poll: the poll it answers and the code's
// index (0-based) among n codes. ok is false for anything else.
func ParseWrapUpVote(content map[string]any, n int) (poll id.EventID, index int, ok bool) {
	selections, found := pollSelections(content)
	poll = referencedEvent(content)
	if !found || len(selections) != 1 || poll == "" {
		return "", 0, false
	}
	i, err := strconv.Atoi(strings.TrimPrefix(selections[0], wrapUpAnswerPrefix))
	if err != nil || !strings.HasPrefix(selections[0], wrapUpAnswerPrefix) || i < 1 || i > n {
		return "", 0, false
	}
	return poll, i - 1, true
}

// ParseWrapUpText reads a text answer: the code's number (1-based in the text, 0-based
// in index) or its exact name (any case), then an optional note. ok is false when the
// text does not start with a code.
func ParseWrapUpText(body string, codes []string) (index int, note string, ok bool) {
	line := strings.TrimSpace(body)
	if line == "" {
		return 0, "", false
	}
	first, rest, _ := strings.Cut(line, " ")
	first = strings.TrimSuffix(first, ".")
	if n, err := strconv.Atoi(first); err == nil {
		if n < 1 || n > len(codes) {
			return 0, "", false
		}
		return n - 1, strings.TrimSpace(rest), true
	}
	// The longest code name the text starts with, so "Resolved later" is not "Resolved".
	best := -1
	for i, c := range codes {
		prefix := strings.ToLower(c)
		lower := strings.ToLower(line)
		if lower == prefix || strings.HasPrefix(lower, prefix+" ") {
			if best < 0 || len(c) > len(codes[best]) {
				best = i
			}
		}
	}
	if best < 0 {
		return 0, "", false
	}
	return best, strings.TrimSpace(line[len(codes[best]):]), true
}

// MaxWrapUpNote bounds a wrap-up note (characters).
const MaxWrapUpNote = 2000

// Answers about wrap-up, in the agent's control room.
func WrapUpRecorded(convID int64, code string, note bool) string {
	s := fmt.Sprintf("Conversation **%d** wrapped up as **%s**", convID, format.EscapeMarkdown(code))
	if note {
		s += " with your note"
	}
	return s + ". Wrap-up is over."
}

// WrapUpLapsed tells the agent that wrap-up ended without a code.
func WrapUpLapsed(convID int64) string {
	return fmt.Sprintf("Wrap-up of conversation **%d** is over without a code.", convID)
}

// NoteAdded answers !note.
func NoteAdded(convID int64) string {
	return fmt.Sprintf("Note added to conversation **%d**.", convID)
}

// Answers to a !note that cannot be taken.
const (
	NoteNothingToWrap = "You have no conversation to add a note to: notes go with your last wrap-up."
	NoteUsage         = "Send **!note** *text*."
)

// NoteTooLong refuses a note over MaxWrapUpNote.
var NoteTooLong = fmt.Sprintf("That note is too long; keep it under %d characters.", MaxWrapUpNote)

// WrapUpAnswered is what an answered wrap-up question is edited into.
func WrapUpAnswered(convID int64, code string) string {
	return fmt.Sprintf("Conversation **%d** ended: wrapped up as **%s**.", convID, format.EscapeMarkdown(code))
}

// WrapUpSide tells the side room the disposition (never the note: the side room's
// supervisors see the codes in reports, the note stays with the record).
func WrapUpSide(agent, code string) string {
	return fmt.Sprintf("%s wrapped up the conversation as **%s**.", format.EscapeMarkdown(agent), format.EscapeMarkdown(code))
}

// CmdNote adds a note to the agent's last wrap-up.
var CmdNote = &CommandSpec{Name: "note", Help: CommandHelp{Args: "*text*", Description: "add a note to your last wrap-up"}, Roles: RoleAgent, Rooms: RoomControl}
