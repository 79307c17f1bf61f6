package bridge

import (
	"context"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/database"
)

// What a withdrawal takes back from the staff rooms: a withdrawal stops every new
// use at once (the gate), and these redactions make what already showed the category
// unreadable from then on. Each goes through the outbox like anything the service
// sends, named by its target so that a handler running again redacts nothing twice.

// withdrawalReason is the reason staff see on what was redacted.
const withdrawalReason = "The customer withdrew their consent"

// redactOwn redacts one of the service's own events in a room, by its event-map name.
func (b *Bridge) redactOwn(ctx context.Context, room id.RoomID, sender id.UserID, name string) error {
	return b.queueRedaction(ctx, room, sender, id.EventID(name), room)
}

// queueRedaction redacts the event of room that stands for target of room refsFrom
// (its copy, or the event itself when refsFrom is room), once it has been sent.
func (b *Bridge) queueRedaction(ctx context.Context, room id.RoomID, sender id.UserID, target id.EventID, refsFrom id.RoomID) error {
	content := map[string]any{"redacts": target, "reason": withdrawalReason}
	return b.DB.Outbox.EnqueueRelay(ctx, outboxKey("withdraw", room, target), room, sender, event.EventRedaction, content, refsFrom, b.now())
}

// rememberSharedLocation records that a customer's event shared their location, so
// that its copies can be taken back if they withdraw location.
func (c *convo) rememberSharedLocation(ctx context.Context) error {
	return c.b.DB.SharedLocations.Add(ctx, &database.SharedLocation{RoomID: c.evt().RoomID, EventID: c.evt().ID, Conversation: c.ID})
}

// takeBackLocations redacts the copies of every location the customer shared in the
// conversation: the ghost's in the desk room and the mirror in the side room. The
// event map finds them; a copy never sent is skipped when the redaction's turn comes.
func (c *convo) takeBackLocations(ctx context.Context) error {
	b := c.b
	shared, err := b.DB.SharedLocations.Of(ctx, c.ID, c.RoomID)
	if err != nil {
		return err
	}
	for _, loc := range shared {
		err = firstErr(err,
			b.queueRedaction(ctx, c.DeskRoom, c.Ghost, loc.EventID, c.RoomID),
			b.queueRedaction(ctx, c.SideRoom, c.t.UserID, loc.EventID, c.RoomID))
	}
	if err != nil {
		return err
	}
	return b.DB.SharedLocations.Forget(ctx, c.ID)
}
