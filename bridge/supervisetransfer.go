package bridge

import (
	"fmt"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/voice"
)

// Transfers of a live call. Cold: the first agent's leg ends at once and the
// customer holds, hearing the prompt, until the new agent answers. Warm: the first
// agent stays bridged while the new one rings, and beside the call (heard by all)
// once they answer, until !leave. A new agent who declines, or does not answer or
// join in time, fails the transfer: after a warm one the first agent simply goes
// on; after a cold one the customer is not left holding: the call ends with the
// tenant's no-agent message and a callback offer, and the chat goes on.

// pendingTransfer is a transfer whose new agent has not answered yet.
type pendingTransfer struct {
	agent id.UserID
	from  id.UserID // the agent bridged when it was asked
	warm  bool
	by    id.UserID
	timer *time.Timer
}

func (s *supervision) transfer(lc *liveCall) *pendingTransfer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.transfers[lc]
}

func (s *supervision) setTransfer(lc *liveCall, p *pendingTransfer) *pendingTransfer {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.transfers == nil {
		s.transfers = map[*liveCall]*pendingTransfer{}
	}
	old := s.transfers[lc]
	s.transfers[lc] = p
	return old
}

// endTransfer forgets p if it is the call's pending transfer still.
func (s *supervision) endTransfer(lc *liveCall, p *pendingTransfer) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.transfers[lc] != p {
		return false
	}
	delete(s.transfers, lc)
	p.timer.Stop()
	return true
}

// startTransfer begins a transfer (the call's actor): the new agent rings once they
// are in the desk room; joining and answering must happen within twice the ring
// timeout.
func (m *callManager) startTransfer(lc *liveCall, agent id.UserID, warm bool, by id.UserID) {
	if lc.call.State() == voice.CallEnded {
		return
	}
	if agent == lc.answeredBy && lc.call.Agent() != nil {
		// Transferred to whoever has the call: nothing to ring.
		lc.call.AwaitAgent(false)
		return
	}
	p := &pendingTransfer{agent: agent, from: lc.answeredBy, warm: warm, by: by}
	p.timer = time.AfterFunc(2*m.ring, func() { lc.push(func() { m.transferTimedOut(lc, p) }) })
	if old := m.sv.setTransfer(lc, p); old != nil {
		old.timer.Stop()
	}
	if !warm {
		lc.call.AwaitAgent(true)
		for _, l := range liveLegs(lc.legsOf(p.from)) {
			if _, beside := lc.call.Mode(l); !beside {
				l.Hangup(voice.ReasonUserHangup)
			}
		}
	}
	m.whenJoined(lc, agent, func() { m.dialTransfer(lc, agent, warm, by) })
}

func liveLegs(legs []*voice.Leg) []*voice.Leg {
	out := legs[:0:0]
	for _, l := range legs {
		if l.State() != voice.LegEnded {
			out = append(out, l)
		}
	}
	return out
}

// transferOnEvent follows the pending transfer's new agent: answered, it is done;
// their leg ending unanswered fails it.
func (m *callManager) transferOnEvent(lc *liveCall, ev voice.Event) {
	p := m.sv.transfer(lc)
	if p == nil {
		return
	}
	switch ev.Kind {
	case voice.EventAnswered:
		if lc.agentOf(ev.Leg) == p.agent {
			m.sv.endTransfer(lc, p)
		}
	case voice.EventLegEnded:
		if ev.Leg != nil && lc.agentOf(ev.Leg) == p.agent && len(liveLegs(lc.legsOf(p.agent))) == 0 {
			outcome := "hung up"
			switch {
			case ev.Rejected:
				outcome = "declined"
			case ev.Reason == voice.ReasonInviteTimeout:
				outcome = "did not answer"
			}
			m.transferFailed(lc, p, outcome)
		}
	case voice.EventCallEnded:
		m.sv.endTransfer(lc, p)
	}
}

// transferTimedOut fails a transfer whose agent did not join or answer in time.
func (m *callManager) transferTimedOut(lc *liveCall, p *pendingTransfer) {
	if m.sv.transfer(lc) != p {
		return
	}
	legs := liveLegs(lc.legsOf(p.agent))
	for _, l := range legs {
		// Its end fails the transfer (transferOnEvent).
		l.Hangup(voice.ReasonInviteTimeout)
	}
	if len(legs) == 0 {
		m.transferFailed(lc, p, "did not join the conversation")
	}
}

// transferFailed ends a transfer nobody took: the agent still bridged goes on;
// with none (a cold transfer), the customer is told and the call ends.
func (m *callManager) transferFailed(lc *liveCall, p *pendingTransfer, outcome string) {
	if !m.sv.endTransfer(lc, p) {
		return
	}
	lc.call.AwaitAgent(false)
	m.releaseAgent(p.agent, lc)
	t := lc.t
	m.audit(lc, p.agent, "transfer_failed", p.by)
	if lc.call.State() == voice.CallEnded {
		return
	}
	if lc.call.Agent() != nil {
		m.sideNotice(lc, "transfer-failed|"+p.agent.String(), fmt.Sprintf("📞 %s %s: the call stays with %s.",
			t.staffName(p.agent), outcome, t.staffName(lc.agentOf(lc.call.Agent()))))
		return
	}
	m.sideNotice(lc, "transfer-failed|"+p.agent.String(), fmt.Sprintf("📞 %s %s: the call ended and the customer was offered a callback.",
		t.staffName(p.agent), outcome))
	m.log.Info().Int64("call", lc.rowID).Str("outcome", outcome).Msg("Transfer failed; ending the call")
	m.nobody(lc)
}

// dialTransfer rings the agent a call is transferred to (the call's actor). On
// answer the relay bridges them; the first agent's leg has ended (cold) or stays
// beside the call (warm).
func (m *callManager) dialTransfer(lc *liveCall, agent id.UserID, warm bool, by id.UserID) {
	p := m.sv.transfer(lc)
	if p == nil || p.agent != agent || len(liveLegs(lc.legsOf(agent))) > 0 || lc.call.State() == voice.CallEnded {
		return
	}
	leg, err := lc.call.DialAgent(m.ctx, voice.LegOptions{Send: m.sender(lc.desk, lc.ghost), Invitee: agent.String(), Warm: warm, ExtraStreams: 1})
	if err != nil {
		m.log.Warn().Err(err).Int64("call", lc.rowID).Msg("Could not ring the agent of a transfer")
		m.transferFailed(lc, p, "could not be rung")
		return
	}
	m.claimAgent(agent, lc)
	lc.addLeg(leg, agent)
	err = m.b.DB.Calls().AddLeg(m.ctx, &database.CallLeg{Call: lc.rowID, DeskRoom: lc.desk, Agent: agent,
		LegCallID: leg.CallID(), PartyID: leg.PartyID(), RangAt: m.b.now()})
	if err != nil {
		m.log.Warn().Err(err).Msg("Could not record a call leg")
	}
	mode := "transfer"
	if warm {
		mode = "transfer_warm"
	}
	m.audit(lc, agent, mode, by)
}
