package bridge

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/consent"
	"github.com/contactcenter/contactcenter/contextmap"
)

// contextCategories are what the card shows, in order.
var contextCategories = []consent.Category{consent.Identity, consent.Account, consent.Location, consent.Browsing}

// Card events are named in the event map: a conversation's first card is
// cc:card:<conversation>, a fresh card after a withdrawal cc:card:<conversation>:<n>
// (n = 2, 3, …), an edit of a card <card>|edit|<time>.
const cardOriginPrefix = "cc:card:"

func cardBase(conversation int64) string { return fmt.Sprintf("%s%d", cardOriginPrefix, conversation) }

func cardOrigin(conversation int64, generation int) string {
	if generation <= 1 {
		return cardBase(conversation)
	}
	return fmt.Sprintf("%s:%d", cardBase(conversation), generation)
}

// cardHistory is what the side room holds of a conversation's card.
type cardHistory struct {
	// current names the card staff see ("" before the first); generation is its number.
	current    string
	generation int
	// shown is the current card and its edits: every version of it staff could read.
	shown []string
}

// cardHistoryOf sorts a conversation's card events out of names from the event map
// (other conversations' may be among them: cc:card:12 starts like cc:card:1).
func cardHistoryOf(conversation int64, names []string) cardHistory {
	base := cardBase(conversation)
	var h cardHistory
	cards := make([]string, len(names))
	for i, name := range names {
		card, _, _ := strings.Cut(name, "|")
		generation := 0
		if card == base {
			generation = 1
		} else if n, ok := strings.CutPrefix(card, base+":"); ok {
			generation, _ = strconv.Atoi(n)
		}
		if generation == 0 {
			continue
		}
		cards[i] = card
		if generation > h.generation {
			h.current, h.generation = card, generation
		}
	}
	for i, name := range names {
		if h.current != "" && cards[i] == h.current {
			h.shown = append(h.shown, name)
		}
	}
	return h
}

// How writeCard changes the card.
type cardChange int

const (
	// editCard posts the first card, or edits the current one in place.
	editCard cardChange = iota
	// ensureCard posts the first card and leaves one already there as it is.
	ensureCard
	// replaceCard posts a fresh card, pins it, and redacts the current one with all
	// its edits: an edit history keeps every version, so after a withdrawal no
	// earlier version may stay readable.
	replaceCard
)

// updateCard writes the conversation's context card into the side room (posted and
// pinned the first time, edited in place after) and its routing attributes. It reads
// the context through the gate, so both hold exactly what the customer granted, and
// the read is logged. Everything that changes a customer's context calls it.
func (c *convo) updateCard(ctx context.Context) error {
	return c.writeCard(ctx, editCard)
}

// writeCard is updateCard making the change asked for.
func (c *convo) writeCard(ctx context.Context, change cardChange) error {
	b, t, conv := c.b, c.t, c.Conversation
	names, err := b.DB.EventMap.Named(ctx, conv.SideRoom, cardBase(conv.ID))
	if err != nil {
		return err
	}
	history := cardHistoryOf(conv.ID, names)
	if change == ensureCard && history.current != "" {
		return nil
	}
	view, err := b.Consent.Read(ctx, consent.Access{Subject: c.subject(), Conversation: conv.ID, Reader: "card and routing"}, contextCategories...)
	if err != nil {
		return err
	}
	// Routing's attributes come from the same read: a withdrawn category leaves them
	// here and now.
	if err = c.storeTask(ctx, t.taskFromView(view)); err != nil {
		return err
	}
	card := bot.Notice(c.renderCard(view))
	now := b.now()
	if history.current != "" && change != replaceCard {
		edit := *card
		edit.Body, edit.FormattedBody = "* "+card.Body, "* "+card.FormattedBody
		edit.NewContent = card
		edit.RelatesTo = &event.RelatesTo{Type: event.RelReplace, EventID: id.EventID(history.current)}
		name := outboxKey(history.current, "edit", now.UnixNano())
		return firstErr(
			b.DB.Outbox.EnqueueRelay(ctx, name, conv.SideRoom, t.UserID, event.EventMessage, &edit, conv.SideRoom, now),
			b.DB.EventMap.AddOwn(ctx, conv.SideRoom, name, t.UserID, conv.ID),
		)
	}
	origin := cardOrigin(conv.ID, history.generation+1)
	pin := stateAction{Type: event.StatePinnedEvents.Type, Content: map[string]any{"pinned": []string{origin}}}
	err = firstErr(
		b.queueOwn(ctx, conv.SideRoom, t.UserID, origin, event.EventMessage, card),
		b.DB.Outbox.EnqueueRelay(ctx, outboxKey(origin, "pin"), conv.SideRoom, t.UserID, StateAction, pin, conv.SideRoom, now),
	)
	for _, old := range history.shown {
		err = firstErr(err, b.redactOwn(ctx, conv.SideRoom, t.UserID, old))
	}
	return err
}

