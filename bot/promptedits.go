package bot

import (
	"fmt"
	"strings"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/consent"
)

// Answered prompts are edited (m.replace) to show what was chosen, so a client that
// shows the prompt shows its answer with it, and nobody answers it again.

// Replacement is an edit of the service's own message target into markdown. The
// target is a name in the event map; the outbox puts in its event ID when sending.
func Replacement(target id.EventID, markdown string) *event.Content {
	msg := Notice(markdown)
	fallback := *msg
	fallback.Body = "* " + msg.Body
	if fallback.FormattedBody != "" {
		fallback.FormattedBody = "* " + msg.FormattedBody
	}
	return &event.Content{Raw: map[string]any{
		"msgtype":        fallback.MsgType,
		"body":           fallback.Body,
		"format":         fallback.Format,
		"formatted_body": fallback.FormattedBody,
		"m.new_content": map[string]any{
			"msgtype": msg.MsgType, "body": msg.Body, "format": msg.Format, "formatted_body": msg.FormattedBody,
		},
		"m.relates_to": map[string]any{"rel_type": string(event.RelReplace), "event_id": string(target)},
	}}
}

// ConsentAnswered is what an answered consent prompt's text is edited into: what is
// shared now, and how it was settled ("poll", "reaction", "text", "timeout").
func ConsentAnswered(shared []consent.Category, by string) string {
	what := "nothing is shared"
	if len(shared) > 0 {
		names := make([]string, len(shared))
		for i, c := range shared {
			names[i] = "**" + string(c) + "**"
		}
		what = "shared: " + strings.Join(names, ", ")
	}
	if by == string(consent.MethodTimeout) {
		return "✔️ Privacy question unanswered, so " + what + ". Send **!privacy** to change it."
	}
	return "✔️ Privacy question answered: " + what + ". Send **!privacy** to change it."
}

// How an offer ended, for OfferAnswered.
const (
	OfferEndAccepted = "accepted"
	OfferEndDeclined = "declined"
	OfferEndGone     = "gone"
	OfferEndLapsed   = "lapsed"
)

// OfferAnswered is what an offer is edited into once it is answered or lapses.
func OfferAnswered(convID int64, customer, how string) string {
	switch how {
	case OfferEndAccepted:
		return fmt.Sprintf("✅ Conversation **%d** with **%s**: you accepted it.", convID, customer)
	case OfferEndDeclined:
		return fmt.Sprintf("❌ Conversation **%d** with **%s**: you declined it.", convID, customer)
	case OfferEndLapsed:
		return fmt.Sprintf("⌛ Conversation **%d** with **%s**: the offer lapsed unanswered.", convID, customer)
	}
	return fmt.Sprintf("Conversation **%d** with **%s**: no longer offered to you.", convID, customer)
}

// PollClosed ends one of the service's polls (pollID, a name in the event map),
// saying how it was answered. Send it as event.EventUnstablePollEnd.
func PollClosed(pollID id.EventID, text string) *event.Content {
	return &event.Content{Raw: map[string]any{
		"m.relates_to": map[string]any{"rel_type": string(event.RelReference), "event_id": string(pollID)},
		pollEndKey:     map[string]any{},
		extensibleText: text,
		"body":         text,
	}}
}
