package bot

import (
	"errors"
	"fmt"
	"strings"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/format"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/consent"
)

// Answer IDs of the poll choices that are not a category. Category choices use the
// category name as their ID, so a stored response reads by itself.
const (
	AnswerAll      = "all"
	AnswerNone     = "none"
	AnswerRemember = "remember"
)

// Reaction keys of the choices that are not a category; categories get keycaps 1️⃣..9️⃣.
const (
	ReactionAll      = "✅"
	ReactionNone     = "❌"
	ReactionRemember = "📌"
)

// MaxPromptCategories is how many categories one prompt can ask: there are nine
// keycap emojis to react with.
const MaxPromptCategories = 9

var keycaps = [MaxPromptCategories]string{
	"1\ufe0f\u20e3", "2\ufe0f\u20e3", "3\ufe0f\u20e3", "4\ufe0f\u20e3", "5\ufe0f\u20e3",
	"6\ufe0f\u20e3", "7\ufe0f\u20e3", "8\ufe0f\u20e3", "9\ufe0f\u20e3",
}

// Poll fields of MSC3381 (unstable prefix, what Element sends and reads) and MSC1767.
const (
	pollStartKey     = "org.matrix.msc3381.poll.start"
	pollEndKey       = "org.matrix.msc3381.poll.end"
	pollKindDisclose = "org.matrix.msc3381.poll.disclosed"
	extensibleText   = "org.matrix.msc1767.text"
)

// PromptOption is one category the prompt asks for, with every way to choose it.
type PromptOption struct {
	Number   int              `json:"number"`    // 1-based, as in the text prompt
	AnswerID string           `json:"answer_id"` // poll answer ID (the category name)
	Reaction string           `json:"reaction"`  // keycap emoji
	Category consent.Category `json:"category"`
	Purpose  string           `json:"purpose"`
}

// PromptOptions is what one prompt offered. The service stores it with the prompt's
// event IDs, because answers may arrive after a restart.
type PromptOptions struct {
	Options  []PromptOption `json:"options"`
	Remember bool           `json:"remember"` // whether "remember my choice" was offered
}

// Categories lists the offered categories in prompt order.
func (o PromptOptions) Categories() []consent.Category {
	cats := make([]consent.Category, len(o.Options))
	for i, opt := range o.Options {
		cats[i] = opt.Category
	}
	return cats
}

func (o PromptOptions) byNumber(n int) (consent.Category, bool) {
	for _, opt := range o.Options {
		if opt.Number == n {
			return opt.Category, true
		}
	}
	return "", false
}

func (o PromptOptions) byAnswerID(answerID string) (consent.Category, bool) {
	for _, opt := range o.Options {
		if opt.AnswerID == answerID {
			return opt.Category, true
		}
	}
	return "", false
}

func (o PromptOptions) byReaction(key string) (consent.Category, bool) {
	key = normalizeEmoji(key)
	for _, opt := range o.Options {
		if normalizeEmoji(opt.Reaction) == key {
			return opt.Category, true
		}
	}
	return "", false
}

// normalizeEmoji drops variation selectors: clients send keycaps and ✅ with or
// without U+FE0F.
func normalizeEmoji(s string) string {
	return strings.ReplaceAll(strings.TrimSpace(s), "\ufe0f", "")
}

// ConsentPromptContent is everything the service sends to ask for consent.
type ConsentPromptContent struct {
	// Poll is sent as event.EventUnstablePollStart; it carries a text fallback too.
	Poll *event.Content
	// Notice is the text prompt for clients without polls, sent as m.room.message.
	Notice *event.MessageEventContent
	// Reactions are the keys the service reacts to Notice with, in order, so that
	// clients show them as buttons.
	Reactions []string
	// Options maps numbers, poll answer IDs and reactions to categories; store it.
	Options PromptOptions
}

// ConsentPrompt builds the prompt asking a customer which categories tenantName may
// see. remember offers keeping the choice for the next conversation.
func ConsentPrompt(tenantName string, asked []consent.Purpose, remember bool) (*ConsentPromptContent, error) {
	if err := validateAsked(asked); err != nil {
		return nil, err
	}
	opts := PromptOptions{Remember: remember}
	for i, p := range asked {
		opts.Options = append(opts.Options, PromptOption{
			Number: i + 1, AnswerID: string(p.Category), Reaction: keycaps[i],
			Category: p.Category, Purpose: p.Purpose,
		})
	}
	reactions := make([]string, 0, len(asked)+3)
	for _, opt := range opts.Options {
		reactions = append(reactions, opt.Reaction)
	}
	reactions = append(reactions, ReactionAll, ReactionNone)
	if remember {
		reactions = append(reactions, ReactionRemember)
	}
	return &ConsentPromptContent{
		Poll:      consentPoll(tenantName, opts),
		Notice:    Notice(consentPromptMarkdown(tenantName, opts)),
		Reactions: reactions,
		Options:   opts,
	}, nil
}

func validateAsked(asked []consent.Purpose) error {
	if len(asked) == 0 {
		return errors.New("consent prompt: no categories to ask for")
	}
	if len(asked) > MaxPromptCategories {
		return fmt.Errorf("consent prompt: %d categories, at most %d fit (one keycap reaction each)", len(asked), MaxPromptCategories)
	}
	if err := consent.ValidatePurposes(asked); err != nil {
		return fmt.Errorf("consent prompt: %w", err)
	}
	for _, p := range asked {
		switch string(p.Category) {
		case AnswerAll, AnswerNone, AnswerRemember:
			return fmt.Errorf("consent prompt: category %q collides with the %q choice", p.Category, p.Category)
		}
	}
	return nil
}