// renderCard is the card's Markdown. Categories not granted say so; nothing of them
// is shown (the view does not even hold it). Identity and account, until granted,
// read the same whether the customer has an account or not (see hidesAccount).
func (c *convo) renderCard(view *consent.View) string {
	t, state := c.t, view.Decisions
	var b strings.Builder
	name := c.customerName()
	if view.Identity != nil && view.Identity.Name != "" {
		name = fmt.Sprintf("%s (account %s)", view.Identity.Name, view.Identity.AccountID)
	}
	fmt.Fprintf(&b, "**Context card** · conversation %d\n\n- **Customer:** %s\n", c.ID, name)
	notShared := func(category consent.Category) string {
		if state[category] == "" {
			return "asked, no answer yet"
		}
		return "not shared"
	}
	if a := view.Account; a != nil {
		manager := a.AccountManager
		if staff := t.staffEntry(id.UserID(manager)); staff != nil {
			manager = staff.Name
		}
		fmt.Fprintf(&b, "- **Account:** tier %s · products %s · account manager %s\n", orDash(a.Tier), orDash(strings.Join(a.Products, ", ")), orDash(manager))
	} else {
		fmt.Fprintf(&b, "- **Account:** not shared\n")
	}
	if l := view.Location; l != nil {
		where := fmt.Sprintf("%.3f, %.3f", l.Lat, l.Lon)
		if r, ok := contextmap.RegionOf(t.Regions, contextmap.Point{Lat: l.Lat, Lon: l.Lon}); ok {
			if local, err := contextmap.LocalTime(*r, l.At); err == nil {
				where = fmt.Sprintf("%s · local time %s (%s)", r.Name, local.Format("15:04"), r.TimeZone)
			}
			if r.Language != "" {
				where += " · language " + r.Language
			}
		}
		fmt.Fprintf(&b, "- **Location:** %s\n", where)
	} else {
		fmt.Fprintf(&b, "- **Location:** %s\n", notShared(consent.Location))
	}
	if view.Granted[consent.Browsing] {
		urls := make([]string, len(view.Pages))
		for i, p := range view.Pages {
			urls[i] = p.URL
		}
		topics := contextmap.Topics(t.Topics, urls)
		fmt.Fprintf(&b, "- **Recent topics:** %s (%d pages)\n", orDash(strings.Join(topics, ", ")), len(view.Pages))
	} else {
		fmt.Fprintf(&b, "- **Recent topics:** %s\n", notShared(consent.Browsing))
	}
	var consents []string
	for _, p := range t.Purposes() {
		d := string(state[p.Category])
		switch {
		case hidesAccount(p.Category) && state[p.Category] != consent.Given:
			d = "not shared"
		case d == "":
			d = "not asked"
		}
		consents = append(consents, fmt.Sprintf("%s %s", p.Category, d))
	}
	fmt.Fprintf(&b, "- **Consent:** %s\n", strings.Join(consents, " · "))
	return b.String()
}

