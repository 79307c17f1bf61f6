package bot

import (
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// Answers to an offer, as poll answer IDs and reaction keys.
const (
	OfferAccept          = "accept"
	OfferDecline         = "decline"
	OfferAcceptReaction  = "✅"
	OfferDeclineReaction = "❌"
)

// OfferPoll is the offer as a single-choice poll (accept or decline), for clients that
// show polls; the text offer and its ✅/❌ reactions are sent too.
func OfferPoll(question string) *event.Content {
	answers := []event.PollOption{
		{ID: OfferAccept, MSC1767Message: event.MSC1767Message{Text: "Accept"}},
		{ID: OfferDecline, MSC1767Message: event.MSC1767Message{Text: "Decline"}},
	}
	fallback := question + "\n1. Accept\n2. Decline"
	return &event.Content{
		Parsed: &event.PollStartEventContent{PollStart: event.PollStart{
			Kind: pollKindDisclose, MaxSelections: 1,
			Question: event.MSC1767Message{Text: question}, Answers: answers,
		}},
		Raw: map[string]any{extensibleText: fallback, "body": fallback},
	}
}

// ParseOfferVote reads a poll response to an offer poll: the poll it answers and
// whether it accepts. ok is false for anything else (a retracted vote, other answers).
func ParseOfferVote(content map[string]any) (poll id.EventID, accept, ok bool) {
	selections, found := pollSelections(content)
	poll = referencedEvent(content)
	if !found || len(selections) != 1 || poll == "" {
		return "", false, false
	}
	switch selections[0] {
	case OfferAccept:
		return poll, true, true
	case OfferDecline:
		return poll, false, true
	}
	return "", false, false
}

// ParseOfferReaction reads a reaction key on an offer.
func ParseOfferReaction(key string) (accept, ok bool) {
	switch normalizeEmoji(key) {
	case normalizeEmoji(OfferAcceptReaction):
		return true, true
	case normalizeEmoji(OfferDeclineReaction):
		return false, true
	}
	return false, false
}
