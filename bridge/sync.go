package bridge

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/database"
)

// syncFilter keeps /sync to what transactions do not bring: invites (some homeservers,
// Dendrite among them, do not push invites that arrive over federation), redactions
// (Dendrite 0.13.8 does not push those that arrive over federation either), to-device
// messages and device lists. The rest of the timelines comes through transactions.
var syncFilter = &mautrix.Filter{
	Presence:    &mautrix.FilterPart{NotTypes: []event.Type{{Type: "*"}}},
	AccountData: &mautrix.FilterPart{NotTypes: []event.Type{{Type: "*"}}},
	Room: &mautrix.RoomFilter{
		AccountData: &mautrix.FilterPart{NotTypes: []event.Type{{Type: "*"}}},
		Ephemeral:   &mautrix.FilterPart{NotTypes: []event.Type{{Type: "*"}}},
		State:       &mautrix.FilterPart{NotTypes: []event.Type{{Type: "*"}}, LazyLoadMembers: true},
		Timeline:    &mautrix.FilterPart{Types: []event.Type{event.EventRedaction}, Limit: 20},
	},
}

// startSync runs the business identity's /sync loop until stopSync.
func (t *Tenant) startSync(ctx context.Context) {
	syncer, ok := t.Client.Syncer.(*mautrix.DefaultSyncer)
	if !ok {
		syncer = mautrix.NewDefaultSyncer()
		t.Client.Syncer = syncer
	}
	if t.Client.Store == nil {
		// Appservice clients have no sync store; with encryption the crypto store is
		// one (and persists the position). In memory, a restart starts with an initial
		// sync, which lists pending invites again: the handler is idempotent.
		t.Client.Store = mautrix.NewMemorySyncStore()
	}
	syncer.FilterJSON = syncFilter
	syncer.ParseErrorHandler = func(evt *event.Event, err error) bool { return true }
	syncer.OnEventType(event.StateMember, t.onSyncMember)
	syncer.OnEventType(event.EventRedaction, t.onSyncRedaction)
	ctx, t.syncCancel = context.WithCancel(ctx)
	t.syncDone = make(chan struct{})
	log := zerolog.Ctx(ctx).With().Str("component", "sync").Str("tenant", t.ID).Logger()
	go func() {
		defer close(t.syncDone)
		for ctx.Err() == nil {
			err := t.Client.SyncWithContext(log.WithContext(ctx))
			if ctx.Err() != nil {
				return
			}
			log.Warn().Err(err).Msg("Sync loop stopped; restarting in 2 s")
			select {
			case <-ctx.Done():
			case <-time.After(2 * time.Second):
			}
		}
	}()
}

func (t *Tenant) stopSync() {
	if t.syncCancel != nil {
		t.syncCancel()
		t.Client.StopSync()
		<-t.syncDone
	}
}

// onSyncMember files invites to the business identity in the inbox, the one path by
// which every event reaches the handlers. Stripped invite state has no event ID, so the
// key is the room, the invitee and the sync position: a repeated sync response files
// nothing new, and the handler is idempotent for a second sighting anyway.
func (t *Tenant) onSyncMember(ctx context.Context, evt *event.Event) {
	if evt.Mautrix.EventSource&event.SourceInvite == 0 || evt.GetStateKey() != t.UserID.String() ||
		evt.Content.AsMember().Membership != event.MembershipInvite {
		return
	}
	since, _ := ctx.Value(mautrix.SyncTokenContextKey).(string)
	raw, err := json.Marshal(evt)
	if err != nil {
		return
	}
	key := evt.ID.String()
	if key == "" {
		key = fmt.Sprintf("sync-invite|%s|%s|%s", evt.RoomID, t.UserID, since)
	}
	t.b.fileSynced(ctx, key, evt.RoomID, raw, "Could not file an invite; the customer must invite again")
}

// onSyncRedaction files redactions in the inbox under their event ID, the same key a
// transaction uses, so one pushed both ways is handled once.
func (t *Tenant) onSyncRedaction(ctx context.Context, evt *event.Event) {
	if evt.Mautrix.EventSource&event.SourceTimeline == 0 || evt.ID == "" {
		return
	}
	raw, err := json.Marshal(evt)
	if err != nil {
		return
	}
	t.b.fileSynced(ctx, evt.ID.String(), evt.RoomID, raw, "Could not file a redaction")
}

// fileSynced files an event seen by a /sync loop in the inbox.
func (b *Bridge) fileSynced(ctx context.Context, key string, roomID id.RoomID, raw []byte, failure string) {
	if inserted, err := b.DB.Inbox.Insert(ctx, key, roomID, database.SourceSync, raw, b.now()); err != nil {
		zerolog.Ctx(ctx).Err(err).Stringer("room_id", roomID).Msg(failure)
	} else if inserted {
		b.inbox.Wake()
	}
}
