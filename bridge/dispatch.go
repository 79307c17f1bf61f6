package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/bridge/transport"
	"github.com/contactcenter/contactcenter/database"
)

// errPermanent marks a failure that retrying cannot fix.
var errPermanent = transport.ErrPermanent

func permanent(err error) error { return transport.Permanent(err) }

// job is one inbox entry being handled, with its event parsed. Handlers do their
// network side effects first (they must be idempotent), then Commit their database
// writes: the writes and the entry's "handled" mark are one database transaction.
type job struct {
	*transport.Job
	entry *database.InboxEntry
	evt   *event.Event
}

// handleEntry parses one stored event and dispatches it; the transport commits it if
// the handler did not.
func (b *Bridge) handleEntry(ctx context.Context, tj *transport.Job) error {
	evt, err := parseEvent(tj.Entry.Body)
	if err != nil {
		return permanent(err)
	}
	j := &job{Job: tj, entry: tj.Entry, evt: evt}
	ctx = zerolog.Ctx(ctx).With().Stringer("event_id", evt.ID).Str("type", evt.Type.Type).Logger().WithContext(ctx)
	return b.dispatch(ctx, j)
}

// giveUp runs in the transaction that gives up an event that cannot be handled. If it
// is a customer's message the service could not decrypt, the customer is asked to send
// it again: what they said must not vanish silently.
func (b *Bridge) giveUp(ctx context.Context, entry *database.InboxEntry, cause error) error {
	evt, err := parseEvent(entry.Body)
	if err != nil || evt.Type != event.EventEncrypted {
		return nil
	}
	room, err := b.DB.CustomerRoom.Get(ctx, evt.RoomID)
	if err != nil || room == nil || evt.Sender != room.Customer {
		return err
	}
	t := b.TenantByID(room.TenantID)
	if t == nil {
		return nil
	}
	return b.DB.Outbox.Enqueue(ctx, transport.Key("unreadable", evt.ID), room.RoomID, t.UserID,
		event.EventMessage, bot.Notice(bot.UnreadableMessage), b.now())
}

// parseEvent decodes a stored event the way the appservice package would have.
func parseEvent(raw []byte) (*event.Event, error) {
	var evt event.Event
	if err := json.Unmarshal(raw, &evt); err != nil {
		return nil, fmt.Errorf("stored event is not valid: %w", err)
	}
	evt.Type.Class = event.MessageEventType
	if evt.StateKey != nil {
		evt.Type.Class = event.StateEventType
	}
	if err := evt.Content.ParseRaw(evt.Type); err != nil && !errors.Is(err, event.ErrUnsupportedContentType) && !errors.Is(err, event.ErrContentAlreadyParsed) {
		return nil, fmt.Errorf("event content does not match its type: %w", err)
	}
	return &evt, nil
}

// dispatch routes an event by the room it is in and its type. The state store learns
// every state event first, so handlers see the room as it is after the event.
func (b *Bridge) dispatch(ctx context.Context, j *job) error {
	evt := j.evt
	if evt.StateKey != nil {
		mautrix.UpdateStateStore(ctx, b.StateStore, evt)
		if evt.Type == event.StateEncryption {
			b.encryptedRooms.forget(evt.RoomID)
		}
	}
	if evt.Type == event.StateMember {
		b.callsOnMember(evt)
		if left, err := b.staffLeftControlRoom(ctx, j); left || err != nil {
			return err
		}
		return b.handleMember(ctx, j)
	}
	if b.isOurs(evt.Sender) {
		// Our own events change nothing: what the turn's previous event left holds.
		j.KeepForNext(j.Reused())
		return nil
	}
	role, err := b.roleOf(ctx, j)
	if err != nil || role.kind == notOurRoom {
		return err
	}
	tenant := b.TenantByID(role.tenantID)
	if tenant == nil {
		zerolog.Ctx(ctx).Warn().Str("tenant", role.tenantID).Msg("Event in a room of a tenant that is no longer configured")
		return nil
	}
	if evt.Type == event.EventEncrypted {
		if evt, err = tenant.decrypt(ctx, evt, j.entry.Attempts); err != nil {
			return err
		}
		j.evt = evt
	}
	if err = b.sendsKnown(ctx, evt); err != nil {
		return err
	}
	switch role.kind {
	case controlRoom:
		if isCallEvent(evt) {
			b.superviseSignal(ctx, role.staff, evt)
			return nil
		}
		return b.handleControl(ctx, j, tenant, role.staff)
	case staffRoom:
		if isCallEvent(evt) {
			if tenant.staffEntry(evt.Sender) != nil {
				b.handleDeskCallSignal(ctx, role.conv, evt)
			}
			return nil
		}
		return tenant.convo(role.conv, j).handleStaffRoom(ctx)
	}
	if handled, err := b.handleCustomerCallSignal(ctx, j, tenant, role.customer); handled || err != nil {
		return err
	}
	switch evt.Type {
	case event.EventMessage, event.EventSticker, event.EventReaction, event.EventRedaction,
		event.EventUnstablePollStart, event.EventUnstablePollResponse, eventPollResponse:
		return b.handleCustomerEvent(ctx, j, tenant, role.customer)
	}
	return nil
}

