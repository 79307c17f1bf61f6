package bridge

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/consent"
	"github.com/contactcenter/contactcenter/database"
)

// Where consent meets Matrix: the prompt in the customer room, the answers (poll,
// reaction, text), receipts, and what staff are told. The rules are package consent's.

// eventPollResponse is the stable poll response type; clients send either it or the
// unstable one.
var eventPollResponse = event.Type{Type: "m.poll.response", Class: event.MessageEventType}

// promptOriginPrefix starts a prompt's name in the event map: the n-th prompt of a
// conversation is promptOrigin(conversation, n).
const promptOriginPrefix = "cc:prompt:"

func promptOrigin(conversation int64, n int) string {
	return fmt.Sprintf("%s%d:%d", promptOriginPrefix, conversation, n)
}

// textPromptSuffix names a prompt's text notice after its poll's name.
const textPromptSuffix = "|text"

// receiptKey carries the machine-readable consent records in a receipt notice.
const receiptKey = "fi.contactcenter.consent_receipt"

func subjectOf(t *Tenant, customer id.UserID) consent.Subject {
	return consent.Subject{Tenant: t.ID, UserID: customer.String()}
}

// askable are the categories worth asking this customer now. Identity and account
// mean something only for a customer linked to an account; recording is asked when a
// call starts.
func (t *Tenant) askable(identified bool) []consent.Purpose {
	var out []consent.Purpose
	for _, p := range t.Purposes() {
		switch {
		case p.Category == consent.Recording:
		case (p.Category == consent.Identity || p.Category == consent.Account) && !identified:
		default:
			out = append(out, p)
		}
	}
	return out
}

func (t *Tenant) purposeMap() map[consent.Category]string {
	out := map[consent.Category]string{}
	for _, p := range t.Purposes() {
		out[p.Category] = p.Purpose
	}
	return out
}

// openConsent runs in a new conversation's commit: remembered choices apply at once,
// the rest is asked.
func (b *Bridge) openConsent(ctx context.Context, t *Tenant, conv *database.Conversation, customer id.UserID) error {
	s := subjectOf(t, customer)
	identified, err := b.Consent.Identified(ctx, s)
	if err != nil {
		return err
	}
	policies, err := b.Consent.Policies(ctx, s)
	if err != nil {
		return err
	}
	var ask []consent.Purpose
	var remembered []consent.Change
	for _, p := range t.askable(identified) {
		switch policies[p.Category] {
		case consent.Always:
			remembered = append(remembered, consent.Change{Category: p.Category, Grant: true})
		case consent.Never:
			remembered = append(remembered, consent.Change{Category: p.Category})
		default:
			ask = append(ask, p)
		}
	}
	if len(ask) > 0 {
		if err = b.askConsent(ctx, t, conv, ask); err != nil {
			return err
		}
	}
	if len(remembered) > 0 {
		records, err := b.Consent.Decide(ctx, s, conv.ID, consent.MethodPolicy, t.purposeMap(), remembered, false)
		if err != nil || len(records) > 0 {
			return firstErr(err, b.afterDecisions(ctx, t, conv, customer, records))
		}
	}
	return b.updateCard(ctx, t, conv, customer)
}

// askConsent puts a prompt to the customer: a multi-select poll, and for clients that
// show no polls the same question as a numbered notice, with the service's own
// reactions on it as buttons. A prompt still open is replaced.
func (b *Bridge) askConsent(ctx context.Context, t *Tenant, conv *database.Conversation, ask []consent.Purpose) error {
	prompt, err := bot.ConsentPrompt(t.Name, ask, true)
	if err != nil {
		return err
	}
	if open, err := b.DB.Prompts.Open(ctx, conv.ID); err != nil {
		return err
	} else if open != nil {
		if _, err = b.DB.Prompts.Settle(ctx, open.ID, "replaced", b.now()); err != nil {
			return err
		}
	}
	n, err := b.DB.Prompts.Count(ctx, conv.ID)
	if err != nil {
		return err
	}
	origin := promptOrigin(conv.ID, n+1)
	options, err := json.Marshal(prompt.Options)
	if err != nil {
		return err
	}
	now := b.now()
	text := origin + textPromptSuffix
	err = firstErr(
		b.queueOwn(ctx, conv.RoomID, t.UserID, origin, event.EventUnstablePollStart, prompt.Poll),
		b.queueOwn(ctx, conv.RoomID, t.UserID, text, event.EventMessage, prompt.Notice),
		b.DB.Prompts.Add(ctx, &database.ConsentPrompt{Conversation: conv.ID, Origin: origin, Options: string(options),
			AskedAt: now, Deadline: now.Add(t.PromptTimeout())}),
	)
	for i, key := range prompt.Reactions {
		if err != nil {
			break
		}
		content := map[string]any{"m.relates_to": map[string]any{"rel_type": event.RelAnnotation, "event_id": text, "key": key}}
		err = b.DB.Outbox.EnqueueRelay(ctx, outboxKey(origin, "button", i), conv.RoomID, t.UserID, event.EventReaction, content, conv.RoomID, now)
	}
	return err
}

