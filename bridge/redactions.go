package bridge

import (
	"context"
	"encoding/json"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// Dendrite 0.13.8 pushes no redaction to appservices, local or federated (measured on
// the test bed). Customer and side rooms are covered by the business identity's own
// /sync; a desk room's only service member is the customer's ghost (the business
// identity stays out so that the room keeps two members for calls), so while a
// conversation is open its ghost runs a /sync of its own, filtered to the desk room's
// redactions. Homeservers that push redactions (Synapse) turn this off with
// homeserver.sync_redactions: false; left on, it only costs a long poll per open
// conversation, since the inbox files each event once.

// redactionWatchInterval is how often the set of watched desk rooms is brought up to
// date with the open conversations.
const redactionWatchInterval = 2 * time.Second

// watchDeskRedactions keeps one redaction /sync per open conversation's desk room.
func (b *Bridge) watchDeskRedactions(ctx context.Context) {
	watchers := map[id.RoomID]context.CancelFunc{}
	defer func() {
		for _, cancel := range watchers {
			cancel()
		}
	}()
	ticker := time.NewTicker(redactionWatchInterval)
	defer ticker.Stop()
	for {
		open := map[id.RoomID]id.UserID{}
		for _, t := range b.tenants {
			convs, err := b.DB.Conversation.OpenOfTenant(ctx, t.ID)
			if err != nil {
				open = nil
				break
			}
			for _, conv := range convs {
				if conv.DeskRoom != "" {
					open[conv.DeskRoom] = conv.Ghost
				}
			}
		}
		if open != nil {
			for room, cancel := range watchers {
				if _, ok := open[room]; !ok {
					cancel()
					delete(watchers, room)
				}
			}
			for room, ghost := range open {
				if watchers[room] == nil {
					watchCtx, cancel := context.WithCancel(ctx)
					watchers[room] = cancel
					go b.syncRedactions(watchCtx, ghost, room)
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// syncRedactions files a desk room's redactions in the inbox until ctx ends.
func (b *Bridge) syncRedactions(ctx context.Context, ghost id.UserID, room id.RoomID) {
	log := zerolog.Ctx(ctx).With().Str("component", "redaction_sync").Stringer("room_id", room).Logger()
	cli := b.newClient(ghost)
	cli.AccessToken = b.Config.Appservice.ASToken
	cli.SetAppServiceUserID = true
	cli.Store = mautrix.NewMemorySyncStore()
	syncer := mautrix.NewDefaultSyncer()
	none := &mautrix.FilterPart{NotTypes: []event.Type{{Type: "*"}}}
	syncer.FilterJSON = &mautrix.Filter{
		Presence: none, AccountData: none,
		Room: &mautrix.RoomFilter{
			Rooms:       []id.RoomID{room},
			AccountData: none, Ephemeral: none, State: none,
			Timeline: &mautrix.FilterPart{Types: []event.Type{event.EventRedaction}, Limit: 20},
		},
	}
	syncer.ParseErrorHandler = func(*event.Event, error) bool { return true }
	syncer.OnEventType(event.EventRedaction, func(ctx context.Context, evt *event.Event) {
		if evt.RoomID != room || evt.ID == "" {
			return
		}
		raw, err := json.Marshal(evt)
		if err == nil {
			b.fileSynced(ctx, evt.ID.String(), room, raw, "Could not file a redaction")
		}
	})
	cli.Syncer = syncer
	for ctx.Err() == nil {
		if err := cli.SyncWithContext(log.WithContext(ctx)); err != nil && ctx.Err() == nil {
			log.Debug().Err(err).Msg("Redaction sync stopped; restarting in 2 s")
			select {
			case <-ctx.Done():
			case <-time.After(2 * time.Second):
			}
		}
	}
}
