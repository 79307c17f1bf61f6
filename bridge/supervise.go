package bridge

import (
	"context"
	"strings"
	"sync"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/voice"
)

// Supervision of live calls: the business identity calls a supervisor in their
// control room (a DM with two members, so their client rings) and the relay's
// mode table (voice/mode.go) decides who hears them: listen, whisper, barge.
// Agents added to a call (!invite) and a warm transfer's first agent are legs
// beside the call too, in the desk room. Every change is an audit row.

// supervision is the legs beside the live calls of this process.
type supervision struct {
	mu     sync.Mutex
	legs   map[*voice.Leg]*besideLeg
	byRoom map[id.RoomID]*besideLeg // a supervisor's control room → their leg there
	// transfers are the calls' pending transfers (supervisetransfer.go).
	transfers map[*liveCall]*pendingTransfer
}

// besideLeg is one supervisor's (or added agent's) leg on a call.
type besideLeg struct {
	lc    *liveCall
	leg   *voice.Leg
	staff id.UserID
	room  id.RoomID // where it rings: the control room, or the desk room
	by    id.UserID
	// answered is set on the call's actor.
	answered bool
}

func (s *supervision) add(bl *besideLeg) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.legs == nil {
		s.legs, s.byRoom = map[*voice.Leg]*besideLeg{}, map[id.RoomID]*besideLeg{}
	}
	s.legs[bl.leg] = bl
	if bl.room != bl.lc.desk {
		s.byRoom[bl.room] = bl
	}
}

func (s *supervision) of(l *voice.Leg) *besideLeg {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.legs[l]
}

func (s *supervision) inRoom(room id.RoomID) *besideLeg {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byRoom[room]
}

// staffLeg is the live leg a staff member has on a call, if any.
func (s *supervision) staffLeg(lc *liveCall, staff id.UserID) *besideLeg {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, bl := range s.legs {
		if bl.lc == lc && bl.staff == staff && bl.leg.State() != voice.LegEnded {
			return bl
		}
	}
	return nil
}

// current is the live call a staff member hears now, if any.
func (s *supervision) current(staff id.UserID) *besideLeg {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, bl := range s.legs {
		if bl.staff == staff && bl.leg.State() != voice.LegEnded {
			return bl
		}
	}
	return nil
}

func (s *supervision) forget(l *voice.Leg) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if bl := s.legs[l]; bl != nil {
		delete(s.legs, l)
		if s.byRoom[bl.room] == bl {
			delete(s.byRoom, bl.room)
		}
	}
}

// supervise puts a staff member on a live call in mode: their leg switches if they
// have one, otherwise the business identity rings them in room (their control
// room). It runs on the call's actor.
func (m *callManager) supervise(lc *liveCall, staff id.UserID, room id.RoomID, mode voice.Mode, by id.UserID) error {
	if bl := m.sv.staffLeg(lc, staff); bl != nil {
		if cur, ok := lc.call.Mode(bl.leg); ok && cur == mode {
			return nil
		}
		if err := lc.call.SetMode(bl.leg, mode); err != nil {
			return err
		}
		m.audit(lc, staff, mode.String(), by)
		return nil
	}
	sender := lc.t.UserID
	if room == lc.desk {
		sender = lc.ghost
	}
	role := voice.RoleSupervisor
	if lc.t.staffEntry(staff) == nil || room == lc.desk {
		role = voice.RoleAgent
	}
	leg, err := lc.call.DialSupervisor(m.ctx, voice.LegOptions{Send: m.sender(room, sender), Invitee: staff.String()}, role, mode)
	if err != nil {
		return err
	}
	m.sv.add(&besideLeg{lc: lc, leg: leg, staff: staff, room: room, by: by})
	if room == lc.desk {
		// The desk room's call events reach the call's agent legs.
		lc.addLeg(leg, staff)
	}
	m.log.Info().Int64("call", lc.rowID).Str("mode", mode.String()).Msg("Ringing a supervisor")
	return nil
}

// audit records a change of a staff member's part in a call and tells the agent in
// the side room (a quiet tenant does not announce listening).
func (m *callManager) audit(lc *liveCall, staff id.UserID, mode string, by id.UserID) {
	b := m.b
	if by == staff {
		by = ""
	}
	err := b.DB.Supervision().Add(m.ctx, &database.SupervisionEntry{TenantID: lc.t.ID, Call: lc.rowID, Conversation: lc.convID,
		Staff: staff, Mode: mode, By: by, At: b.now()})
	if err != nil {
		m.log.Warn().Err(err).Int64("call", lc.rowID).Msg("Could not record a supervision change")
	}
	switch {
	case mode == voice.ModeListen.String() && lc.t.Supervision.QuietListen:
		return
	case strings.HasPrefix(mode, "transfer"):
		// A transfer, and its failure, have notices of their own.
		return
	}
	m.sideNotice(lc, "supervision|"+staff.String()+"|"+mode, bot.SupervisionNotice(lc.t.staffName(staff), mode))
}

// onBesideEvent takes the relay's events of legs beside the call; false for
// every other leg. It runs on the call's actor.
func (m *callManager) onBesideEvent(lc *liveCall, ev voice.Event) bool {
	m.transferOnEvent(lc, ev)
	if ev.Leg == nil {
		return false
	}
	bl := m.sv.of(ev.Leg)
	if bl == nil {
		return false
	}
	switch ev.Kind {
	case voice.EventBesideAnswered:
		bl.answered = true
		mode, _ := lc.call.Mode(ev.Leg)
		m.audit(lc, bl.staff, mode.String(), bl.by)
	case voice.EventLegEnded:
		m.sv.forget(ev.Leg)
		if bl.answered {
			m.audit(lc, bl.staff, "left", "")
		}
	}
	return true
}

// superviseSignal takes a call event in a control room: the supervisor answering,
// trickling or hanging up the business identity's call to them.
func (b *Bridge) superviseSignal(ctx context.Context, staff *database.StaffMember, evt *event.Event) {
	if b.calls == nil || evt.Sender != staff.UserID {
		return
	}
	bl := b.calls.sv.inRoom(evt.RoomID)
	if bl == nil {
		return
	}
	msg, err := voice.Parse(evt.Type.Type, rawContent(evt))
	if err != nil {
		return
	}
	if err := bl.leg.Handle(ctx, msg); err != nil && err != voice.ErrOtherCall {
		b.calls.log.Debug().Err(err).Msg("The supervisor's call event did not apply")
	}
}

// liveCallOf is the live call of a conversation, if any.
func (m *callManager) liveCallOf(conv *database.Conversation) *liveCall {
	if m == nil || conv == nil {
		return nil
	}
	lc := m.byCustomerRoom(conv.RoomID)
	if lc == nil || lc.convID != conv.ID || lc.call == nil || lc.call.State() == voice.CallEnded {
		return nil
	}
	return lc
}
