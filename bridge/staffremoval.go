package bridge

import (
	"context"
	"fmt"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/reporting"
)

// Staff come from the database (seeded by the config, changed through the admin API;
// see staffprofiles.go). Someone no longer on the staff keeps nothing their role gave
// them: at the next start, or within a tick of the change, the service takes
// them out of the desk and side rooms of open conversations, the tenant's space and
// their control room (where offers and the tenant's conversations are posted), once.
// A conversation they served alone goes back to the queue. Their control room stays
// recorded, so that a command sent before the kick lands is still answered (see
// handleControl). Put back on the staff, they are invited in again.

// removeFormerStaff takes everyone the tenant's staff records know but the staff no
// longer lists out of their rooms.
func (b *Bridge) removeFormerStaff(ctx context.Context, t *Tenant) error {
	records, err := b.DB.Staff.OfTenant(ctx, t.ID)
	if err != nil {
		return err
	}
	defer b.outbox.Wake()
	for _, record := range records {
		if t.staffEntry(record.UserID) != nil || !record.RemovedAt.IsZero() {
			continue
		}
		if err = b.doTxn(ctx, func(ctx context.Context) error { return b.removeStaffMember(ctx, t, record) }); err != nil {
			return fmt.Errorf("taking %s out of their rooms: %w", record.UserID, err)
		}
	}
	return nil
}

// removeStaffMember takes one former staff member out of their rooms, inside a
// transaction; the record's mark makes it happen once, with replicas too.
func (b *Bridge) removeStaffMember(ctx context.Context, t *Tenant, record *database.StaffMember) error {
	now, userID := b.now(), record.UserID
	if won, err := b.DB.Staff.MarkRemoved(ctx, t.ID, userID, now); err != nil || !won {
		return err
	}
	if err := b.logStatus(ctx, t, userID, reporting.StatusOffline, now); err != nil {
		return err
	}
	zerolog.Ctx(ctx).Info().Str("tenant", t.ID).Stringer("staff", userID).Msg("Taking a former staff member out of their rooms")
	if err := b.withdrawOffers(ctx, t, userID); err != nil {
		return err
	}
	places, err := b.DB.Participants.OpenOfStaff(ctx, t.ID, userID)
	if err != nil {
		return err
	}
	for _, place := range places {
		if err = b.leaveConversation(ctx, t, place); err != nil {
			return err
		}
	}
	space, err := b.DB.TenantSpace.Get(ctx, t.ID)
	if err != nil {
		return err
	}
	kick := func(room id.RoomID) error {
		if room == "" {
			return nil
		}
		key := outboxKey("staff-removed", room, userID, now.UnixMilli())
		return b.DB.Outbox.Enqueue(ctx, key, room, t.UserID, KickAction, memberAction{UserID: userID, Reason: bot.StaffRemoved(t.Name)}, now)
	}
	return firstErr(kick(space.Room()), kick(record.ControlRoomID), b.offerWaiting(ctx, t))
}

// withdrawOffers puts back to waiting what is offered to a former staff member: their
// answer can no longer come.
func (b *Bridge) withdrawOffers(ctx context.Context, t *Tenant, userID id.UserID) error {
	for {
		conv, err := b.DB.Conversation.OfferedTo(ctx, t.ID, userID)
		if err != nil || conv == nil {
			return err
		}
		if _, err = b.DB.Conversation.Decline(ctx, conv.ID, userID); err != nil {
			return err
		}
		if err = b.DB.Participants.Add(ctx, conv.ID, userID, database.RoleDeclined, b.now()); err != nil {
			return err
		}
	}
}

// leaveConversation takes a former staff member out of one open conversation: a
// monitor out of its side room; an agent out of both rooms, the conversation going
// back to the queue if they served it alone.
func (b *Bridge) leaveConversation(ctx context.Context, t *Tenant, place *database.Participant) error {
	conv, err := b.DB.Conversation.Get(ctx, place.ConversationID)
	if err != nil || conv == nil {
		return err
	}
	c := t.convo(conv, nil)
	userID, now := place.UserID, b.now()
	reason := bot.StaffRemoved(t.Name)
	if place.Role != database.RoleAgent {
		key := outboxKey("kick-side", conv.ID, userID, now.UnixMilli())
		return firstErr(
			b.DB.Participants.Remove(ctx, conv.ID, userID, now),
			c.enqueue(ctx, key, conv.SideRoom, t.UserID, KickAction, memberAction{UserID: userID, Reason: reason}),
		)
	}
	participants, err := b.DB.Participants.Current(ctx, conv.ID)
	if err != nil {
		return err
	}
	otherAgents := 0
	for _, p := range participants {
		if p.Role == database.RoleAgent && p.UserID != userID {
			otherAgents++
		}
	}
	name := t.staffName(userID)
	if otherAgents == 0 {
		return c.requeue(ctx, []id.UserID{userID}, bot.StaffRemovedRequeued(name))
	}
	return firstErr(
		c.sideNotice(ctx, "staff-removed|"+userID.String(), bot.StaffRemovedFromConversation(name)),
		c.removeStaff(ctx, userID, reason),
	)
}

// restoreStaffMember invites someone back on the staff into what their removal took
// from them: their control room and the tenant's space (conversations are offered
// anew).
func (b *Bridge) restoreStaffMember(ctx context.Context, t *Tenant, record *database.StaffMember) error {
	defer b.outbox.Wake()
	return b.doTxn(ctx, func(ctx context.Context) error {
		won, err := b.DB.Staff.Restore(ctx, t.ID, record.UserID, record.RemovedAt)
		if err != nil || !won {
			return err
		}
		zerolog.Ctx(ctx).Info().Str("tenant", t.ID).Stringer("staff", record.UserID).Msg("Letting a returning staff member back in")
		space, err := b.DB.TenantSpace.Get(ctx, t.ID)
		if err != nil {
			return err
		}
		invite := func(room id.RoomID, direct bool) error {
			if room == "" {
				return nil
			}
			key := outboxKey("staff-restored", room, record.UserID, record.RemovedAt.UnixMilli())
			return b.DB.Outbox.Enqueue(ctx, key, room, t.UserID, InviteAction, memberAction{UserID: record.UserID, Direct: direct}, b.now())
		}
		return firstErr(invite(record.ControlRoomID, true), invite(space.Room(), false))
	})
}
