package bridge

import (
	"context"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/routing"
)

// Presence-driven availability (a tenant's presence_availability): an agent whose
// Matrix presence turns offline is set offline; one who turns unavailable (idle) while
// ready is set away. Either way an offer they hold goes back to the queue and they are
// told in their control room. Presence never sets anyone ready: that stays their
// decision (!ready). Only a change of presence counts, so an agent who sends !ready
// while their client still says "unavailable" stays ready until it changes again.

// presenceKey is one staff member of one tenant.
type presenceKey struct {
	tenant string
	user   id.UserID
}

// onPresence applies a presence event to the staff member it is about, in the tenant
// whose business identity saw it, or (pushed) in every tenant that lists them.
func (r *nativeRelay) onPresence(ctx context.Context, seenBy *Tenant, evt *event.Event) {
	content := evt.Content.AsPresence()
	if content == nil || evt.Sender == "" {
		return
	}
	for _, t := range r.b.tenants {
		if (seenBy != nil && t != seenBy) || !t.PresenceAvailability || t.staffEntry(evt.Sender) == nil {
			continue
		}
		key := presenceKey{t.ID, evt.Sender}
		r.mu.Lock()
		changed := r.presence[key] != content.Presence
		r.presence[key] = content.Presence
		r.mu.Unlock()
		if !changed {
			continue
		}
		var status routing.Status
		switch content.Presence {
		case event.PresenceOffline:
			status = routing.Offline
		case event.PresenceUnavailable:
			status = routing.Away
		default:
			continue
		}
		if err := r.b.moveByPresence(ctx, t, evt.Sender, content.Presence, status); err != nil {
			zerolog.Ctx(ctx).Warn().Err(err).Str("tenant", t.ID).Stringer("staff", evt.Sender).Msg("Could not apply a staff member's presence")
			// Seen again, it is tried again.
			r.mu.Lock()
			delete(r.presence, key)
			r.mu.Unlock()
		} else {
			r.stats.Presence.Add(1)
		}
	}
}

// moveByPresence sets a staff member offline (from any status) or away (from ready),
// withdraws the offer they hold and tells them, in one transaction.
func (b *Bridge) moveByPresence(ctx context.Context, t *Tenant, user id.UserID, presence event.Presence, status routing.Status) error {
	return b.doTxn(ctx, func(ctx context.Context) error {
		record, err := b.DB.Staff.Get(ctx, t.ID, user)
		if err != nil || record == nil || record.ControlRoomID == "" || !record.RemovedAt.IsZero() {
			return err
		}
		if record.Status == status || (status == routing.Away && record.Status != routing.Ready) {
			return nil
		}
		now := b.now()
		withdrawn, err := b.withdrawOffersOf(ctx, t, user)
		if err != nil {
			return err
		}
		if err = b.setStaffStatus(ctx, t, user, status, now); err != nil {
			return err
		}
		zerolog.Ctx(ctx).Info().Str("tenant", t.ID).Stringer("staff", user).Str("presence", string(presence)).
			Str("status", string(status)).Msg("Staff member moved by their presence")
		key := outboxKey("presence", t.ID, user, string(status), now.UnixMilli())
		text := bot.PresenceMoved(string(presence), string(status), withdrawn)
		return b.DB.Outbox.Enqueue(ctx, key, record.ControlRoomID, t.UserID, event.EventMessage, bot.Notice(text), now)
	})
}

// withdrawOffersOf puts what is offered to a staff member who is no longer there back
// to waiting, and routes it again; it tells whether there was anything.
func (b *Bridge) withdrawOffersOf(ctx context.Context, t *Tenant, user id.UserID) (bool, error) {
	conv, err := b.DB.Conversation.OfferedTo(ctx, t.ID, user)
	if err != nil || conv == nil {
		return false, err
	}
	if err = b.withdrawOffers(ctx, t, user); err != nil {
		return false, err
	}
	b.routerOffered(ctx, t, user, 0, b.now())
	return true, b.offerWaiting(ctx, t)
}

// staffLeftControlRoom sets offline a staff member who left their control room by
// themselves, which is also what deactivating their account does (the homeserver takes
// them out of every room): offers could no longer reach them. It reports whether the
// event was such a leave.
func (b *Bridge) staffLeftControlRoom(ctx context.Context, j *job) (bool, error) {
	evt := j.evt
	membership := evt.Content.AsMember().Membership
	if evt.GetStateKey() != evt.Sender.String() || (membership != event.MembershipLeave && membership != event.MembershipBan) {
		return false, nil
	}
	staff, err := b.DB.Staff.ByControlRoom(ctx, evt.RoomID)
	if err != nil || staff == nil || staff.UserID != evt.Sender {
		return false, err
	}
	t := b.TenantByID(staff.TenantID)
	if t == nil {
		return false, nil
	}
	return true, j.Commit(ctx, func(ctx context.Context) error {
		record, err := b.DB.Staff.Get(ctx, t.ID, staff.UserID)
		if err != nil || record == nil || record.Status == routing.Offline {
			return err
		}
		now := b.now()
		if _, err = b.withdrawOffersOf(ctx, t, staff.UserID); err != nil {
			return err
		}
		zerolog.Ctx(ctx).Info().Str("tenant", t.ID).Stringer("staff", staff.UserID).Msg("Staff member left their control room; now offline")
		return b.setStaffStatus(ctx, t, staff.UserID, routing.Offline, now)
	})
}
