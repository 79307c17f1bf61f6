package bridge

import (
	"context"
	"strconv"
	"strings"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/voice"
)

// The commands of calls in progress: !listen, !whisper, !barge (supervisors), and
// !leave, !transfer and !invite during a call.

func commandMode(spec *bot.CommandSpec) voice.Mode {
	switch spec {
	case bot.CmdWhisper:
		return voice.ModeWhisper
	case bot.CmdBarge:
		return voice.ModeBarge
	}
	return voice.ModeListen
}

// superviseControlCommand is !listen <n>, !whisper, !barge and !leave in a control
// room: the conversation is the tenant's own, or the call the supervisor is on.
func (b *Bridge) superviseControlCommand(ctx context.Context, c *controlCall) error {
	j, t, staff, args := c.j, c.t, c.staff, c.cmd.Args
	replyWith := func(text string) error {
		return j.Commit(ctx, func(ctx context.Context) error { return b.reply(ctx, j, t, text) })
	}
	var lc *liveCall
	if len(args) == 1 {
		convID, err := strconv.ParseInt(strings.TrimPrefix(args[0], "#"), 10, 64)
		var conv *database.Conversation
		if err == nil {
			if conv, err = b.DB.Conversation.Get(ctx, convID); err != nil {
				return err
			}
		}
		// Another tenant's conversation is not named to this one's supervisors.
		if conv == nil || conv.TenantID != t.ID || conv.Status == database.StatusClosed {
			return replyWith(bot.NoOpenConversation(args[0]))
		}
		if lc = b.calls.liveCallOf(conv); lc == nil {
			return replyWith(bot.NoLiveCall)
		}
	} else if bl := b.calls.svCurrent(staff.UserID); bl != nil && bl.lc.t == t {
		lc = bl.lc
	} else if c.spec == bot.CmdListen {
		return replyWith(bot.ListenUsage)
	} else {
		return replyWith(bot.NotInCall)
	}
	if c.spec == bot.CmdLeave {
		b.calls.leave(lc, staff.UserID)
		return replyWith(bot.SupervisionNotice("You", "left"))
	}
	if staff.ControlRoomID == "" {
		return replyWith(bot.NoControlRoom)
	}
	mode := commandMode(c.spec)
	b.calls.pushSupervise(lc, staff.UserID, staff.ControlRoomID, mode)
	return replyWith(b.superviseReply(lc, staff.UserID, mode))
}

func (b *Bridge) superviseReply(lc *liveCall, staff id.UserID, mode voice.Mode) string {
	if b.calls.svStaffLeg(lc, staff) != nil {
		return bot.SupervisionMode(mode.String())
	}
	return bot.SupervisorRinging(lc.convID, mode.String())
}

// superviseSideCommand is !listen, !whisper and !barge in a conversation's side room.
func superviseSideCommand(ctx context.Context, call *conversationCall) error {
	b, t := call.b, call.t
	lc := b.calls.liveCallOf(call.Conversation)
	if lc == nil {
		return call.answer(ctx, bot.NoLiveCall)
	}
	sup := call.j.evt.Sender
	record, err := b.DB.Staff.Get(ctx, t.ID, sup)
	if err != nil {
		return err
	}
	if record == nil || record.ControlRoomID == "" {
		return call.answer(ctx, bot.NoControlRoom)
	}
	mode := commandMode(call.spec)
	text := b.superviseReply(lc, sup, mode)
	room := record.ControlRoomID
	b.afterCommit(ctx, func(context.Context) { b.calls.pushSupervise(lc, sup, room, mode) })
	return call.answer(ctx, text)
}

// leaveCommand is !leave in a desk or side room: the sender's legs on the call end.
func leaveCommand(ctx context.Context, call *conversationCall) error {
	lc := call.b.calls.liveCallOf(call.Conversation)
	if lc == nil {
		return call.answer(ctx, bot.NoLiveCall)
	}
	who := call.j.evt.Sender
	call.b.afterCommit(ctx, func(context.Context) { call.b.calls.leave(lc, who) })
	return nil
}

func (m *callManager) svCurrent(staff id.UserID) *besideLeg {
	if m == nil {
		return nil
	}
	return m.sv.current(staff)
}

func (m *callManager) svStaffLeg(lc *liveCall, staff id.UserID) *besideLeg {
	if m == nil {
		return nil
	}
	return m.sv.staffLeg(lc, staff)
}

func (m *callManager) pushSupervise(lc *liveCall, staff id.UserID, room id.RoomID, mode voice.Mode) {
	lc.push(func() {
		if err := m.supervise(lc, staff, room, mode, staff); err != nil {
			m.log.Warn().Err(err).Int64("call", lc.rowID).Msg("Could not put a supervisor on a call")
		}
	})
}

