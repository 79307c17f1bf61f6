package bridge

import (
	"context"
	"crypto/rand"
	"errors"
	"maps"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/database"
)

// Creating a room and recording it cannot be one transaction: the homeserver is not
// the database. So every creation is noted (committed) before the homeserver is asked,
// the room carries the note's token in its m.room.create content, and the note is
// deleted in the transaction that records the room. A note that outlives its creation
// (a crash, a failed commit, a retried handler) names a room nobody will ever use: its
// creator, the only member, leaves it, which leaves it empty.

// creationTokenKey is the m.room.create content key of a room's creation token.
const creationTokenKey = "fi.contactcenter.creation"

const (
	// roomCreationGrace is how long another replica's creation, or a creation that
	// never produced a room, may stay unrecorded: far longer than creating and
	// recording a room take, even with the homeserver's timeouts.
	roomCreationGrace = 10 * time.Minute
	// roomCleanupInterval is how often abandoned creations are looked for after the
	// pass at start.
	roomCleanupInterval = 5 * time.Minute
)

// Purposes of the rooms the service creates, as noted in room_creation.
const (
	purposeControl = "control"
	purposeSpace   = "space"
	purposeDesk    = "desk"
	purposeSide    = "side"
)

// beginRoomCreation notes, committed, that creator is about to create a room for
// purpose, and writes the note's token into req's creation content so that the room
// can be found should it never be recorded. The transaction that records the room
// must finish the token (Creations.Finish).
func (b *Bridge) beginRoomCreation(ctx context.Context, t *Tenant, purpose string, creator id.UserID, req *mautrix.ReqCreateRoom) (token string, err error) {
	token = rand.Text()
	// A copy: callers may share one creation content between rooms.
	content := maps.Clone(req.CreationContent)
	if content == nil {
		content = map[string]any{}
	}
	content[creationTokenKey] = token
	req.CreationContent = content
	return token, b.DB.Creations.Begin(ctx, &database.RoomCreation{
		Token: token, TenantID: t.ID, Purpose: purpose, Creator: creator, Run: b.creationRun, StartedAt: b.now(),
	})
}

// startRoomCleanup names this run of the service (before any room is created) and
// cleans up abandoned creations now and periodically, in the background: the
// homeserver may be slow, and nothing waits for the cleanup.
func (b *Bridge) startRoomCleanup(ctx context.Context) error {
	b.creationRun = rand.Text()
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		ticker := time.NewTicker(roomCleanupInterval)
		defer ticker.Stop()
		for {
			if err := b.cleanUpAbandonedRooms(ctx); err != nil && ctx.Err() == nil {
				zerolog.Ctx(ctx).Warn().Err(err).Msg("Could not clean up abandoned room creations; will retry")
			}
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
			}
		}
	}()
	return nil
}

// cleanUpAbandonedRooms leaves the rooms of creations that will never be recorded.
// Alone, the service knows every creation of an earlier run is abandoned; with
// replicas, another one may still be creating, so only creations past the grace are.
func (b *Bridge) cleanUpAbandonedRooms(ctx context.Context) error {
	abandoned, err := b.DB.Creations.Abandoned(ctx, b.setupLease == nil, b.creationRun, b.now().Add(-roomCreationGrace))
	if err != nil || len(abandoned) == 0 {
		return err
	}
	byCreator := map[id.UserID][]*database.RoomCreation{}
	for _, c := range abandoned {
		byCreator[c.Creator] = append(byCreator[c.Creator], c)
	}
	var errs []error
	for creator, creations := range byCreator {
		errs = append(errs, b.cleanUpCreator(ctx, creator, creations))
	}
	return errors.Join(errs...)
}

// cleanUpCreator finds, among the rooms creator is joined to, those of its abandoned
// creations, and leaves them. It is idempotent: the leave is an outbox row with a
// dedupe key, queued in the transaction that forgets the creation.
func (b *Bridge) cleanUpCreator(ctx context.Context, creator id.UserID, creations []*database.RoomCreation) error {
	log := zerolog.Ctx(ctx).With().Stringer("creator", creator).Logger()
	client := b.senderClient(creator)
	if client == nil {
		// Its tenant is gone from the config; the notes wait for it to come back.
		log.Debug().Int("creations", len(creations)).Msg("Abandoned room creations of an unknown user")
		return nil
	}
	joined, err := client.JoinedRooms(ctx)
	if err != nil {
		return err
	}
	pending := make(map[string]*database.RoomCreation, len(creations))
	for _, c := range creations {
		pending[c.Token] = c
	}
	for _, roomID := range joined.JoinedRooms {
		if len(pending) == 0 {
			break
		}
		// Rooms in use are skipped without asking the homeserver.
		if recorded, err := b.DB.Creations.Recorded(ctx, roomID); err != nil {
			return err
		} else if recorded {
			continue
		}
		var create map[string]any
		if err := client.StateEvent(ctx, roomID, event.StateCreate, "", &create); err != nil {
			log.Warn().Err(err).Stringer("room_id", roomID).Msg("Could not read a room's creation")
			continue
		}
		token, _ := create[creationTokenKey].(string)
		c := pending[token]
		if c == nil {
			continue
		}
		delete(pending, token)
		if err := b.abandonRoom(ctx, c, roomID); err != nil {
			return err
		}
	}
	// No room for these: the homeserver never made it, or has not finished making
	// it. Past the grace no room will appear any more.
	for _, c := range pending {
		if b.now().Sub(c.StartedAt) > roomCreationGrace {
			log.Info().Str("purpose", c.Purpose).Msg("Forgetting a room creation that made no room")
			if err := b.DB.Creations.Finish(ctx, c.Token); err != nil {
				return err
			}
		}
	}
	return nil
}

// abandonRoom queues the creator's leave of an abandoned room and forgets its
// creation, in one transaction. Nobody else was ever invited (invites follow the
// recording), so the room is left empty.
func (b *Bridge) abandonRoom(ctx context.Context, c *database.RoomCreation, roomID id.RoomID) error {
	zerolog.Ctx(ctx).Info().Str("tenant", c.TenantID).Str("purpose", c.Purpose).Stringer("creator", c.Creator).
		Stringer("room_id", roomID).Msg("Leaving a room whose creation was never recorded")
	defer b.outbox.Wake()
	return b.doTxn(ctx, func(ctx context.Context) error {
		if err := b.DB.Outbox.Enqueue(ctx, outboxKey("abandoned-room", roomID), roomID, c.Creator, LeaveAction, struct{}{}, b.now()); err != nil {
			return err
		}
		return b.DB.Creations.Finish(ctx, c.Token)
	})
}