// queueOwn queues an event the service writes itself under a name (origin) in the
// event map, so that later events (edits, reactions, poll ends, pins, redactions) can
// refer to it before its event ID is known: references are translated when they are
// sent.
func (b *Bridge) queueOwn(ctx context.Context, room id.RoomID, sender id.UserID, origin string, evtType event.Type, content any) error {
	return firstErr(
		b.DB.Outbox.Enqueue(ctx, origin, room, sender, evtType, content, b.now()),
		b.DB.EventMap.AddOwn(ctx, room, origin, sender, conversationOfName(origin)),
	)
}

// conversationOfName reads the conversation out of the name of one of the service's
// own events: they are all cc:<kind>:<conversation>… (prompts, cards, offers, names),
// and the event map keeps the conversation so that they are pruned with it. 0 when
// the name says none.
func conversationOfName(name string) int64 {
	rest, ok := strings.CutPrefix(name, "cc:")
	if !ok {
		return 0
	}
	if _, rest, ok = strings.Cut(rest, ":"); !ok {
		return 0
	}
	digits := rest[:len(rest)-len(strings.TrimLeft(rest, "0123456789"))]
	n, _ := strconv.ParseInt(digits, 10, 64)
	return n
}

// promptOf finds the consent prompt an event in the customer room points at. early:
// an event not recorded yet may still be ours (errNotYetKnown, to retry).
func (b *Bridge) promptOf(ctx context.Context, room id.RoomID, target id.EventID, early bool) (*database.ConsentPrompt, bot.PromptOptions, error) {
	var opts bot.PromptOptions
	if target == "" {
		return nil, opts, nil
	}
	origin, err := b.DB.EventMap.Translate(ctx, room, target, room)
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

// settleAnswer applies an answer to a prompt of the conversation.
func (b *Bridge) settleAnswer(ctx context.Context, t *Tenant, conv *database.Conversation, customer id.UserID,
	prompt *database.ConsentPrompt, opts bot.PromptOptions, answer bot.Answer, method consent.Method) error {
	s := subjectOf(t, customer)
	var changes []consent.Change
	for _, c := range answer.Granted {
		changes = append(changes, consent.Change{Category: c, Grant: true})
	}
	for _, c := range answer.Refused {
		changes = append(changes, consent.Change{Category: c})
	}
	if len(changes) == 0 && answer.Remember {
		// "Remember" alone keeps what this prompt's categories are now.
		state, err := b.Consent.State(ctx, s, conv.ID)
		if err != nil {
			return err
		}
		for _, c := range opts.Categories() {
			if d, ok := state[c]; ok {
				changes = append(changes, consent.Change{Category: c, Grant: d == consent.Given})
			}
		}
	}
	records, err := b.Consent.Decide(ctx, s, conv.ID, method, t.purposeMap(), changes, answer.Remember)
	if err != nil {
		return err
	}
	if answer.Final {
		if _, err = b.endPrompt(ctx, t, conv, customer, prompt, string(method)); err != nil {
			return err
		}
	}
	if answer.Remember && len(records) == 0 {
		err = b.DB.Outbox.Enqueue(ctx, outboxKey("remembered", conv.ID, b.now().UnixNano()), conv.RoomID, t.UserID,
			event.EventMessage, bot.Notice("We will remember this choice next time. Send **!privacy** to change it."), b.now())
		if err != nil {
			return err
		}
	}
	return b.afterDecisions(ctx, t, conv, customer, records)
}

// endPrompt settles a prompt and closes its poll, saying what is shared. A prompt
// settled already (an earlier answer, the timeout) is left as it is: false.
func (b *Bridge) endPrompt(ctx context.Context, t *Tenant, conv *database.Conversation, customer id.UserID, prompt *database.ConsentPrompt, by string) (bool, error) {
	settled, err := b.DB.Prompts.Settle(ctx, prompt.ID, by, b.now())
	if err != nil || !settled {
		return false, err
	}
	state, err := b.Consent.State(ctx, subjectOf(t, customer), conv.ID)
	if err != nil {
		return false, err
	}
	var shared []consent.Category
	for _, p := range t.Purposes() {
		if state[p.Category] == consent.Given {
			shared = append(shared, p.Category)
		}
	}
	return true, b.DB.Outbox.EnqueueRelay(ctx, outboxKey(prompt.Origin, "end"), conv.RoomID, t.UserID, event.EventUnstablePollEnd,
		bot.PollEnd(id.EventID(prompt.Origin), shared), conv.RoomID, b.now())
}

// afterDecisions tells everyone what changed: a receipt to the customer (readable,
// with the records in its content so the customer's homeserver keeps a copy), a note
// to the staff in the side room, and the context card.
func (b *Bridge) afterDecisions(ctx context.Context, t *Tenant, conv *database.Conversation, customer id.UserID, records []consent.Record) error {
	if len(records) == 0 {
		return nil
	}
	lines := make([]string, len(records))
	var staff []string
	withdrawn := map[consent.Category]bool{}
	// A refusal of identity or account shows nowhere (see hidesAccount); anything
	// else changes the card.
	cardChanges := false
	for i, r := range records {
		lines[i] = "- " + bot.ConsentReceiptLine(r.Category, r.Decision)
		switch r.Decision {
		case consent.Given:
			staff = append(staff, fmt.Sprintf("shared **%s**", r.Category))
		case consent.Withdrawn:
			staff = append(staff, fmt.Sprintf("withdrew **%s**: do not use it any more", r.Category))
			withdrawn[r.Category] = true
		}
		cardChanges = cardChanges || r.Decision != consent.Refused || !hidesAccount(r.Category)
	}
	receipt := bot.Notice(fmt.Sprintf("Your privacy choices for %s (receipt %s):\n\n%s\n\nSend **!privacy** to change them.",
		t.Name, records[0].ReceiptID, strings.Join(lines, "\n")))
	content := &event.Content{Parsed: receipt, Raw: map[string]any{receiptKey: map[string]any{"version": 1, "records": records}}}
	err := b.DB.Outbox.Enqueue(ctx, outboxKey("receipt", records[0].ReceiptID), conv.RoomID, t.UserID, event.EventMessage, content, b.now())
	if err != nil {
		return err
	}
	if len(staff) > 0 {
		if err = b.sideNotice(ctx, t, conv, "consent", "The customer "+strings.Join(staff, "; ")+"."); err != nil {
			return err
		}
	}
	if slices.ContainsFunc(records, func(r consent.Record) bool { return r.Category == consent.Identity && r.Decision != consent.Refused }) {
		if err = b.renameCustomer(ctx, t, conv, customer); err != nil {
			return err
		}
	}
	if withdrawn[consent.Location] {
		if err = b.takeBackLocations(ctx, t, conv); err != nil {
			return err
		}
	}
	zerolog.Ctx(ctx).Info().Int64("conversation", conv.ID).Int("records", len(records)).Int("withdrawn", len(withdrawn)).Msg("Consent recorded")
	switch {
	case len(withdrawn) > 0:
		return b.writeCard(ctx, t, conv, customer, replaceCard)
	case cardChanges:
		return b.updateCard(ctx, t, conv, customer)
	}
	return b.writeCard(ctx, t, conv, customer, ensureCard)
}

// rememberReaction keeps a reaction by which the customer answered a prompt, so that
// taking it back can be read (reactionTakenBack).
func (b *Bridge) rememberReaction(ctx context.Context, conv *database.Conversation, prompt *database.ConsentPrompt, evt *event.Event) error {
	return b.DB.ConsentReactions().Add(ctx, &database.ConsentReaction{RoomID: evt.RoomID, EventID: evt.ID, Conversation: conv.ID,
		PromptOrigin: prompt.Origin, Key: evt.Content.AsReaction().RelatesTo.Key})
}

// reactionTakenBack reads the customer's redaction of one of their own reactions on a
// prompt of this conversation: a keycap taken back withdraws its category, like any
// other withdrawal. handled is false for a redaction of anything else, which is
// relayed as usual.
func (b *Bridge) reactionTakenBack(ctx context.Context, t *Tenant, conv *database.Conversation, customer id.UserID, evt *event.Event) (handled bool, err error) {
	target := evt.Redacts
	if r := evt.Content.AsRedaction(); r.Redacts != "" {
		target = r.Redacts
	}
	reaction, err := b.DB.ConsentReactions().Get(ctx, evt.RoomID, target)
	if err != nil || reaction == nil {
		return false, err
	}
	if reaction.Conversation != conv.ID {
		return true, nil // an answer in an earlier conversation: its consent is closed
	}
	prompt, err := b.DB.Prompts.ByOrigin(ctx, reaction.PromptOrigin)
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
	return true, b.settleAnswer(ctx, t, conv, customer, prompt, opts, answer, consent.MethodReaction)
}
