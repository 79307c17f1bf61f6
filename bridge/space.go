package bridge

import (
	"context"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/database"
)

// ensureSpace creates the tenant's space, which groups its desk and side rooms in
// Element, and invites the tenant's staff. Conversations started before the space
// exists are simply not in it.
func (b *Bridge) ensureSpace(ctx context.Context, t *Tenant) error {
	if space, err := b.DB.TenantSpace.Get(ctx, t.ID); err != nil || space != nil {
		return err
	}
	req := &mautrix.ReqCreateRoom{
		Preset:             "private_chat",
		Name:               t.Name + " conversations",
		Topic:              "Desk and side rooms of " + t.Name + "'s conversations.",
		CreationContent:    map[string]any{"type": "m.space", "m.federate": t.AllowRemoteAgents},
		PowerLevelOverride: staffPowerLevels(t.UserID, true),
	}
	// Noted first, so that a space never recorded is left (see roomcleanup.go).
	token, err := b.beginRoomCreation(ctx, t, purposeSpace, t.UserID, req)
	if err != nil {
		return err
	}
	resp, err := t.Client.CreateRoom(ctx, req)
	if err != nil {
		return err
	}
	zerolog.Ctx(ctx).Info().Str("tenant", t.ID).Stringer("space", resp.RoomID).Msg("Created the tenant's space")
	b.roomCreated(ctx)
	// Staff are invited once the space is recorded, like in every room the service
	// creates (see createControlRoom).
	defer b.outbox.Wake()
	return b.doTxn(ctx, func(ctx context.Context) error {
		if err := b.DB.TenantSpace.Put(ctx, &database.TenantSpace{TenantID: t.ID, RoomID: resp.RoomID}); err != nil {
			return err
		}
		if err := b.DB.Creations.Finish(ctx, token); err != nil {
			return err
		}
		for _, s := range t.staff() {
			if err := b.DB.Outbox.Enqueue(ctx, outboxKey("space-invite", resp.RoomID, s.UserID), resp.RoomID, t.UserID,
				InviteAction, memberAction{UserID: id.UserID(s.UserID)}, b.now()); err != nil {
				return err
			}
		}
		return nil
	})
}
