package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/reporting"
	"github.com/contactcenter/contactcenter/voice"
)

// Call signalling from the inbox: m.call.* of the customer room (decrypted by
// dispatch when the DM is encrypted) and of desk rooms, MatrixRTC call attempts,
// and the members joining and leaving that calls wait for or end with.

// isCallEvent tells legacy VoIP events apart from everything else.
func isCallEvent(evt *event.Event) bool { return strings.HasPrefix(evt.Type.Type, "m.call.") }

// rawContent is the event's content as sent (call events are read raw: mautrix's
// structs lack fields and take the version as a number).
func rawContent(evt *event.Event) []byte {
	if len(evt.Content.VeryRaw) > 0 {
		return evt.Content.VeryRaw
	}
	raw, _ := json.Marshal(evt.Content.Raw)
	return raw
}

// handleCustomerCallSignal takes a call event or a MatrixRTC call attempt in a
// customer room. handled is false for anything else.
func (b *Bridge) handleCustomerCallSignal(ctx context.Context, j *job, t *Tenant, room *database.CustomerRoom) (handled bool, err error) {
	evt := j.evt
	if voice.IsMatrixRTCAttempt(evt.Type.Type, rawContent(evt)) {
		if evt.Sender != room.Customer || !room.LeftAt.IsZero() {
			return true, nil
		}
		zerolog.Ctx(ctx).Info().Msg("A MatrixRTC call attempt: telling the customer how to reach us")
		return true, j.Commit(ctx, func(ctx context.Context) error {
			return b.DB.Outbox.Enqueue(ctx, outboxKey("rtc-attempt", evt.ID), room.RoomID, t.UserID, event.EventMessage, bot.Notice(bot.CallsNeedLegacyClient), b.now())
		})
	}
	if !isCallEvent(evt) {
		return false, nil
	}
	if evt.Sender != room.Customer || !room.LeftAt.IsZero() {
		return true, nil
	}
	msg, err := voice.Parse(evt.Type.Type, rawContent(evt))
	if err != nil {
		zerolog.Ctx(ctx).Debug().Err(err).Msg("Ignoring a call event that does not parse")
		return true, nil
	}
	inv, isInvite := msg.(*voice.Invite)
	if !isInvite {
		if lc := b.calls.byCustomerRoom(room.RoomID); lc != nil && lc.customer != nil {
			if err := lc.customer.Handle(ctx, msg); err != nil && !errors.Is(err, voice.ErrOtherCall) {
				zerolog.Ctx(ctx).Debug().Err(err).Msg("The customer's call event did not apply")
			}
		}
		return true, nil
	}
	if inv.Invitee != "" && inv.Invitee != t.UserID.String() {
		return true, nil
	}
	age := b.now().Sub(time.UnixMilli(evt.Timestamp))
	remaining := time.Duration(inv.Lifetime)*time.Millisecond - age
	if remaining <= time.Second {
		zerolog.Ctx(ctx).Info().Dur("age", age).Msg("Ignoring a call invite that has expired")
		return true, nil
	}
	return true, b.takeCustomerCall(ctx, j, t, room, inv, remaining)
}

// takeCustomerCall records the customer's call (starting a conversation if none is
// open, as their first message would) and, once that commits, starts it.
func (b *Bridge) takeCustomerCall(ctx context.Context, j *job, t *Tenant, room *database.CustomerRoom, inv *voice.Invite, remaining time.Duration) error {
	refuse := func(text string) error {
		return j.Commit(ctx, func(ctx context.Context) error {
			busy := &voice.Hangup{Common: voice.Common{CallID: inv.CallID, PartyID: "cc" + inv.CallID, Version: "1"}, Reason: voice.ReasonUserBusy}
			if err := b.DB.Outbox.Enqueue(ctx, outboxKey("call-refused", j.evt.ID), room.RoomID, t.UserID, event.EventMessage, bot.Notice(text), b.now()); err != nil {
				return err
			}
			typ, content, err := voice.Encode(busy)
			if err != nil {
				return err
			}
			return b.DB.Outbox.Enqueue(ctx, outboxKey("call-refused-hangup", j.evt.ID), room.RoomID, t.UserID,
				event.Type{Type: typ, Class: event.MessageEventType}, json.RawMessage(content), b.now())
		})
	}
	if b.calls == nil {
		return refuse(bot.CallsOff)
	}
	if lc := b.calls.byCustomerRoom(room.RoomID); lc != nil {
		if lc.customerCallID == inv.CallID {
			return nil // this very call, handled again
		}
		return refuse(bot.CallAlreadyLive)
	}
	if ok, err := b.customerEventAllowed(ctx, j, t, room); !ok {
		return err
	}
	conv, rooms, err := b.conversationFor(ctx, t, room)
	if err != nil {
		return err
	}
	return j.Commit(ctx, func(ctx context.Context) error {
		var c *convo
		if conv != nil {
			if c = b.convoOf(conv, j); c == nil {
				return nil
			}
		} else if c, err = b.startConversation(ctx, t, j, room.RoomID, rooms); err != nil {
			return err
		}
		call, err := b.DB.Calls().Start(ctx, t.ID, c.ID, room.RoomID, inv.CallID, b.now())
		if err != nil || call.State == database.CallEnded {
			return err
		}
		if err = c.logCall(ctx, call.ID, reporting.CallStarted, "", ""); err != nil {
			return err
		}
		conv := c.Conversation
		b.afterCommit(ctx, func(context.Context) { b.calls.start(t, conv, call, inv, remaining) })
		return nil
	})
}

// handleDeskCallSignal takes a call event of an agent in a desk room: an answer,
// candidates or hangup for the relay's call to them, or their own invite to the
// customer's ghost while the relay rings them (glare).
func (b *Bridge) handleDeskCallSignal(ctx context.Context, conv *database.Conversation, evt *event.Event) {
	lc := b.calls.byDeskRoom(evt.RoomID)
	if lc == nil || evt.RoomID != conv.DeskRoom {
		return
	}
	msg, err := voice.Parse(evt.Type.Type, rawContent(evt))
	if err != nil {
		zerolog.Ctx(ctx).Debug().Err(err).Msg("Ignoring a call event that does not parse")
		return
	}
	if inv, ok := msg.(*voice.Invite); ok {
		lc.push(func() { b.calls.agentInvite(lc, evt.Sender, inv) })
		return
	}
	for _, leg := range lc.agentLegs() {
		if err := leg.Handle(ctx, msg); err == nil {
			return
		} else if !errors.Is(err, voice.ErrOtherCall) {
			zerolog.Ctx(ctx).Debug().Err(err).Msg("The agent's call event did not apply")
			return
		}
	}
}

// callsOnMember tells live calls about membership: an agent the call waits for
// joined the desk room; an agent left it, or the customer left their room (a peer
// leaving the room counts as a hangup).
func (b *Bridge) callsOnMember(evt *event.Event) {
	m := b.calls
	if m == nil {
		return
	}
	target := id.UserID(evt.GetStateKey())
	membership := evt.Content.AsMember().Membership
	leaving := membership == event.MembershipLeave || membership == event.MembershipBan
	if lc := m.byDeskRoom(evt.RoomID); lc != nil {
		switch {
		case membership == event.MembershipJoin:
			lc.push(func() { m.agentJoined(lc, target) })
		case leaving:
			for _, leg := range lc.legsOf(target) {
				leg.Hangup(voice.ReasonUserHangup)
			}
		}
	}
	if lc := m.byCustomerRoom(evt.RoomID); lc != nil && leaving && lc.customer != nil && target == lc.customerUser {
		lc.customer.Hangup(voice.ReasonUserHangup)
	}
}
