package bridge

import (
	"context"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/routing"
)

// controlRoomRetry is how often, at most, missing control rooms are tried again: a
// staff member's account may not exist yet when the service starts. Retries start at
// a second and grow to this.
const controlRoomRetry = 10 * time.Second

// startStaff makes sure every configured staff member has a control room, in the
// background so that an unreachable account does not hold up start-up.
func (b *Bridge) startStaff(ctx context.Context) error {
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		wait := time.Second
		for !b.ensureControlRooms(ctx) {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			wait = min(2*wait, controlRoomRetry)
		}
	}()
	return nil
}

// ensureControlRooms creates the missing control rooms; it reports whether none is
// missing any more.
func (b *Bridge) ensureControlRooms(ctx context.Context) (done bool) {
	done = true
	for _, t := range b.tenants {
		// Replicas: one at a time per tenant, so no room is created twice; the
		// others find the rooms recorded on their next try.
		key := id.RoomID("tenant:" + t.ID)
		if b.setupLease != nil {
			if ok, err := b.setupLease.Acquire(ctx, key); err != nil || !ok {
				done = false
				continue
			}
		}
		if !b.ensureTenantRooms(ctx, t) {
			done = false
		}
		if b.setupLease != nil {
			b.setupLease.Release(ctx, key)
		}
	}
	return done
}

// ensureTenantRooms creates a tenant's missing space and control rooms, takes former
// staff out of their rooms and lets returning staff back in; it reports whether
// nothing is left to do.
func (b *Bridge) ensureTenantRooms(ctx context.Context, t *Tenant) (done bool) {
	done = true
	log := zerolog.Ctx(ctx).With().Str("tenant", t.ID).Logger()
	if err := b.ensureSpace(ctx, t); err != nil {
		log.Warn().Err(err).Msg("Could not create the tenant's space")
		done = false
	}
	if err := b.removeFormerStaff(ctx, t); err != nil {
		log.Warn().Err(err).Msg("Could not take former staff out of their rooms; will retry")
		done = false
	}
	for _, staff := range t.staff() {
		if err := b.ensureControlRoom(ctx, t, staff); err != nil {
			log.Warn().Err(err).Str("staff", staff.UserID).Msg("Could not set up a control room; will retry")
			done = false
		}
	}
	return done
}

// ensureControlRoom gives a staff member their control room: created if missing,
// its powers reserved to the business identity, them invited back if they had been
// taken off the staff, and a supervisor's showing the dashboard.
func (b *Bridge) ensureControlRoom(ctx context.Context, t *Tenant, staff routing.Staff) error {
	record, err := b.DB.Staff.Get(ctx, t.ID, id.UserID(staff.UserID))
	if err != nil {
		return err
	}
	if record != nil && !record.RemovedAt.IsZero() {
		if err = b.restoreStaffMember(ctx, t, record); err != nil {
			return err
		}
	}
	var room id.RoomID
	if record == nil || record.ControlRoomID == "" {
		err = b.createControlRoom(ctx, t, staff)
	} else {
		room, err = record.ControlRoomID, b.reserveControlRoom(ctx, t, record)
	}
	if err != nil {
		return err
	}
	return b.ensureDashboardWidget(ctx, t, staff, room)
}

// createControlRoom opens the DM between a staff member and the business identity. A
// crash between creating and recording never leaves two recorded rooms, and the
// unrecorded one is left at the next start (see roomcleanup.go). The staff member is
// invited through the outbox, after the room is recorded: invited at creation, they
// could join and write before the service knew the room, and their first command
// would be lost.
func (b *Bridge) createControlRoom(ctx context.Context, t *Tenant, staff routing.Staff) error {
	userID := id.UserID(staff.UserID)
	req := &mautrix.ReqCreateRoom{
		Preset:             "private_chat",
		IsDirect:           true,
		Name:               bot.ControlRoomName(t.Name),
		Topic:              bot.ControlRoomTopic,
		PowerLevelOverride: controlRoomPowerLevels(t.UserID),
	}
	if userID.Homeserver() == b.Config.Homeserver.Domain {
		// Staff rooms stay on the business homeserver.
		req.CreationContent = map[string]any{"m.federate": false}
	}
	token, err := b.beginRoomCreation(ctx, t, purposeControl, t.UserID, req)
	if err != nil {
		return err
	}
	resp, err := t.Client.CreateRoom(ctx, req)
	if err != nil {
		return err
	}
	zerolog.Ctx(ctx).Info().Str("tenant", t.ID).Stringer("staff", userID).Stringer("room_id", resp.RoomID).Msg("Created a control room")
	b.roomCreated(ctx)
	defer b.outbox.Wake()
	return b.doTxn(ctx, func(ctx context.Context) error {
		if err := b.DB.Staff.SetControlRoom(ctx, t.ID, userID, resp.RoomID); err != nil {
			return err
		}
		if err := b.DB.Creations.Finish(ctx, token); err != nil {
			return err
		}
		greeting := bot.ControlGreeting(staff.Name, t.Name)
		if err := b.DB.Outbox.Enqueue(ctx, outboxKey("control-hello", resp.RoomID), resp.RoomID, t.UserID, event.EventMessage, bot.Notice(greeting), b.now()); err != nil {
			return err
		}
		return b.DB.Outbox.Enqueue(ctx, outboxKey("control-invite", resp.RoomID), resp.RoomID, t.UserID, InviteAction, memberAction{UserID: userID, Direct: true}, b.now())
	})
}