// leave ends a staff member's legs on a call: beside it, or a warm transfer's
// first agent. The agent bridged now ends the call by hanging up, not by !leave,
// unless a warm transfer's other agent takes over.
func (m *callManager) leave(lc *liveCall, staff id.UserID) {
	if bl := m.sv.staffLeg(lc, staff); bl != nil {
		bl.leg.Hangup(voice.ReasonUserHangup)
	}
	for _, l := range lc.legsOf(staff) {
		if _, beside := lc.call.Mode(l); beside {
			l.Hangup(voice.ReasonUserHangup)
		}
	}
}

// callTransferCommand is !transfer during a call: the chat moves as ever, and the
// call rings the new agent once they are in the desk room (supervisetransfer.go).
// Cold (the default) ends the first agent's leg at once, the customer holding until
// the new agent answers; "!transfer warm <agent>" keeps them on the call until
// !leave.
func callTransferCommand(ctx context.Context, call *conversationCall) error {
	lc := call.b.calls.liveCallOf(call.Conversation)
	warm := len(call.cmd.Args) > 1 && strings.EqualFold(call.cmd.Args[0], "warm")
	if lc == nil || (len(call.cmd.Args) > 0 && strings.EqualFold(call.cmd.Args[0], "queue")) {
		if warm {
			call.cmd.Args = call.cmd.Args[1:]
		}
		return transferCommand(ctx, call)
	}
	if warm {
		call.cmd.Args = call.cmd.Args[1:]
	}
	target, err := call.agentArgument(ctx)
	if target == nil {
		return err
	}
	agent := id.UserID(target.UserID)
	if warm {
		if call.role[agent] != database.RoleAgent {
			err = call.addAgent(ctx, agent)
		}
		err = firstErr(err, call.sideNotice(ctx, "call-transfer|"+call.j.Key(), bot.CallTransferRinging(call.who, target.Name, true)))
	} else if err = transferCommand(ctx, call); err == nil {
		err = call.sideNotice(ctx, "call-transfer|"+call.j.Key(), bot.CallTransferRinging(call.who, target.Name, false))
	}
	if err != nil {
		return err
	}
	by := call.j.evt.Sender
	call.b.afterCommit(ctx, func(context.Context) {
		if !warm {
			// Before the chat's hand-over removes the first agent from the desk
			// room, which ends their leg: the customer holds instead of being hung up.
			lc.call.AwaitAgent(true)
		}
		lc.push(func() { call.b.calls.startTransfer(lc, agent, warm, by) })
	})
	return nil
}

// callInviteCommand is !invite during a call: the agent joins the conversation as
// ever and the call rings them as a full participant (heard by all, as a barge).
func callInviteCommand(ctx context.Context, call *conversationCall) error {
	lc := call.b.calls.liveCallOf(call.Conversation)
	if lc == nil {
		return inviteCommand(ctx, call)
	}
	target, err := call.agentArgument(ctx)
	if target == nil {
		return err
	}
	agent := id.UserID(target.UserID)
	if call.role[agent] != database.RoleAgent {
		if err := inviteCommand(ctx, call); err != nil {
			return err
		}
	}
	by := call.j.evt.Sender
	call.b.afterCommit(ctx, func(context.Context) {
		m := call.b.calls
		m.whenJoined(lc, agent, func() {
			if m.sv.staffLeg(lc, agent) != nil || len(lc.legsOf(agent)) > 0 {
				return
			}
			if err := m.supervise(lc, agent, lc.desk, voice.ModeBarge, by); err != nil {
				m.log.Warn().Err(err).Int64("call", lc.rowID).Msg("Could not add an agent to a call")
			}
		})
		m.sideNotice(lc, "call-invite|"+agent.String(), bot.CallInviteRinging(lc.t.staffName(by), target.Name))
	})
	return call.answer(ctx, bot.CallInviteRinging(call.who, target.Name))
}

// whenJoined runs f on the call's actor once the agent is in the desk room (they
// were just invited to it), giving up after the ring timeout.
func (m *callManager) whenJoined(lc *liveCall, agent id.UserID, f func()) {
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		deadline := time.Now().Add(m.ring)
		for {
			if ms, err := m.b.StateStore.GetMembership(m.ctx, lc.desk, agent); err == nil && ms == event.MembershipJoin {
				lc.push(f)
				return
			}
			if time.Now().After(deadline) || lc.call.State() == voice.CallEnded {
				return
			}
			select {
			case <-time.After(250 * time.Millisecond):
			case <-m.ctx.Done():
				return
			}
		}
	}()
}
