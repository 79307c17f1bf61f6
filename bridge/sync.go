package bridge

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bridge/transport"
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
	var syncer *mautrix.DefaultSyncer
	switch s := t.Client.Syncer.(type) {
	case *mautrix.DefaultSyncer:
		syncer = s
	case *guardedSyncer:
		syncer = s.DefaultSyncer
	default:
		syncer = mautrix.NewDefaultSyncer()
	}
	if t.Client.Store == nil {
		// Appservice clients have no sync store; with encryption the crypto store is
		// one (and persists the position). In memory, a restart starts with an initial
		// sync, which lists pending invites again: the handler is idempotent.
		t.Client.Store = mautrix.NewMemorySyncStore()
	}
	guard := newBatchGuard(t.Client.Store)
	t.Client.Store = guard
	t.Client.Syncer = &guardedSyncer{DefaultSyncer: syncer, guard: guard}
	syncer.FilterJSON = t.ephemeralFilter(syncFilter)
	t.watchEphemeral(ctx, syncer)
	syncer.ParseErrorHandler = func(evt *event.Event, err error) bool { return true }
	syncer.OnEventType(event.StateMember, func(ctx context.Context, evt *event.Event) {
		guard.fail(t.onSyncMember(ctx, evt))
	})
	syncer.OnEventType(event.EventRedaction, func(ctx context.Context, evt *event.Event) {
		guard.fail(t.onSyncRedaction(ctx, evt))
	})
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
func (t *Tenant) onSyncMember(ctx context.Context, evt *event.Event) error {
	if evt.Mautrix.EventSource&event.SourceInvite == 0 || evt.GetStateKey() != t.UserID.String() ||
		evt.Content.AsMember().Membership != event.MembershipInvite {
		return nil
	}
	since, _ := ctx.Value(mautrix.SyncTokenContextKey).(string)
	raw, err := json.Marshal(evt)
	if err != nil {
		return nil
	}
	key := evt.ID.String()
	if key == "" {
		key = transport.Key("sync-invite", evt.RoomID, t.UserID, since)
	}
	return t.b.fileSynced(ctx, key, evt.RoomID, raw, "Could not file an invite; the batch is fetched again")
}

// onSyncRedaction files redactions in the inbox under their event ID, the same key a
// transaction uses, so one pushed both ways is handled once.
func (t *Tenant) onSyncRedaction(ctx context.Context, evt *event.Event) error {
	if evt.Mautrix.EventSource&event.SourceTimeline == 0 || evt.ID == "" {
		return nil
	}
	raw, err := json.Marshal(evt)
	if err != nil {
		return nil
	}
	return t.b.fileSynced(ctx, evt.ID.String(), evt.RoomID, raw, "Could not file a redaction; the batch is fetched again")
}

// fileSynced files an event seen by a /sync loop in the inbox. Its error must fail the
// sync batch (batchGuard), so that the position does not move past the event.
func (b *Bridge) fileSynced(ctx context.Context, key string, roomID id.RoomID, raw []byte, failure string) error {
	inserted, err := b.DB.Inbox.Insert(ctx, key, roomID, database.SourceSync, raw, b.now())
	if err != nil {
		zerolog.Ctx(ctx).Err(err).Stringer("room_id", roomID).Msg(failure)
		return err
	}
	if inserted {
		b.handInbox(roomID)
	}
	return nil
}

// batchGuard keeps a /sync position from moving past a batch whose events could not
// all be filed. mautrix saves the next position before it processes a batch; the guard
// holds that position back until the batch has been processed without failure, and a
// failed batch ends the sync call, so the restarted loop fetches the same batch again.
type batchGuard struct {
	mautrix.SyncStore
	mu      sync.Mutex
	userID  id.UserID
	pending string
	saved   bool
	failure error
}

func newBatchGuard(store mautrix.SyncStore) *batchGuard {
	if g, ok := store.(*batchGuard); ok {
		return g
	}
	return &batchGuard{SyncStore: store}
}

// SaveNextBatch keeps the position until the batch it follows is processed.
func (g *batchGuard) SaveNextBatch(_ context.Context, userID id.UserID, nextBatch string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.userID, g.pending, g.saved, g.failure = userID, nextBatch, true, nil
	return nil
}

// fail records that an event of the batch being processed could not be filed.
func (g *batchGuard) fail(err error) {
	if err == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.failure == nil {
		g.failure = err
	}
}

// settle saves the held-back position if the batch was processed without failure, and
// otherwise drops it and returns the failure.
func (g *batchGuard) settle(ctx context.Context, processErr error) error {
	g.mu.Lock()
	userID, pending, saved, failure := g.userID, g.pending, g.saved, g.failure
	g.saved, g.failure = false, nil
	g.mu.Unlock()
	if processErr != nil {
		return processErr
	} else if failure != nil {
		return fmt.Errorf("an event of the sync batch could not be filed; fetching it again: %w", failure)
	} else if !saved {
		return nil
	}
	return g.SyncStore.SaveNextBatch(ctx, userID, pending)
}

// guardedSyncer is a DefaultSyncer whose batches commit their position through a
// batchGuard.
type guardedSyncer struct {
	*mautrix.DefaultSyncer
	guard *batchGuard
}

func (s *guardedSyncer) ProcessResponse(ctx context.Context, res *mautrix.RespSync, since string) error {
	return s.guard.settle(ctx, s.DefaultSyncer.ProcessResponse(ctx, res, since))
}
