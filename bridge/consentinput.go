package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/consent"
	"github.com/contactcenter/contactcenter/contextmap"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/linkcode"
)

// consentInput takes what the customer sends that is for the service rather than the
// agents: answers to a consent prompt (poll, reaction, text), !privacy, link and
// visitor codes, and locations shared without consent. It runs in the event's commit; handled
// means the event is not relayed. early: an answer to an event not recorded yet is
// retried (errNotYetKnown) rather than taken for something else.
func (b *Bridge) consentInput(ctx context.Context, t *Tenant, conv *database.Conversation, customer id.UserID, evt *event.Event, early bool) (bool, error) {
	switch evt.Type {
	case event.EventUnstablePollResponse, eventPollResponse:
		return true, b.pollAnswer(ctx, t, conv, customer, evt, early)
	case event.EventReaction:
		rel := evt.Content.AsReaction().RelatesTo
		prompt, opts, err := b.promptOf(ctx, evt.RoomID, rel.EventID, early && bot.IsPromptReaction(rel.Key))
		if err != nil || prompt == nil || prompt.Conversation != conv.ID {
			return prompt != nil, err
		}
		answer, ok := bot.ParseReaction(rel.Key, opts)
		if !ok {
			return true, nil
		}
		if err = b.rememberReaction(ctx, conv, prompt, evt); err != nil {
			return true, err
		}
		return true, b.settleAnswer(ctx, t, conv, customer, prompt, opts, answer, consent.MethodReaction)
	case event.EventRedaction:
		return b.reactionTakenBack(ctx, t, conv, customer, evt)
	case event.EventMessage:
	default:
		return false, nil
	}
	msg := evt.Content.AsMessage()
	// A code counts wherever the customer put it (an emote, an edit, a link in the
	// formatted body); the privacy filter takes it out of what staff get.
	codes := codesIn(msg)
	for i, c := range codes {
		if ok, first := b.limits.codeAttempts.Take(customer.String(), b.now()); !ok {
			// Codes are long enough that guessing is hopeless; the limit keeps the
			// ledger from being hammered all the same. The code stays hidden.
			if first {
				if err := b.tellCustomer(ctx, t, conv, evt, "codes-limit", bot.TooManyCodes); err != nil {
					return true, err
				}
			}
			continue
		}
		if err := b.redeemCode(ctx, t, conv, customer, evt, c, i); err != nil {
			return true, err
		}
	}
	if msg.MsgType == event.MsgLocation {
		return b.sharedLocation(ctx, t, conv, customer, evt, msg)
	}
	if len(codes) > 0 {
		// "!identify LINK-…" is the answer !identify asks for: the code's redemption
		// answers it.
		if _, spec := customerCommandIn(msg.Body); spec == bot.CmdIdentify {
			return true, nil
		}
		return onlyCodes(msg), nil
	}
	if msg.MsgType != event.MsgText || msg.RelatesTo.GetReplaceID() != "" {
		return false, nil
	}
	if run, _ := customerCommandIn(msg.Body); run != nil {
		return true, run(b, ctx, t, conv, customer, evt)
	}
	prompt, err := b.DB.Prompts.Open(ctx, conv.ID)
	if err != nil || prompt == nil {
		return false, err
	}
	var opts bot.PromptOptions
	if err = json.Unmarshal([]byte(prompt.Options), &opts); err != nil {
		return false, err
	}
	answer, err := bot.ParseTextAnswer(msg.Body, opts)
	switch {
	case errors.Is(err, bot.ErrNotAnswer):
		return false, nil
	case err != nil:
		return true, b.tellCustomer(ctx, t, conv, evt, "consent-unclear",
			fmt.Sprintf("Sorry, I did not understand that answer (%s). Reply with the numbers you allow, **all** or **none**.", err))
	}
	return true, b.settleAnswer(ctx, t, conv, customer, prompt, opts, answer, consent.MethodText)
}

func (b *Bridge) pollAnswer(ctx context.Context, t *Tenant, conv *database.Conversation, customer id.UserID, evt *event.Event, early bool) error {
	raw := evt.Content.Raw
	rel, _ := raw["m.relates_to"].(map[string]any)
	target, _ := rel["event_id"].(string)
	prompt, opts, err := b.promptOf(ctx, evt.RoomID, id.EventID(target), early)
	if err != nil || prompt == nil || prompt.Conversation != conv.ID {
		return err // a vote on an old conversation's poll, or on no poll of ours
	}
	answer, _, err := bot.ParsePollResponse(raw, opts)
	if err != nil {
		return nil // a retracted vote, or answers we never offered: nothing to decide
	}
	// Element shows polls as single choice: every vote is a whole answer and closes
	// the prompt. Several categories at once are for the text and reaction answers.
	answer.Final = true
	return b.settleAnswer(ctx, t, conv, customer, prompt, opts, answer, consent.MethodPoll)
}

// privacyPrompt answers !privacy: the same prompt, for every category this customer
// can be asked about, so any of them can be given or withdrawn. When there is none
// (an anonymous customer at a tenant that asks only for identity), the status alone.
func (b *Bridge) privacyPrompt(ctx context.Context, t *Tenant, conv *database.Conversation, customer id.UserID, evt *event.Event) error {
	s := subjectOf(t, customer)
	identified, err := b.Consent.Identified(ctx, s)
	if err != nil {
		return err
	}
	state, err := b.Consent.State(ctx, s, conv.ID)
	if err != nil {
		return err
	}
	askable := t.askable(identified)
	if len(askable) == 0 {
		return b.tellCustomer(ctx, t, conv, evt, "privacy", bot.PrivacyStatusOnly(t.Name, statusLines(t.Purposes(), state)))
	}
	err = b.DB.Outbox.Enqueue(ctx, outboxKey("privacy", conv.ID, b.now().UnixNano()), conv.RoomID, t.UserID, event.EventMessage,
		bot.Notice("What "+t.Name+" may see now:\n\n"+strings.Join(statusLines(askable, state), "\n")+"\n\nAnswer below to change it."), b.now())
	if err != nil {
		return err
	}
	return b.askConsent(ctx, t, conv, askable)
}

