package bridge

import (
	"context"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"
)

// convLink is what the relay needs of an open conversation: which rooms face each
// other and who speaks in them for the service.
type convLink struct {
	tenant       *Tenant
	id           int64
	customerRoom id.RoomID
	customer     id.UserID
	deskRoom     id.RoomID
	ghost        id.UserID
	// assigned: an agent took the conversation, so someone may type in its desk room.
	assigned bool
}

// convIndex maps the customer and desk rooms of open conversations to their link,
// so that an ephemeral event costs no database read to place. Side rooms are not in
// it: nothing is relayed from or into them.
type convIndex struct {
	rooms map[id.RoomID]*convLink
	convs []*convLink
}

// link is the open conversation a room belongs to, or nil.
func (idx *convIndex) link(room id.RoomID) *convLink {
	if idx == nil {
		return nil
	}
	return idx.rooms[room]
}

// refreshIndex reads the open conversations of every tenant and replaces the index;
// on a failed read the old index stays.
func (r *nativeRelay) refreshIndex(ctx context.Context) *convIndex {
	idx := &convIndex{rooms: map[id.RoomID]*convLink{}}
	for _, t := range r.b.tenants {
		convs, err := r.b.DB.Conversation.OpenOfTenant(ctx, t.ID)
		if err != nil {
			zerolog.Ctx(ctx).Debug().Err(err).Msg("Could not list open conversations; typing and receipts wait for the next round")
			return r.index.Load()
		}
		for _, conv := range convs {
			if conv.DeskRoom == "" || conv.RoomID == "" {
				continue
			}
			l := &convLink{tenant: t, id: conv.ID, customerRoom: conv.RoomID, customer: conv.Customer,
				deskRoom: conv.DeskRoom, ghost: conv.Ghost, assigned: conv.Agent != ""}
			idx.rooms[l.customerRoom], idx.rooms[l.deskRoom] = l, l
			idx.convs = append(idx.convs, l)
		}
	}
	r.index.Store(idx)
	r.sweep(idx)
	return idx
}

// sweep forgets what the relay kept of rooms no longer in an open conversation.
func (r *nativeRelay) sweep(idx *convIndex) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for key := range r.typing {
		if idx.link(key.room) == nil {
			delete(r.typing, key)
		}
	}
	for room := range r.receipts {
		if idx.link(room) == nil {
			delete(r.receipts, room)
		}
	}
	for room := range r.since {
		if l := idx.link(room); l == nil || !l.assigned {
			delete(r.since, room)
		}
	}
}
