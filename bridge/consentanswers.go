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
// visitor codes, and locations shared without consent. It runs in the event's commit;
// handled means the event is not relayed. early: an answer to an event not recorded
// yet is retried (errNotYetKnown) rather than taken for something else.
func (c *convo) consentInput(ctx context.Context, early bool) (bool, error) {
	evt := c.evt()
	if consentIgnores(evt) {
		return false, nil
	}
	switch evt.Type {
	case event.EventUnstablePollResponse, eventPollResponse:
		return true, c.pollAnswer(ctx, early)
	case event.EventReaction:
		rel := evt.Content.AsReaction().RelatesTo
		prompt, opts, err := c.b.promptOf(ctx, evt.RoomID, rel.EventID, early && bot.IsPromptReaction(rel.Key))
		if err != nil || prompt == nil || prompt.Conversation != c.ID {
			return prompt != nil, err
		}
		answer, ok := bot.ParseReaction(rel.Key, opts)
		if !ok {
			return true, nil
		}
		if err = c.rememberReaction(ctx, prompt); err != nil {
			return true, err
		}
		return true, c.settleAnswer(ctx, prompt, opts, answer, consent.MethodReaction)
	case event.EventRedaction:
		return c.reactionTakenBack(ctx)
	case event.EventMessage:
	default:
		return false, nil
	}
	msg := evt.Content.AsMessage()
	// A code counts wherever the customer put it (an emote, an edit, a link in the
	// formatted body); the privacy filter takes it out of what staff get.
	codes := codesIn(msg)
	for i, code := range codes {
		if ok, first := c.b.limits.codeAttempts.Take(c.Customer.String(), c.b.now()); !ok {
			// Codes are long enough that guessing is hopeless; the limit keeps the
			// ledger from being hammered all the same. The code stays hidden.
			if first {
				if err := c.tellCustomer(ctx, "codes-limit", bot.TooManyCodes); err != nil {
					return true, err
				}
			}
			continue
		}
		if err := c.redeemCode(ctx, code, i); err != nil {
			return true, err
		}
	}
	if msg.MsgType == event.MsgLocation {
		return c.sharedLocation(ctx, msg)
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
		return true, run(c, ctx)
	}
	if !bot.MayAnswer(msg.Body) {
		return false, nil // ordinary chat: no prompt would take it as an answer
	}
	prompt, err := c.b.DB.Prompts.Open(ctx, c.ID)
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
		return true, c.tellCustomer(ctx, "consent-unclear",
			fmt.Sprintf("Sorry, I did not understand that answer (%s). Reply with the numbers you allow, **all** or **none**.", err))
	}
	return true, c.settleAnswer(ctx, prompt, opts, answer, consent.MethodText)
}

// consentIgnores tells, from the event alone, that consentInput leaves it to be
// relayed and does nothing else: a sticker, or a message that carries no code, no
// location, no command, and cannot be an answer to a prompt. consentInput starts with
// it, so that a handler may rely on it before the commit (handleCustomerEvent).
func consentIgnores(evt *event.Event) bool {
	switch evt.Type {
	case event.EventSticker:
		return true
	case event.EventMessage:
	default:
		return false
	}
	msg := evt.Content.AsMessage()
	if msg.MsgType == event.MsgLocation || len(codesIn(msg)) > 0 {
		return false
	}
	if msg.MsgType != event.MsgText || msg.RelatesTo.GetReplaceID() != "" {
		return true
	}
	run, _ := customerCommandIn(msg.Body)
	return run == nil && !bot.MayAnswer(msg.Body)
}

// leftAsIs tells whether consentInput, having left evt to be relayed, also left the
// room and its conversation as they were: it acts on codes and on a shared location
// even when it relays the message. Keep the two in step.
func leftAsIs(evt *event.Event) bool {
	if evt.Type != event.EventMessage && evt.Type != event.EventSticker {
		return false
	}
	msg := evt.Content.AsMessage()
	return msg.MsgType != event.MsgLocation && len(codesIn(msg)) == 0
}

func (c *convo) pollAnswer(ctx context.Context, early bool) error {
	evt := c.evt()
	raw := evt.Content.Raw
	rel, _ := raw["m.relates_to"].(map[string]any)
	target, _ := rel["event_id"].(string)
	prompt, opts, err := c.b.promptOf(ctx, evt.RoomID, id.EventID(target), early)
	if err != nil || prompt == nil || prompt.Conversation != c.ID {
		return err // a vote on an old conversation's poll, or on no poll of ours
	}
	answer, _, err := bot.ParsePollResponse(raw, opts)
	if err != nil {
		return nil // a retracted vote, or answers we never offered: nothing to decide
	}
	// Element shows polls as single choice: every vote is a whole answer and closes
	// the prompt. Several categories at once are for the text and reaction answers.
	answer.Final = true
	return c.settleAnswer(ctx, prompt, opts, answer, consent.MethodPoll)
}