// statusLines list, as Markdown, whether each category is shared.
func statusLines(purposes []consent.Purpose, state map[consent.Category]consent.Decision) []string {
	var lines []string
	for _, p := range purposes {
		now := "not shared"
		if state[p.Category] == consent.Given {
			now = "shared"
		}
		lines = append(lines, fmt.Sprintf("- %s: %s", p.Category, now))
	}
	return lines
}

// identify answers !identify: a customer the tenant already knows is asked to share
// identity and account; anyone else learns how to prove who they are (a link code
// from the tenant's website, typed here).
func (b *Bridge) identify(ctx context.Context, t *Tenant, conv *database.Conversation, customer id.UserID, evt *event.Event) error {
	identified, err := b.Consent.Identified(ctx, subjectOf(t, customer))
	if err != nil {
		return err
	}
	if !identified {
		return b.tellCustomer(ctx, t, conv, evt, "identify", fmt.Sprintf(
			"To tell %s who you are, log in on its website, get a **link code** there and type it here. Until then you stay anonymous to our agents.", t.Name))
	}
	var ask []consent.Purpose
	for _, p := range t.Purposes() {
		if p.Category == consent.Identity || p.Category == consent.Account {
			ask = append(ask, p)
		}
	}
	if len(ask) == 0 {
		return b.tellCustomer(ctx, t, conv, evt, "identify", t.Name+" does not ask who you are: you can stay anonymous.")
	}
	return b.askConsent(ctx, t, conv, ask)
}

// redeemCode takes a link or visitor code the customer typed, the n-th of their
// message. A link code that makes them identified brings identity and account into
// question; a visitor code brings their browsing. The code is not relayed: it is a
// secret between them and the tenant.
func (b *Bridge) redeemCode(ctx context.Context, t *Tenant, conv *database.Conversation, customer id.UserID, evt *event.Event, c linkcode.Match, n int) error {
	kind := c.Kind
	what := "code"
	if n > 0 {
		what = fmt.Sprintf("code%d", n+1)
	}
	s := subjectOf(t, customer)
	redeemed, ok, err := b.Consent.Redeem(ctx, s, linkcode.Hash(c.Code))
	if err != nil {
		return err
	}
	if !ok || redeemed != string(kind) {
		return b.tellCustomer(ctx, t, conv, evt, what, "That code is not valid (codes work once and expire). Please get a new one on our website.")
	}
	state, err := b.Consent.State(ctx, s, conv.ID)
	if err != nil {
		return err
	}
	var ask []consent.Purpose
	text := "Thanks: your browsing on our website is linked to this conversation."
	wanted := []consent.Category{consent.Browsing}
	if kind == linkcode.Link {
		text = "Thanks: this chat is now linked to your account."
		wanted = []consent.Category{consent.Identity, consent.Account}
	}
	for _, p := range t.Purposes() {
		if state[p.Category] != consent.Given && slices.Contains(wanted, p.Category) {
			ask = append(ask, p)
		}
	}
	if err = b.tellCustomer(ctx, t, conv, evt, what, text); err != nil {
		return err
	}
	// Staff hear of a link code no more than they see of the account: only once the
	// customer shares it (see hidesAccount).
	if kind == linkcode.Visitor {
		if err = b.sideNotice(ctx, t, conv, "code", "The customer linked their browsing with a code; it shows on the card once they consent."); err != nil {
			return err
		}
	}
	if len(ask) == 0 {
		return b.updateCard(ctx, t, conv, customer)
	}
	return b.askConsent(ctx, t, conv, ask)
}

// sharedLocation stores a location the customer shares, if they granted location;
// otherwise it is neither stored nor shown to the agents, and the customer is told.
func (b *Bridge) sharedLocation(ctx context.Context, t *Tenant, conv *database.Conversation, customer id.UserID, evt *event.Event, msg *event.MessageEventContent) (bool, error) {
	point, err := contextmap.ParseGeoURI(msg.GeoURI)
	if err != nil {
		return true, b.tellCustomer(ctx, t, conv, evt, "location", "We could not read that location.")
	}
	loc := consent.LocationView{GeoURI: msg.GeoURI, Lat: point.Lat, Lon: point.Lon, AccuracyM: point.AccuracyM, At: b.now()}
	err = b.Consent.ShareLocation(ctx, subjectOf(t, customer), conv.ID, loc)
	if errors.Is(err, consent.ErrNotGranted) {
		return true, b.tellCustomer(ctx, t, conv, evt, "location",
			"You have not allowed us to use your location, so we did not keep it and the agent does not see it. Send **!privacy** to allow it.")
	} else if err != nil {
		return true, err
	}
	return false, firstErr(b.rememberSharedLocation(ctx, conv, evt), b.updateCard(ctx, t, conv, customer))
}

// tellCustomer answers a customer's event with a notice from the service.
func (b *Bridge) tellCustomer(ctx context.Context, t *Tenant, conv *database.Conversation, evt *event.Event, what, markdown string) error {
	return b.DB.Outbox.Enqueue(ctx, outboxKey("tell", what, evt.ID), conv.RoomID, t.UserID, event.EventMessage, bot.Notice(markdown), b.now())
}
