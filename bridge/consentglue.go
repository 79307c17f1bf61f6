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

// subject is the conversation's customer at its tenant, as the consent ledger knows
// them.
func (c *convo) subject() consent.Subject { return subjectOf(c.t, c.Customer) }

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
func (c *convo) openConsent(ctx context.Context) error {
	b, t, s := c.b, c.t, c.subject()
	remembered, ask, err := c.rememberedChoices(ctx)
	if err != nil {
		return err
	}
	if len(ask) > 0 {
		if err = c.askConsent(ctx, ask); err != nil {
			return err
		}
	}
	if len(remembered) > 0 {
		records, err := b.Consent.Decide(ctx, s, c.ID, consent.MethodPolicy, t.purposeMap(), remembered, false)
		if err != nil || len(records) > 0 {
			return firstErr(err, c.afterDecisions(ctx, records))
		}
	}
	return c.updateCard(ctx)
}

// rememberedChoices splits the purposes the tenant may ask about into the choices
// the customer remembered (always: granted, never: refused) and those still to ask.
func (c *convo) rememberedChoices(ctx context.Context) (remembered []consent.Change, ask []consent.Purpose, err error) {
	s := c.subject()
	identified, err := c.b.Consent.Identified(ctx, s)
	if err != nil {
		return nil, nil, err
	}
	policies, err := c.b.Consent.Policies(ctx, s)
	if err != nil {
		return nil, nil, err
	}
	for _, p := range c.t.askable(identified) {
		switch policies[p.Category] {
		case consent.Always:
			remembered = append(remembered, consent.Change{Category: p.Category, Grant: true})
		case consent.Never:
			remembered = append(remembered, consent.Change{Category: p.Category})
		default:
			ask = append(ask, p)
		}
	}
	return remembered, ask, nil
}

// askConsent puts a prompt to the customer: a multi-select poll, and for clients that
// show no polls the same question as a numbered notice, with the service's own
// reactions on it as buttons. A prompt still open is replaced.
func (c *convo) askConsent(ctx context.Context, ask []consent.Purpose) error {
	b, t, conv := c.b, c.t, c.Conversation
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

// settleAnswer applies an answer to a prompt of the conversation.
func (c *convo) settleAnswer(ctx context.Context, prompt *database.ConsentPrompt, opts bot.PromptOptions, answer bot.Answer, method consent.Method) error {
	b, t, conv, s := c.b, c.t, c.Conversation, c.subject()
	var changes []consent.Change
	for _, category := range answer.Granted {
		changes = append(changes, consent.Change{Category: category, Grant: true})
	}
	for _, category := range answer.Refused {
		changes = append(changes, consent.Change{Category: category})
	}
	if len(changes) == 0 && answer.Remember {
		// "Remember" alone keeps what this prompt's categories are now.
		state, err := b.Consent.State(ctx, s, conv.ID)
		if err != nil {
			return err
		}
		for _, category := range opts.Categories() {
			if d, ok := state[category]; ok {
				changes = append(changes, consent.Change{Category: category, Grant: d == consent.Given})
			}
		}
	}
	records, err := b.Consent.Decide(ctx, s, conv.ID, method, t.purposeMap(), changes, answer.Remember)
	if err != nil {
		return err
	}
	if answer.Final {
		if _, err = c.endPrompt(ctx, prompt, string(method)); err != nil {
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
	return c.afterDecisions(ctx, records)
}

// endPrompt settles a prompt and closes its poll, saying what is shared. A prompt
// settled already (an earlier answer, the timeout) is left as it is: false.
func (c *convo) endPrompt(ctx context.Context, prompt *database.ConsentPrompt, by string) (bool, error) {
	b, t, conv := c.b, c.t, c.Conversation
	settled, err := b.DB.Prompts.Settle(ctx, prompt.ID, by, b.now())
	if err != nil || !settled {
		return false, err
	}
	state, err := b.Consent.State(ctx, c.subject(), conv.ID)
	if err != nil {
		return false, err
	}
	var shared []consent.Category
	for _, p := range t.Purposes() {
		if state[p.Category] == consent.Given {
			shared = append(shared, p.Category)
		}
	}
	return true, firstErr(b.DB.Outbox.EnqueueRelay(ctx, outboxKey(prompt.Origin, "end"), conv.RoomID, t.UserID, event.EventUnstablePollEnd,
		bot.PollEnd(id.EventID(prompt.Origin), shared), conv.RoomID, b.now()),
		c.markPromptAnswered(ctx, prompt, shared, by)) // promptedits.go
}

// afterDecisions tells everyone what changed: a receipt to the customer (readable,
// with the records in its content so the customer's homeserver keeps a copy), a note
// to the staff in the side room, and the context card.
func (c *convo) afterDecisions(ctx context.Context, records []consent.Record) error {
	b, t, conv := c.b, c.t, c.Conversation
	if len(records) == 0 {
		return nil
	}
	if err := c.logConsent(ctx, records); err != nil {
		return err
	}
	c.b.recordingDecided(ctx, c.Conversation, records)
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
		if err = c.sideNotice(ctx, "consent", "The customer "+strings.Join(staff, "; ")+"."); err != nil {
			return err
		}
	}
	if slices.ContainsFunc(records, func(r consent.Record) bool { return r.Category == consent.Identity && r.Decision != consent.Refused }) {
		if err = c.renameCustomer(ctx); err != nil {
			return err
		}
	}
	if withdrawn[consent.Location] {
		if err = c.takeBackLocations(ctx); err != nil {
			return err
		}
	}
	zerolog.Ctx(ctx).Info().Int64("conversation", conv.ID).Int("records", len(records)).Int("withdrawn", len(withdrawn)).Msg("Consent recorded")
	switch {
	case len(withdrawn) > 0:
		return c.writeCard(ctx, replaceCard)
	case cardChanges:
		return c.updateCard(ctx)
	}
	return c.writeCard(ctx, ensureCard)
}