// hidesAccount tells whether a category is only asked of customers linked to an
// account (identity, account): staff must not learn from how it stands (asked,
// refused, not asked) that a customer who shares nothing has an account, so until it
// is granted the card says "not shared" for everyone, and a refusal of it changes
// nothing staff see.
func hidesAccount(c consent.Category) bool {
	return c == consent.Identity || c == consent.Account
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// nameOriginPrefix starts the event-map names of the desk-room state events that
// carry a customer's own name: cc:name:<conversation>:<time>|member and |room;
// unnameOriginPrefix those of the first pseudonym events after a withdrawal.
const (
	nameOriginPrefix   = "cc:name:"
	unnameOriginPrefix = "cc:unname:"
)

// renameCustomer shows the customer under their own name in the desk room once they
// shared their identity, and under their pseudonym again when they withdraw it. The
// name is the ghost's in that room only (its member event), never its global profile,
// so other conversations keep what their consent allows. Back to the pseudonym, the
// events that carried the name are redacted: the room's history would keep it.
func (c *convo) renameCustomer(ctx context.Context) error {
	b, conv := c.b, c.Conversation
	view, err := b.Consent.Read(ctx, consent.Access{Subject: c.subject(), Conversation: conv.ID, Reader: "desk-name"}, consent.Identity)
	if err != nil {
		return err
	}
	now := b.now()
	rename := func(name string) (member, roomName stateAction) {
		return stateAction{Type: event.StateMember.Type, StateKey: conv.Ghost.String(), Content: map[string]any{"membership": "join", "displayname": name}},
			stateAction{Type: event.StateRoomName.Type, Content: map[string]any{"name": name}}
	}
	if view.Identity != nil && view.Identity.Name != "" {
		member, roomName := rename(view.Identity.Name)
		stem := fmt.Sprintf("%s%d:%d", nameOriginPrefix, conv.ID, now.UnixNano())
		return firstErr(
			b.queueOwn(ctx, conv.DeskRoom, conv.Ghost, stem+"|member", StateAction, member),
			b.queueOwn(ctx, conv.DeskRoom, conv.Ghost, stem+"|room", StateAction, roomName),
		)
	}
	// Back to the pseudonym, then the events that carried the name are redacted. A
	// homeserver may have copied the name into the pseudonym events' unsigned
	// prev_content when they replaced it (Dendrite does, and keeps it after the
	// redaction), so those are redacted too and the pseudonym set once more: what
	// it replaces then names nobody.
	named, err := b.DB.EventMap.Named(ctx, conv.DeskRoom, fmt.Sprintf("%s%d:", nameOriginPrefix, conv.ID))
	if err != nil {
		return err
	}
	member, roomName := rename(c.customerName())
	if len(named) > 0 {
		stem := fmt.Sprintf("%s%d:%d", unnameOriginPrefix, conv.ID, now.UnixNano())
		err = firstErr(
			b.queueOwn(ctx, conv.DeskRoom, conv.Ghost, stem+"|member", StateAction, member),
			b.queueOwn(ctx, conv.DeskRoom, conv.Ghost, stem+"|room", StateAction, roomName),
		)
		for _, name := range append(named, stem+"|member", stem+"|room") {
			err = firstErr(err, b.redactOwn(ctx, conv.DeskRoom, conv.Ghost, name))
		}
	}
	return firstErr(err,
		b.DB.Outbox.Enqueue(ctx, outboxKey("rename", conv.ID, "member", now.UnixNano()), conv.DeskRoom, conv.Ghost, StateAction, member, now),
		b.DB.Outbox.Enqueue(ctx, outboxKey("rename", conv.ID, "room", now.UnixNano()), conv.DeskRoom, conv.Ghost, StateAction, roomName, now),
	)
}
