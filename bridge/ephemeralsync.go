package bridge

import (
	"context"
	"slices"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/config"
)

// The business identity's own /sync, which already runs for invites, redactions and
// keys, brings the ephemeral events of its rooms: typing and receipts of customer
// rooms (it is their only other member) and the presence of its tenant's staff (it
// shares their control rooms). It costs no request of its own: the same long poll
// wakes for them. Dendrite 0.13.8 applies no filter to typing, receipts or presence
// (every joined room's, every room-sharing user's); the service drops what is not a
// customer room's or its staff's at once, from the index in memory. Homeservers that
// do filter (Synapse) send only what the filter below asks for.

// ephemeralFilter is the tenant's sync filter: base, plus typing and receipts of its
// rooms and its staff's presence, as far as they are relayed.
func (t *Tenant) ephemeralFilter(base *mautrix.Filter) *mautrix.Filter {
	cfg := t.b.Config.Native
	f := *base
	room := *base.Room
	f.Room = &room
	var types []event.Type
	if cfg.Typing {
		types = append(types, event.EphemeralEventTyping)
	}
	if cfg.Receipts {
		types = append(types, event.EphemeralEventReceipt)
	}
	if cfg.Source() == config.EphemeralPush {
		return &f
	}
	if len(types) > 0 {
		room.Ephemeral = &mautrix.FilterPart{Types: types}
	}
	if t.PresenceAvailability {
		staff := t.staff()
		senders := make([]id.UserID, 0, len(staff))
		for _, s := range staff {
			senders = append(senders, id.UserID(s.UserID))
		}
		slices.Sort(senders)
		f.Presence = &mautrix.FilterPart{Types: []event.Type{event.EphemeralEventPresence}, Senders: senders}
	}
	return &f
}

// watchEphemeral has the tenant's /sync hand its ephemeral events to the relay, and
// makes the loop upload its filter again (a stored filter ID would keep the filter
// of the service's last start).
func (t *Tenant) watchEphemeral(ctx context.Context, syncer *mautrix.DefaultSyncer) {
	t.b.prepareNative()
	for _, evtType := range []event.Type{event.EphemeralEventTyping, event.EphemeralEventReceipt, event.EphemeralEventPresence} {
		syncer.OnEventType(evtType, func(_ context.Context, evt *event.Event) {
			t.b.handleEphemeral(t, false, evt)
		})
	}
	if t.Client.Store != nil {
		if err := t.Client.Store.SaveFilterID(ctx, t.Client.UserID, ""); err != nil {
			zerolog.Ctx(ctx).Debug().Err(err).Msg("Could not reset the stored sync filter")
		}
	}
}