// roomKind is what a room is to the service.
type roomKind int

const (
	notOurRoom roomKind = iota
	customerRoom
	controlRoom
	// staffRoom is a conversation's desk or side room.
	staffRoom
)

// roomRole is a room's kind and its record: the customer room, the staff member
// whose control room it is, or the conversation whose desk or side room it is.
type roomRole struct {
	kind     roomKind
	tenantID string
	customer *database.CustomerRoom
	staff    *database.StaffMember
	conv     *database.Conversation
}

// roleOf is what the job's room is to the service: the customer room the turn's
// previous event left (see keptRoom), or what classifyRoom finds.
func (b *Bridge) roleOf(ctx context.Context, j *job) (roomRole, error) {
	if kept, ok := j.Reused().(keptRoom); ok && kept.room.RoomID == j.evt.RoomID {
		return kept.role(), nil
	}
	return b.classifyRoom(ctx, j.evt.RoomID)
}

// readTurn reads a room's inbox heads for a turn (transport.Config.ReadTurn) together
// with the room as a customer room and its open conversation, in one statement: the
// turn's first event then finds its room read (roleOf), as the turn's next events do
// when the one before kept it. A room known to be a staff room reads its inbox alone.
func (b *Bridge) readTurn(ctx context.Context, roomID id.RoomID, limit int) ([]*database.InboxEntry, any, error) {
	if _, staff := b.roomKinds.get(roomID); staff {
		heads, err := b.DB.Inbox.Heads(ctx, roomID, limit)
		return heads, nil, err
	}
	heads, room, err := b.DB.Inbox.HeadsWithRoom(ctx, roomID, limit)
	if err != nil || room == nil || room.Open == nil {
		return heads, nil, err
	}
	return heads, keepRoom(room, room.Open), nil
}

// classifyRoom finds what a room is to the service: in the table its kind says, when
// it was classified before (see roomKinds), else in each in turn.
func (b *Bridge) classifyRoom(ctx context.Context, roomID id.RoomID) (roomRole, error) {
	if kind, _ := b.roomKinds.get(roomID); kind != notOurRoom {
		if role, err := b.roomOfKind(ctx, roomID, kind); err != nil || role.kind != notOurRoom {
			return role, err
		}
		b.roomKinds.forget(roomID)
	}
	for _, kind := range []roomKind{customerRoom, controlRoom, staffRoom} {
		if role, err := b.roomOfKind(ctx, roomID, kind); err != nil || role.kind != notOurRoom {
			if err == nil && kind != customerRoom { // read first anyway
				b.roomKinds.put(roomID, kind)
			}
			return role, err
		}
	}
	return roomRole{}, nil
}

// roomOfKind reads the room's record from the table of its kind (notOurRoom: none).
func (b *Bridge) roomOfKind(ctx context.Context, roomID id.RoomID, kind roomKind) (roomRole, error) {
	switch kind {
	case customerRoom:
		room, err := b.DB.CustomerRoom.GetWithOpen(ctx, roomID)
		if err != nil || room == nil {
			return roomRole{}, err
		}
		return roomRole{kind: customerRoom, tenantID: room.TenantID, customer: room}, nil
	case controlRoom:
		staff, err := b.DB.Staff.ByControlRoom(ctx, roomID)
		if err != nil || staff == nil {
			return roomRole{}, err
		}
		return roomRole{kind: controlRoom, tenantID: staff.TenantID, staff: staff}, nil
	case staffRoom:
		conv, err := b.DB.Conversation.ByStaffRoom(ctx, roomID)
		if err != nil || conv == nil {
			return roomRole{}, err
		}
		return roomRole{kind: staffRoom, tenantID: conv.TenantID, conv: conv}, nil
	}
	return roomRole{}, nil
}

// sendsKnown waits, for an event that refers to another (a reaction, a reply, an edit,
// a redaction, a poll answer), until the event IDs of what the service sent so far are
// recorded: the event may refer to a copy or prompt whose send was answered a moment
// ago, and its handler reads the event map inside its commit, where it cannot wait.
func (b *Bridge) sendsKnown(ctx context.Context, evt *event.Event) error {
	t := b.transport.Load()
	if t == nil || !refersToEvent(evt) {
		return nil
	}
	return t.Recorded(ctx)
}

// refersToEvent tells whether an event names another event.
func refersToEvent(evt *event.Event) bool {
	if evt.Type == event.EventRedaction || evt.Redacts != "" {
		return true
	}
	_, related := evt.Content.Raw["m.relates_to"]
	return related
}
