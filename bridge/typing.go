package bridge

import (
	"context"
	"net/http"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/database"
)

// Typing, both ways: the customer typing in the customer room shows their ghost typing
// in the desk room; any agent typing in the desk room shows the business identity
// typing in the customer room. A relayed notice lasts typingTimeout (what Element asks
// for), is renewed while the source keeps typing, and ends when the source stops or
// when the service sends the message it was typing.

const (
	// typingTimeout is how long a relayed notification lasts unless renewed or ended.
	typingTimeout = 30 * time.Second
	// typingRenewal is how old a relayed notification may get before a notification
	// that the source still types renews it.
	typingRenewal = 20 * time.Second
	// typingQuietAfterSend: once a message ended a notification, a "still typing" read
	// before the message left (the desk room is read every second) does not start it
	// again for this long.
	typingQuietAfterSend = 3 * time.Second
)

// typingKey is one of the service's users in one room.
type typingKey struct {
	room id.RoomID
	user id.UserID
}

// typingOut is a notification the service shows: since when, or when a sent message
// ended it.
type typingOut struct {
	on      bool
	at      time.Time
	endedAt time.Time
}

// relayTyping relays a room's typing notification to the room facing it.
func (r *nativeRelay) relayTyping(ctx context.Context, evt *event.Event) {
	l := r.index.Load().link(evt.RoomID)
	content := evt.Content.AsTyping()
	if l == nil || content == nil {
		return
	}
	typing := false
	switch evt.RoomID {
	case l.customerRoom:
		for _, user := range content.UserIDs {
			typing = typing || user == l.customer
		}
		r.setTyping(ctx, typingKey{l.deskRoom, l.ghost}, typing)
	case l.deskRoom:
		// Only staff share the desk room with the ghost.
		for _, user := range content.UserIDs {
			typing = typing || !r.b.isOurs(user)
		}
		r.setTyping(ctx, typingKey{l.customerRoom, l.tenant.UserID}, typing)
	}
}

// setTyping shows or ends a notification when that changes what is shown (or renews
// one about to lapse).
func (r *nativeRelay) setTyping(ctx context.Context, key typingKey, typing bool) {
	now := r.b.now()
	r.mu.Lock()
	cur := r.typing[key]
	send := false
	switch {
	case typing && cur != nil && !cur.endedAt.IsZero() && now.Sub(cur.endedAt) < typingQuietAfterSend:
	case typing && (cur == nil || !cur.on || now.Sub(cur.at) >= typingRenewal):
		r.typing[key] = &typingOut{on: true, at: now}
		send = true
	case !typing && cur != nil:
		delete(r.typing, key)
		send = cur.on
	}
	r.mu.Unlock()
	if send {
		r.sendTyping(ctx, key, typing)
	}
}

// sendTyping asks the homeserver to show (or end) a user's typing in a room.
func (r *nativeRelay) sendTyping(ctx context.Context, key typingKey, typing bool) {
	r.stats.Typing.Add(1)
	body := mautrix.ReqTyping{Typing: typing}
	if typing {
		body.Timeout = typingTimeout.Milliseconds()
	}
	err := r.request(ctx, key.user, http.MethodPut, mautrix.ClientURLPath{"v3", "rooms", key.room, "typing", key.user}, nil, body, nil)
	if err != nil {
		zerolog.Ctx(ctx).Debug().Err(err).Stringer("room_id", key.room).Bool("typing", typing).Msg("Could not relay a typing notification")
	}
}

// endTypingOnSend ends the notification of the sender of a message about to be sent:
// the message is what they were typing.
func (r *nativeRelay) endTypingOnSend(ctx context.Context, entry *database.OutboxEntry) {
	switch entry.EventType {
	case event.EventMessage, event.EventSticker, event.EventEncrypted:
	default:
		return
	}
	key := typingKey{entry.RoomID, entry.Sender}
	r.mu.Lock()
	cur := r.typing[key]
	on := cur != nil && cur.on
	if on {
		r.typing[key] = &typingOut{endedAt: r.b.now()}
	}
	r.mu.Unlock()
	if on {
		r.sendTyping(ctx, key, false)
	}
}

// sendEndingTyping is the outbox's sender: a message ends its sender's relayed typing
// notification before it goes out.
func (b *Bridge) sendEndingTyping(ctx context.Context, entry *database.OutboxEntry) (id.EventID, error) {
	if r := b.native.Load(); r != nil {
		r.endTypingOnSend(ctx, entry)
	}
	return b.sendOutbox(ctx, entry)
}
