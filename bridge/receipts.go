package bridge

import (
	"context"
	"net/http"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// Read receipts, both ways, through the event map: the customer reading an agent's
// message (the business identity's copy) marks the agent's original read by the
// ghost in the desk room; an agent reading the customer's message (the ghost's copy)
// marks the customer's original read by the business identity in the customer room.
// Only public receipts (m.read) cross; private ones (m.read.private) never do, nor do
// receipts on events that are no relayed copy (one's own messages, bot notices) or on
// threads.

// readMark is the latest event a room's reader marked read.
type readMark struct {
	event id.EventID
	ts    int64
}

// relayReceipts relays the newest public receipt of the room's reader (the customer,
// or any agent) to the room facing it.
func (r *nativeRelay) relayReceipts(ctx context.Context, evt *event.Event) {
	l := r.index.Load().link(evt.RoomID)
	content := evt.Content.AsReceipt()
	if l == nil || content == nil {
		return
	}
	fromCustomer := evt.RoomID == l.customerRoom
	reader := func(user id.UserID) bool {
		if fromCustomer {
			return user == l.customer
		}
		return !r.b.isOurs(user)
	}
	var newest readMark
	for eventID, receipts := range *content {
		for user, receipt := range receipts[event.ReceiptTypeRead] {
			if !reader(user) || (receipt.ThreadID != "" && receipt.ThreadID != event.ReadReceiptThreadMain) {
				continue
			}
			if ts := receipt.Timestamp.UnixMilli(); newest.event == "" || ts > newest.ts {
				newest = readMark{eventID, ts}
			}
		}
	}
	if newest.event == "" {
		return
	}
	target, as := l.deskRoom, l.ghost
	if !fromCustomer {
		target, as = l.customerRoom, l.tenant.UserID
	}
	r.relayReceipt(ctx, evt.RoomID, newest.event, target, as)
}

// relayReceipt marks read, as `as`, the event of target that read stands for, if read
// is a relayed copy (its author is the other side).
func (r *nativeRelay) relayReceipt(ctx context.Context, from id.RoomID, read id.EventID, target id.RoomID, as id.UserID) {
	log := zerolog.Ctx(ctx).With().Stringer("room_id", from).Logger()
	author, err := r.b.DB.EventMap.AuthorOf(ctx, from, read)
	if err != nil || author == "" {
		if err != nil {
			log.Debug().Err(err).Msg("Could not look a receipt's event up")
		}
		return
	}
	mapped, err := r.b.translate(ctx, from, read, target)
	if err != nil || mapped == "" {
		return
	}
	r.mu.Lock()
	repeated := r.receipts[target] == mapped
	r.receipts[target] = mapped
	r.mu.Unlock()
	if repeated {
		return
	}
	r.stats.Receipts.Add(1)
	path := mautrix.ClientURLPath{"v3", "rooms", target, "receipt", event.ReceiptTypeRead, mapped}
	if err = r.request(ctx, as, http.MethodPost, path, nil, struct{}{}, nil); err != nil {
		log.Debug().Err(err).Msg("Could not relay a read receipt")
	}
}