func consentQuestion(tenantName string) string {
	return tenantName + " asks to see some of your details. Which may it see?"
}

// consentPoll is a multi-select MSC3381 poll: one answer per category plus all, none
// and remember; max_selections lets the customer tick any of them.
func consentPoll(tenantName string, opts PromptOptions) *event.Content {
	var answers []event.PollOption
	add := func(answerID, text string) {
		answers = append(answers, event.PollOption{ID: answerID, MSC1767Message: event.MSC1767Message{Text: text}})
	}
	for _, opt := range opts.Options {
		add(opt.AnswerID, fmt.Sprintf("%s: %s", opt.Category, opt.Purpose))
	}
	add(AnswerAll, "All of them")
	add(AnswerNone, "None of them")
	if opts.Remember {
		add(AnswerRemember, "Remember my choice for next time")
	}
	fallback := consentPromptPlain(tenantName, opts)
	return &event.Content{
		Parsed: &event.PollStartEventContent{PollStart: event.PollStart{
			Kind:          pollKindDisclose,
			MaxSelections: len(answers),
			Question:      event.MSC1767Message{Text: consentQuestion(tenantName)},
			Answers:       answers,
		}},
		// Extensible-events fallback for clients (and push) that know no polls.
		Raw: map[string]any{extensibleText: fallback, "body": fallback},
	}
}

func consentPromptPlain(tenantName string, opts PromptOptions) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s asks to see:\n", tenantName)
	for _, opt := range opts.Options {
		fmt.Fprintf(&b, "%d %s — %s\n", opt.Number, opt.Category, opt.Purpose)
	}
	b.WriteString(replyHint(opts, false))
	return b.String()
}

func consentPromptMarkdown(tenantName string, opts PromptOptions) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**%s** asks to see:\n\n", format.EscapeMarkdown(tenantName))
	for _, opt := range opts.Options {
		fmt.Fprintf(&b, "%d. **%s** — %s\n", opt.Number, opt.Category, format.EscapeMarkdown(opt.Purpose))
	}
	b.WriteString("\n")
	b.WriteString(replyHint(opts, true))
	reacts := fmt.Sprintf(" Or react: %s…%s to allow one, %s all, %s none", keycaps[0], opts.Options[len(opts.Options)-1].Reaction, ReactionAll, ReactionNone)
	if opts.Remember {
		reacts += ", " + ReactionRemember + " remember"
	}
	b.WriteString(reacts + ".")
	return b.String()
}

func replyHint(opts PromptOptions, markdown bool) string {
	em := func(s string) string {
		if markdown {
			return "**" + s + "**"
		}
		return s
	}
	example := "1"
	if len(opts.Options) > 1 {
		example = fmt.Sprintf("1 %d", len(opts.Options))
	}
	hint := fmt.Sprintf("Reply with the numbers you allow (e.g. %s), %s, or %s.", example, em("all"), em("none"))
	if opts.Remember {
		hint += fmt.Sprintf(" Add %s to keep this choice for next time.", em("remember"))
	}
	return hint
}

// PollEnd closes the consent poll pollID once answered, telling what is shared.
// Send it as event.EventUnstablePollEnd.
func PollEnd(pollID id.EventID, shared []consent.Category) *event.Content {
	text := "Thanks — nothing is shared."
	if len(shared) > 0 {
		names := make([]string, len(shared))
		for i, c := range shared {
			names[i] = string(c)
		}
		text = "Thanks — shared: " + strings.Join(names, ", ")
	}
	return &event.Content{Raw: map[string]any{
		"m.relates_to": map[string]any{"rel_type": string(event.RelReference), "event_id": string(pollID)},
		pollEndKey:     map[string]any{},
		extensibleText: text,
		"body":         text,
	}}
}

// ConsentUnansweredText tells the customer an unanswered prompt counts as refusing
// everything (Markdown, for Notice).
func ConsentUnansweredText(tenantName string) string {
	return fmt.Sprintf("You did not answer, so %s sees none of these details. You can share them any time: send **!privacy**.",
		format.EscapeMarkdown(tenantName))
}

// ConsentReceiptLine summarises one decision for the receipt posted to the customer.
func ConsentReceiptLine(category consent.Category, decision consent.Decision) string {
	switch decision {
	case consent.Given:
		return fmt.Sprintf("%s: shared", category)
	case consent.Refused:
		return fmt.Sprintf("%s: not shared", category)
	case consent.Withdrawn:
		return fmt.Sprintf("%s: withdrawn, no longer shared", category)
	}
	return fmt.Sprintf("%s: %s", category, decision)
}

// IsPromptReaction tells whether a reaction key is one a consent prompt offers (any
// keycap, ✅, ❌, 📌), whatever the prompt.
func IsPromptReaction(key string) bool {
	k := normalizeEmoji(key)
	for _, c := range keycaps {
		if k == normalizeEmoji(c) {
			return true
		}
	}
	return k == normalizeEmoji(ReactionAll) || k == normalizeEmoji(ReactionNone) || k == normalizeEmoji(ReactionRemember)
}