// controlRoomPowerLevels keep a control room the service's: offers and the tenant's
// conversations are posted there, so the staff member writes and reacts (commands,
// answers to offers) but invites, kicks, bans and changes to the room are the
// business identity's alone.
func controlRoomPowerLevels(business id.UserID) *event.PowerLevelsEventContent {
	return staffPowerLevels(business, false)
}

// reserveControlRoom puts an existing control room's power levels right where they
// are looser than controlRoomPowerLevels (a room made before they were set), as far
// as the service knows the room's state. A staff member the room once made as
// powerful as the service cannot be lowered by it: that send is refused and given up.
func (b *Bridge) reserveControlRoom(ctx context.Context, t *Tenant, record *database.StaffMember) error {
	pl, err := b.StateStore.GetPowerLevels(ctx, record.ControlRoomID)
	if err != nil || pl == nil || controlRoomReserved(pl, t.UserID) {
		return err
	}
	zerolog.Ctx(ctx).Info().Str("tenant", t.ID).Stringer("room_id", record.ControlRoomID).Msg("Reserving a control room's powers to the business identity")
	defer b.outbox.Wake()
	return b.DB.Outbox.Enqueue(ctx, outboxKey("control-powers", record.ControlRoomID), record.ControlRoomID, t.UserID, StateAction,
		stateAction{Type: event.StatePowerLevels.Type, Content: controlRoomPowerLevels(t.UserID)}, b.now())
}

// controlRoomReserved tells whether nobody but the business identity may invite,
// kick, ban, change state or change the power levels in a room with these levels.
func controlRoomReserved(pl *event.PowerLevelsEventContent, business id.UserID) bool {
	others := pl.UsersDefault
	for user, level := range pl.Users {
		if user != business {
			others = max(others, level)
		}
	}
	return min(pl.Invite(), pl.Kick(), pl.Ban(), pl.StateDefault(), pl.GetEventLevel(event.StatePowerLevels)) > others
}

// handleControl takes a staff member's command in their control room.
func (b *Bridge) handleControl(ctx context.Context, j *job, t *Tenant, staff *database.StaffMember) error {
	if j.evt.Sender != staff.UserID {
		return nil
	}
	entry := t.staffEntry(staff.UserID)
	if entry == nil {
		// Taken off the staff since the room was made: nothing is carried out, but a
		// command is answered rather than met with silence.
		if j.evt.Type != event.EventMessage {
			return nil
		}
		if _, ok := bot.ParseCommand(j.evt.Content.AsMessage().Body); !ok {
			return nil
		}
		return j.Commit(ctx, func(ctx context.Context) error { return b.reply(ctx, j, t, bot.NotStaffAnyMore(t.Name)) })
	}
	if handled, err := b.wrapUpAnswer(ctx, j, t, staff); handled || err != nil {
		return err
	}
	if j.evt.Type != event.EventMessage {
		convID, accept, ok, err := b.offerAnswer(ctx, j.evt, j.entry.Attempts < answerRetries)
		if err != nil || !ok {
			return err
		}
		return b.handleOfferAnswer(ctx, j, t, staff, accept, convID)
	}
	cmd, ok := bot.ParseCommand(j.evt.Content.AsMessage().Body)
	if !ok {
		return nil
	}
	return b.dispatchControl(ctx, j, t, staff, entry.Role, cmd)
}

// reply answers a command in the room it came from.
func (b *Bridge) reply(ctx context.Context, j *job, t *Tenant, markdown string) error {
	return b.DB.Outbox.Enqueue(ctx, outboxKey("reply", j.Key()), j.evt.RoomID, t.UserID, event.EventMessage, bot.Notice(markdown), b.now())
}