// promptOf finds the consent prompt an event in the customer room points at. early:
// an event not recorded yet may still be ours (errNotYetKnown, to retry).
func (b *Bridge) promptOf(ctx context.Context, room id.RoomID, target id.EventID, early bool) (*database.ConsentPrompt, bot.PromptOptions, error) {
	var opts bot.PromptOptions
	if target == "" {
		return nil, opts, nil
	}
	origin, err := b.translate(ctx, room, target, room)
	if err == nil && origin == "" && early {
		return nil, opts, errNotYetKnown
	}
	if err != nil || !strings.HasPrefix(string(origin), promptOriginPrefix) {
		return nil, opts, err
	}
	prompt, err := b.DB.Prompts.ByOrigin(ctx, strings.TrimSuffix(string(origin), textPromptSuffix))
	if err != nil || prompt == nil {
		return nil, opts, err
	}
	return prompt, opts, json.Unmarshal([]byte(prompt.Options), &opts)
}

// rememberReaction keeps the reaction by which the customer answered a prompt, so
// that taking it back can be read (reactionTakenBack).
func (c *convo) rememberReaction(ctx context.Context, prompt *database.ConsentPrompt) error {
	evt := c.evt()
	return c.b.DB.ConsentReactions().Add(ctx, &database.ConsentReaction{RoomID: evt.RoomID, EventID: evt.ID, Conversation: c.ID,
		PromptOrigin: prompt.Origin, Key: evt.Content.AsReaction().RelatesTo.Key})
}

// reactionTakenBack reads the customer's redaction of one of their own reactions on a
// prompt of this conversation: a keycap taken back withdraws its category, like any
// other withdrawal. handled is false for a redaction of anything else, which is
// relayed as usual.
func (c *convo) reactionTakenBack(ctx context.Context) (handled bool, err error) {
	evt := c.evt()
	target := evt.Redacts
	if r := evt.Content.AsRedaction(); r.Redacts != "" {
		target = r.Redacts
	}
	reaction, err := c.b.DB.ConsentReactions().Get(ctx, evt.RoomID, target)
	if err != nil || reaction == nil {
		return false, err
	}
	if reaction.Conversation != c.ID {
		return true, nil // an answer in an earlier conversation: its consent is closed
	}
	prompt, err := c.b.DB.Prompts.ByOrigin(ctx, reaction.PromptOrigin)
	if err != nil || prompt == nil {
		return true, err
	}
	var opts bot.PromptOptions
	if err = json.Unmarshal([]byte(prompt.Options), &opts); err != nil {
		return true, err
	}
	answer, ok := bot.ParseReactionRemoval(reaction.Key, opts)
	if !ok {
		return true, nil
	}
	return true, c.settleAnswer(ctx, prompt, opts, answer, consent.MethodReaction)
}

// redeemCode takes a link or visitor code the customer typed, the n-th of their
// message. A link code that makes them identified brings identity and account into
// question; a visitor code brings their browsing. The code is not relayed: it is a
// secret between them and the tenant.
func (c *convo) redeemCode(ctx context.Context, code linkcode.Match, n int) error {
	b, t := c.b, c.t
	kind := code.Kind
	what := "code"
	if n > 0 {
		what = fmt.Sprintf("code%d", n+1)
	}
	s := c.subject()
	redeemed, ok, err := b.Consent.Redeem(ctx, s, linkcode.Hash(code.Code))
	if err != nil {
		return err
	}
	if !ok || redeemed != string(kind) {
		return c.tellCustomer(ctx, what, "That code is not valid (codes work once and expire). Please get a new one on our website.")
	}
	state, err := b.Consent.State(ctx, s, c.ID)
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
	if err = c.tellCustomer(ctx, what, text); err != nil {
		return err
	}
	// Staff hear of a link code no more than they see of the account: only once the
	// customer shares it (see hidesAccount).
	if kind == linkcode.Visitor {
		if err = c.sideNotice(ctx, "code", "The customer linked their browsing with a code; it shows on the card once they consent."); err != nil {
			return err
		}
	}
	if len(ask) == 0 {
		return c.updateCard(ctx)
	}
	return c.askConsent(ctx, ask)
}

// sharedLocation stores a location the customer shares, if they granted location;
// otherwise it is neither stored nor shown to the agents, and the customer is told.
func (c *convo) sharedLocation(ctx context.Context, msg *event.MessageEventContent) (bool, error) {
	point, err := contextmap.ParseGeoURI(msg.GeoURI)
	if err != nil {
		return true, c.tellCustomer(ctx, "location", "We could not read that location.")
	}
	loc := consent.LocationView{GeoURI: msg.GeoURI, Lat: point.Lat, Lon: point.Lon, AccuracyM: point.AccuracyM, At: c.b.now()}
	err = c.b.Consent.ShareLocation(ctx, c.subject(), c.ID, loc)
	if errors.Is(err, consent.ErrNotGranted) {
		return true, c.tellCustomer(ctx, "location",
			"You have not allowed us to use your location, so we did not keep it and the agent does not see it. Send **!privacy** to allow it.")
	} else if err != nil {
		return true, err
	}
	return false, firstErr(c.rememberSharedLocation(ctx), c.updateCard(ctx))
}
