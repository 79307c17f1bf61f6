package bridge

import (
	"context"
	"encoding/json"
	"html"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/database"
)

// relay is one copy of an event to queue: into which room, as whom, what.
type relay struct {
	room    id.RoomID
	sender  id.UserID
	evtType event.Type
	content any
}

// queueRelays records the copies of an origin event of conversation conv in the
// outbox and the event map, inside the caller's transaction: one statement each,
// whatever the number of copies. The outbox key names origin and target, so a handler
// that runs again queues nothing twice.
func (b *Bridge) queueRelays(ctx context.Context, conv int64, origin *event.Event, author id.UserID, relays []relay) error {
	_, err := b.queueRelaysMarking(ctx, conv, origin, author, relays, nil)
	return err
}

// commitRelays commits an event whose handling writes nothing but its copies: they
// carry the inbox entry's mark (transport.Job.CommitMarking), one statement on
// PostgreSQL.
func (b *Bridge) commitRelays(ctx context.Context, j *job, conv int64, origin *event.Event, relays []relay) error {
	return j.CommitMarking(ctx, func(ctx context.Context, mark *database.InboxMark) (bool, error) {
		return b.queueRelaysMarking(ctx, conv, origin, origin.Sender, relays, mark)
	})
}

// queueRelaysMarking is queueRelays making an inbox entry's mark in the same write
// (transport.Job.CommitMarking); without a mark it needs the caller's transaction.
func (b *Bridge) queueRelaysMarking(ctx context.Context, conv int64, origin *event.Event, author id.UserID, relays []relay, mark *database.InboxMark) (bool, error) {
	if len(relays) == 0 && mark == nil {
		return true, nil
	}
	rows := make([]database.OutboxRow, len(relays))
	copies := make([]database.Copy, len(relays))
	for i, r := range relays {
		key := outboxKey("relay", r.room, origin.ID)
		rows[i] = database.OutboxRow{DedupeKey: key, RoomID: r.room, Sender: r.sender, EventType: r.evtType, Content: r.content, RefsFrom: origin.RoomID}
		copies[i] = database.Copy{Room: r.room, OutboxKey: key}
	}
	return b.DB.QueueCopiesMarking(ctx, database.RelayedEvent{Room: origin.RoomID, Event: origin.ID, Author: author, Conversation: conv},
		rows, copies, b.now(), mark)
}

// relayable tells whether an event type is relayed between customer and agents.
// Polls are the consent prompt's business, never relayed.
func relayable(t event.Type) bool {
	switch t {
	case event.EventMessage, event.EventSticker, event.EventReaction, event.EventRedaction:
		return true
	}
	return false
}

// fromCustomer builds the copies of a customer's event: into the desk room as the
// customer's ghost, and mirrored into the side room. The ghost's copy is filtered so
// that the customer's Matrix ID and homeserver never reach a staff room; media is
// copied to the business homeserver (the original's mxc URI names the customer's
// server, and may be encrypted).
func (c *convo) fromCustomer(ctx context.Context) ([]relay, mediaRefusal, error) {
	t, evt := c.t, c.evt()
	filter := newPrivacyFilter(c.Customer)
	name := c.customerName()
	switch evt.Type {
	case event.EventMessage, event.EventSticker:
		msg := cleanMessage(evt.Content.AsMessage())
		refusal, err := c.b.copyMedia(ctx, t, c.Ghost, msg)
		if err != nil {
			return nil, refusal, err
		}
		desk, err := filter.apply(msg)
		if err != nil {
			return nil, refusal, err
		}
		var deskMsg event.MessageEventContent
		if err = json.Unmarshal(desk, &deskMsg); err != nil {
			return nil, refusal, err
		}
		return []relay{
			{c.DeskRoom, c.Ghost, evt.Type, desk},
			{c.SideRoom, t.UserID, evt.Type, signed(&deskMsg, name)},
		}, refusal, nil
	case event.EventReaction, event.EventRedaction:
		content, err := filter.apply(refContent(evt))
		if err != nil {
			return nil, mediaCopied, err
		}
		return []relay{
			{c.DeskRoom, c.Ghost, evt.Type, content},
			{c.SideRoom, t.UserID, evt.Type, content},
		}, mediaCopied, nil
	}
	return nil, mediaCopied, nil
}

// fromAgent builds the copies of an agent's event in the desk room: to the customer
// as the business identity, and mirrored into the side room. With several agents in
// the conversation, the customer's copy carries the agent's name.
func (c *convo) fromAgent(agentName string, severalAgents bool) []relay {
	t, evt := c.t, c.evt()
	switch evt.Type {
	case event.EventMessage, event.EventSticker:
		msg := cleanMessage(evt.Content.AsMessage())
		toCustomer := msg
		if severalAgents {
			toCustomer = signed(msg, agentName)
			toCustomer.BeeperPerMessageProfile = &event.BeeperPerMessageProfile{ID: agentName, Displayname: agentName, HasFallback: true}
		}
		return []relay{
			{c.RoomID, t.UserID, evt.Type, toCustomer},
			{c.SideRoom, t.UserID, evt.Type, signed(msg, agentName)},
		}
	case event.EventReaction, event.EventRedaction:
		content := refContent(evt)
		return []relay{
			{c.RoomID, t.UserID, evt.Type, content},
			{c.SideRoom, t.UserID, evt.Type, content},
		}
	}
	return nil
}

// refContent is the relayable part of a reaction or redaction: its reference, which
// the outbox translates into the target room.
func refContent(evt *event.Event) map[string]any {
	if evt.Type == event.EventRedaction {
		redacts := evt.Redacts
		if r := evt.Content.AsRedaction(); r.Redacts != "" {
			redacts = r.Redacts
		}
		return map[string]any{"redacts": redacts}
	}
	rel := evt.Content.AsReaction().RelatesTo
	return map[string]any{"m.relates_to": map[string]any{"rel_type": rel.Type, "event_id": rel.EventID, "key": rel.Key}}
}

// cleanMessage copies a message without what must not cross rooms: reply fallbacks
// (they quote the other room's senders) and mentions (of users of the other room).
func cleanMessage(in *event.MessageEventContent) *event.MessageEventContent {
	msg := *in
	msg.Mentions = nil
	msg.BeeperPerMessageProfile = nil
	if msg.RelatesTo.GetReplyTo() != "" {
		msg.Body = event.TrimReplyFallbackText(msg.Body)
		msg.FormattedBody = event.TrimReplyFallbackHTML(msg.FormattedBody)
	}
	if msg.NewContent != nil {
		msg.NewContent = cleanMessage(msg.NewContent)
	}
	return &msg
}

// signed copies a message with who wrote it in front: "Carol: text", in the body and
// in the formatted body (marked as a per-message-profile fallback, MSC4144). Media
// keep their file name and get the name as caption.
func signed(in *event.MessageEventContent, who string) *event.MessageEventContent {
	msg := *in
	if msg.MsgType.IsMedia() && msg.FileName == "" {
		msg.FileName = msg.Body
	}
	formatted := msg.FormattedBody
	if msg.Format != event.FormatHTML {
		formatted = html.EscapeString(msg.Body)
	}
	msg.Body = who + ": " + msg.Body
	msg.Format = event.FormatHTML
	msg.FormattedBody = "<strong data-mx-profile-fallback>" + html.EscapeString(who) + ": </strong>" + formatted
	if msg.NewContent != nil {
		msg.NewContent = signed(msg.NewContent, who)
	}
	return &msg
}
