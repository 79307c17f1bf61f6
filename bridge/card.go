package bridge

import (
	"context"
	"fmt"
	"strings"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/consent"
	"github.com/contactcenter/contactcenter/contextmap"
	"github.com/contactcenter/contactcenter/database"
)

// contextCategories are what the card shows, in order.
var contextCategories = []consent.Category{consent.Identity, consent.Account, consent.Location, consent.Browsing}

// updateCard writes the conversation's context card into the side room (posted and
// pinned the first time, edited in place after) and its routing attributes. It reads
// the context through the gate, so both hold exactly what the customer granted, and
// the read is logged. Everything that changes a customer's context calls it.
func (b *Bridge) updateCard(ctx context.Context, t *Tenant, conv *database.Conversation, customer id.UserID) error {
	s := subjectOf(t, customer)
	view, err := b.Consent.Read(ctx, consent.Access{Subject: s, Conversation: conv.ID, Reader: "card and routing"}, contextCategories...)
	if err != nil {
		return err
	}
	// Routing's attributes come from the same read: a withdrawn category leaves them
	// here and now.
	if err = b.storeTask(ctx, t, conv, t.taskFromView(view)); err != nil {
		return err
	}
	card := bot.Notice(t.renderCard(conv, customer, view))
	origin := fmt.Sprintf("cc:card:%d", conv.ID)
	exists, err := b.DB.EventMap.Has(ctx, conv.SideRoom, id.EventID(origin))
	if err != nil {
		return err
	}
	now := b.now()
	if !exists {
		pin := stateAction{Type: event.StatePinnedEvents.Type, Content: map[string]any{"pinned": []string{origin}}}
		return firstErr(
			b.queueOwn(ctx, conv.SideRoom, t.UserID, origin, event.EventMessage, card),
			b.DB.Outbox.EnqueueRelay(ctx, origin+"|pin", conv.SideRoom, t.UserID, StateAction, pin, conv.SideRoom, now),
		)
	}
	edit := *card
	edit.Body, edit.FormattedBody = "* "+card.Body, "* "+card.FormattedBody
	edit.NewContent = card
	edit.RelatesTo = &event.RelatesTo{Type: event.RelReplace, EventID: id.EventID(origin)}
	return b.DB.Outbox.EnqueueRelay(ctx, fmt.Sprintf("%s|edit|%d", origin, now.UnixNano()), conv.SideRoom, t.UserID, event.EventMessage, &edit, conv.SideRoom, now)
}

// renderCard is the card's Markdown. Categories not granted say so; nothing of them
// is shown (the view does not even hold it).
func (t *Tenant) renderCard(conv *database.Conversation, customer id.UserID, view *consent.View) string {
	state := view.Decisions
	var b strings.Builder
	name := t.customerName(customer)
	if view.Identity != nil && view.Identity.Name != "" {
		name = fmt.Sprintf("%s (account %s)", view.Identity.Name, view.Identity.AccountID)
	}
	fmt.Fprintf(&b, "**Context card** · conversation %d\n\n- **Customer:** %s\n", conv.ID, name)
	notShared := func(c consent.Category) string {
		if state[c] == "" {
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
		fmt.Fprintf(&b, "- **Account:** %s\n", notShared(consent.Account))
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
		if d == "" {
			d = "not asked"
		}
		consents = append(consents, fmt.Sprintf("%s %s", p.Category, d))
	}
	fmt.Fprintf(&b, "- **Consent:** %s\n", strings.Join(consents, " · "))
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// renameCustomer shows the customer under their own name in the desk room once they
// shared their identity, and under their pseudonym again when they withdraw it. The
// name is the ghost's in that room only (its member event), never its global profile,
// so other conversations keep what their consent allows.
func (b *Bridge) renameCustomer(ctx context.Context, t *Tenant, conv *database.Conversation, customer id.UserID) error {
	view, err := b.Consent.Read(ctx, consent.Access{Subject: subjectOf(t, customer), Conversation: conv.ID, Reader: "desk-name"}, consent.Identity)
	if err != nil {
		return err
	}
	name := t.customerName(customer)
	if view.Identity != nil && view.Identity.Name != "" {
		name = view.Identity.Name
	}
	now := b.now()
	member := stateAction{Type: event.StateMember.Type, StateKey: conv.Ghost.String(),
		Content: map[string]any{"membership": "join", "displayname": name}}
	roomName := stateAction{Type: event.StateRoomName.Type, Content: map[string]any{"name": name}}
	return firstErr(
		b.DB.Outbox.Enqueue(ctx, fmt.Sprintf("rename|%d|member|%d", conv.ID, now.UnixNano()), conv.DeskRoom, conv.Ghost, StateAction, member, now),
		b.DB.Outbox.Enqueue(ctx, fmt.Sprintf("rename|%d|room|%d", conv.ID, now.UnixNano()), conv.DeskRoom, conv.Ghost, StateAction, roomName, now),
	)
}
