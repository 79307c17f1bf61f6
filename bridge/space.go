package bridge

import (
	"context"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"
)

// ensureSpace creates the tenant's space, which groups its desk and side rooms in
// Element, and invites the tenant's staff. Conversations started before the space
// exists are simply not in it.
func (b *Bridge) ensureSpace(ctx context.Context, t *Tenant) error {
	if space, err := b.DB.TenantSpace.Get(ctx, t.ID); err != nil || space != "" {
		return err
	}
	invite := make([]id.UserID, 0, len(t.Staff))
	for _, s := range t.Staff {
		invite = append(invite, id.UserID(s.UserID))
	}
	resp, err := t.Client.CreateRoom(ctx, &mautrix.ReqCreateRoom{
		Preset:             "private_chat",
		Name:               t.Name + " conversations",
		Topic:              "Desk and side rooms of " + t.Name + "'s conversations.",
		Invite:             invite,
		CreationContent:    map[string]any{"type": "m.space", "m.federate": t.AllowRemoteAgents},
		PowerLevelOverride: staffPowerLevels(t.UserID, true),
	})
	if err != nil {
		return err
	}
	zerolog.Ctx(ctx).Info().Str("tenant", t.ID).Stringer("space", resp.RoomID).Msg("Created the tenant's space")
	return b.DB.TenantSpace.Put(ctx, t.ID, resp.RoomID)
}
