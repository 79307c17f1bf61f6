package bridge

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/voice"
)

// liveCall is one call in progress: the relay's call, its conversation's rooms, and
// who was rung. Fields below mu are shared with the inbox handlers; the rest belong
// to the call's actor.
type liveCall struct {
	m              *callManager
	t              *Tenant
	rowID          int64
	convID         int64
	openedAt       time.Time
	customerRoom   id.RoomID
	customerUser   id.UserID
	customerCallID string
	customerName   string
	desk, side     id.RoomID
	ghost          id.UserID
	call           *voice.Call
	started        time.Time

	// The actor's queue, and its end.
	work chan func()
	quit chan struct{}

	// Owned by the actor.
	tried      []id.UserID
	before     map[id.UserID]bool // the agents who served the conversation when the call came
	forCall    map[id.UserID]bool // the agents the call made serve it, until they answer
	ringing    id.UserID          // the agent rung now ("" between agents)
	ringGen    int                // which ring a timeout belongs to
	ringTimer  *time.Timer
	answeredBy id.UserID
	gaveUp     bool // nobody could take the call: the customer was told
	custRemote bool // the customer hung up (or rejected) themselves

	mu       sync.Mutex
	customer *voice.Leg
	agents   map[*voice.Leg]id.UserID
}

// push runs f on the call's actor; dropped once the call is over.
func (lc *liveCall) push(f func()) {
	select {
	case lc.work <- f:
	case <-lc.quit:
	}
}

func (lc *liveCall) customerLeg() *voice.Leg {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	return lc.customer
}

// agentLegs are the legs to agents, live or ended.
func (lc *liveCall) agentLegs() []*voice.Leg {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	out := make([]*voice.Leg, 0, len(lc.agents))
	for l := range lc.agents {
		out = append(out, l)
	}
	return out
}

// legsOf are the legs to one agent.
func (lc *liveCall) legsOf(agent id.UserID) []*voice.Leg {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	var out []*voice.Leg
	for l, a := range lc.agents {
		if a == agent {
			out = append(out, l)
		}
	}
	return out
}

func (lc *liveCall) agentOf(l *voice.Leg) id.UserID {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	return lc.agents[l]
}

func (lc *liveCall) addLeg(l *voice.Leg, agent id.UserID) {
	lc.mu.Lock()
	lc.agents[l] = agent
	lc.mu.Unlock()
}

func (m *callManager) byCustomerRoom(room id.RoomID) *liveCall {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.byCustomer[room]
}

func (m *callManager) byDeskRoom(room id.RoomID) *liveCall {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.byDesk[room]
}

// start takes the customer's call (recorded by now) and rings the first agent.
func (m *callManager) start(t *Tenant, conv *database.Conversation, row *database.Call, inv *voice.Invite, remaining time.Duration) {
	lc := &liveCall{m: m, t: t, rowID: row.ID, convID: conv.ID, openedAt: conv.OpenedAt, customerRoom: conv.RoomID,
		customerUser: conv.Customer, customerCallID: inv.CallID, customerName: t.customerName(conv.Customer),
		desk: conv.DeskRoom, side: conv.SideRoom, ghost: conv.Ghost, started: row.StartedAt,
		work: make(chan func(), 64), quit: make(chan struct{}), agents: map[*voice.Leg]id.UserID{},
		before: map[id.UserID]bool{}, forCall: map[id.UserID]bool{}}
	if lc.customerUser == "" {
		if room, err := m.b.DB.CustomerRoom.Get(m.ctx, conv.RoomID); err == nil && room != nil {
			lc.customerUser = room.Customer
			lc.customerName = t.customerName(room.Customer)
		}
	}
	m.mu.Lock()
	if m.byCustomer[lc.customerRoom] != nil || m.byDesk[lc.desk] != nil {
		m.mu.Unlock()
		return
	}
	m.byCustomer[lc.customerRoom], m.byDesk[lc.desk] = lc, lc
	m.mu.Unlock()
	log := m.log.With().Int64("call", lc.rowID).Int64("conversation", lc.convID).Logger()
	call, err := m.eng.NewCall(voice.CallOptions{ID: fmt.Sprint(lc.rowID), OnEvent: func(ev voice.Event) {
		lc.push(func() { m.onVoiceEvent(lc, ev) })
	}})
	if err != nil {
		log.Warn().Err(err).Msg("Could not start a call")
		m.forget(lc)
		return
	}
	lc.call = call
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		lc.run()
	}()
	lc.push(func() {
		cust, err := call.AcceptCustomer(m.ctx, inv, voice.LegOptions{Send: m.sender(lc.customerRoom, t.UserID), Lifetime: remaining})
		if err != nil {
			log.Warn().Err(err).Msg("Could not take the customer's call")
			call.Hangup(voice.ReasonUnknownError)
			return
		}
		lc.mu.Lock()
		lc.customer = cust
		lc.mu.Unlock()
		if err := m.b.DB.Calls().SetCustomerParty(m.ctx, lc.rowID, cust.PartyID()); err != nil {
			log.Warn().Err(err).Msg("Could not record the call's party")
		}
		if t.HoldPrompt {
			// The caller waits answered, hearing the prompt, instead of ringing.
			if err := call.AnswerCustomer(m.ctx); err != nil {
				log.Warn().Err(err).Msg("Could not answer the caller for the hold prompt")
			}
		}
		if before, err := m.servingAgents(m.ctx, lc.convID); err == nil {
			lc.before = before
		} else {
			log.Warn().Err(err).Msg("Could not read who serves the conversation")
		}
		log.Info().Msg("Call from a customer")
		m.recordingOnStart(lc)
		m.ringNext(lc)
	})
}

// run is the call's actor: it ends when the call has ended and been recorded.
func (lc *liveCall) run() {
	for {
		select {
		case f := <-lc.work:
			f()
		case <-lc.quit:
			return
		}
	}
}

func (m *callManager) forget(lc *liveCall) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.byCustomer[lc.customerRoom] == lc {
		delete(m.byCustomer, lc.customerRoom)
	}
	if m.byDesk[lc.desk] == lc {
		delete(m.byDesk, lc.desk)
	}
	for a, c := range m.onCall {
		if c == lc {
			delete(m.onCall, a)
		}
	}
}

// busyElsewhere tells whether the agent rings or talks in another call.
func (m *callManager) busyElsewhere(agent id.UserID, lc *liveCall) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.onCall[agent]
	return c != nil && c != lc
}

// claimAgent marks the agent as rung by lc, unless another call has them.
func (m *callManager) claimAgent(agent id.UserID, lc *liveCall) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c := m.onCall[agent]; c != nil && c != lc {
		return false
	}
	m.onCall[agent] = lc
	return true
}

func (m *callManager) releaseAgent(agent id.UserID, lc *liveCall) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.onCall[agent] == lc {
		delete(m.onCall, agent)
	}
}

// ringNext rings the next agent: one already serving the conversation, else the
// one the tenant's workflow picks (assigned to the conversation, as a voice task is
// routed). Agents who take no calls, are on another call, or were rung already are
// passed over. With nobody left the caller is told and the call ends.
func (m *callManager) ringNext(lc *liveCall) {
	if lc.answeredBy != "" || lc.gaveUp || lc.call.State() == voice.CallEnded {
		return
	}
	agent, err := m.chooseAgent(m.ctx, lc)
	if err != nil {
		m.log.Warn().Err(err).Int64("call", lc.rowID).Msg("Could not choose an agent for a call")
	}
	if agent == "" {
		m.nobody(lc)
		return
	}
	lc.tried = append(lc.tried, agent)
	lc.ringing = agent
	lc.ringGen++
	gen := lc.ringGen
	if lc.ringTimer != nil {
		lc.ringTimer.Stop()
	}
	lc.ringTimer = time.AfterFunc(m.ring, func() { lc.push(func() { m.ringTimedOut(lc, gen) }) })
	m.sideNotice(lc, "ringing|"+agent.String(), bot.CallRinging(lc.customerName, lc.t.staffName(agent)))
	if membership, err := m.b.StateStore.GetMembership(m.ctx, lc.desk, agent); err == nil && membership == event.MembershipJoin {
		m.dial(lc, agent)
	}
	// Otherwise the agent was just invited: the call rings when they join.
}

// agentJoined dials an agent the call waits for once they are in the desk room.
func (m *callManager) agentJoined(lc *liveCall, agent id.UserID) {
	if lc.ringing == agent && len(lc.legsOf(agent)) == 0 && lc.answeredBy == "" {
		m.dial(lc, agent)
	}
}

// dial places the relay's call to the agent, from the customer's ghost.
func (m *callManager) dial(lc *liveCall, agent id.UserID) {
	leg, err := lc.call.DialAgent(m.ctx, voice.LegOptions{Send: m.sender(lc.desk, lc.ghost), Invitee: agent.String()})
	if err != nil {
		m.log.Warn().Err(err).Int64("call", lc.rowID).Msg("Could not ring an agent")
		m.moveOn(lc, agent)
		return
	}
	lc.addLeg(leg, agent)
	err = m.b.DB.Calls().AddLeg(m.ctx, &database.CallLeg{Call: lc.rowID, DeskRoom: lc.desk, Agent: agent,
		LegCallID: leg.CallID(), PartyID: leg.PartyID(), RangAt: m.b.now()})
	if err != nil {
		m.log.Warn().Err(err).Msg("Could not record a call leg")
	}
}

// agentInvite takes the agent's own invite in the desk room: while the relay rings
// them, the lesser call ID wins (glare); otherwise there is no call to take.
func (m *callManager) agentInvite(lc *liveCall, agent id.UserID, inv *voice.Invite) {
	if lc.ringing != agent || lc.answeredBy != "" {
		return
	}
	leg, err := lc.call.AgentInvite(m.ctx, inv, voice.LegOptions{Send: m.sender(lc.desk, lc.ghost), Invitee: agent.String()})
	if errors.Is(err, voice.ErrGlareLost) || err != nil {
		return
	}
	lc.addLeg(leg, agent)
	_ = m.b.DB.Calls().AddLeg(m.ctx, &database.CallLeg{Call: lc.rowID, DeskRoom: lc.desk, Agent: agent,
		LegCallID: leg.CallID(), PartyID: leg.PartyID(), RangAt: m.b.now()})
}

// ringTimedOut passes the call on from an agent who did not answer in time
// (redirect on no answer), which counts as a missed offer: their leg ends with
// invite_timeout, and its end rings the next agent; one who never joined the desk
// room is passed over at once.
func (m *callManager) ringTimedOut(lc *liveCall, gen int) {
	if gen != lc.ringGen || lc.answeredBy != "" || lc.ringing == "" {
		return
	}
	agent := lc.ringing
	m.sideNotice(lc, "rona|"+agent.String(), fmt.Sprintf("📞 %s did not answer within %s.", lc.t.staffName(agent), m.ring))
	m.missedRing(lc, agent)
	legs := lc.legsOf(agent)
	if len(legs) == 0 {
		m.moveOn(lc, agent)
		return
	}
	for _, l := range legs {
		l.Hangup(voice.ReasonInviteTimeout)
	}
}

// chooseAgent picks the next agent to ring, assigning the conversation to one the
// workflow picks.
func (m *callManager) chooseAgent(ctx context.Context, lc *liveCall) (id.UserID, error) {
	b, t := m.b, lc.t
	conv, err := b.DB.Conversation.Get(ctx, lc.convID)
	if err != nil || conv == nil || conv.Status == database.StatusClosed {
		return "", err
	}
	skip := map[id.UserID]bool{}
	for _, a := range lc.tried {
		skip[a] = true
	}
	// Who passed on the conversation (or was passed over for it) is not rung for it.
	declined, err := b.DB.Participants.Declined(ctx, t.ID)
	if err != nil {
		return "", err
	}
	for _, a := range declined[conv.ID] {
		skip[a] = true
	}
	for _, s := range t.Staff {
		if !s.TakesCalls() || m.busyElsewhere(id.UserID(s.UserID), lc) {
			skip[id.UserID(s.UserID)] = true
		}
	}
	participants, err := b.DB.Participants.Current(ctx, conv.ID)
	if err != nil {
		return "", err
	}
	// The agents who serve the conversation already come first.
	for _, p := range participants {
		if p.Role == database.RoleAgent && !skip[p.UserID] && t.staffEntry(p.UserID) != nil && m.claimAgent(p.UserID, lc) {
			return p.UserID, nil
		}
		skip[p.UserID] = true
	}
	// A conversation offered to an agent (routing saw it first) goes to them.
	if conv.Status == database.StatusOffered && !skip[conv.OfferedTo] && m.claimAgent(conv.OfferedTo, lc) {
		won, err := m.acceptForCall(ctx, lc, conv.OfferedTo)
		if won {
			lc.broughtIn(conv.OfferedTo)
		}
		if err != nil || won {
			return conv.OfferedTo, err
		}
		m.releaseAgent(conv.OfferedTo, lc)
	}
	skip[conv.OfferedTo] = true
	task := taskOf(conv)
	now := b.now()
	first, _ := t.router.StepFor(task, now.Sub(conv.OpenedAt))
	steps := len(t.router.Workflow().Steps)
	for step := first; step < max(steps, first+1); step++ {
		for range 5 {
			except := make([]string, 0, len(skip))
			for a := range skip {
				except = append(except, a.String())
			}
			decision, ok := t.router.SelectExcept(task, step, now, except)
			if !ok {
				break
			}
			agent := id.UserID(decision.UserID)
			skip[agent] = true
			if !m.claimAgent(agent, lc) {
				continue
			}
			won, err := m.assignForCall(ctx, lc, agent, decision.Explanation)
			if err != nil {
				m.releaseAgent(agent, lc)
				return "", err
			}
			if won {
				lc.broughtIn(agent)
				return agent, nil
			}
			m.releaseAgent(agent, lc)
		}
	}
	return "", nil
}

// nobody ends a call no agent can take: the caller is told (the tenant's message)
// and hung up; the conversation goes on as a chat.
func (m *callManager) nobody(lc *liveCall) {
	lc.gaveUp = true
	reason := voice.ReasonUserBusy
	if len(lc.tried) > 0 {
		reason = voice.ReasonInviteTimeout
	}
	err := m.b.DB.Outbox.Enqueue(m.ctx, outboxKey("call-nobody", lc.rowID), lc.customerRoom, lc.t.UserID,
		event.EventMessage, bot.Notice(lc.t.CallNoAgent()), m.b.now())
	if err != nil {
		m.log.Warn().Err(err).Msg("Could not tell the caller nobody can answer")
	}
	m.b.outbox.Wake()
	m.b.offerCallbackNow(m.ctx, lc.t, lc.customerRoom, "call", lc.rowID)
	lc.call.Hangup(reason)
	// The chat goes on: routing may offer it now (to agents who do not take calls too).
	if err := m.b.offerWaiting(m.ctx, lc.t); err != nil {
		m.log.Warn().Err(err).Msg("Could not route the conversation of a call nobody took")
	}
}

// sideNotice queues a notice in the call's side room, outside any transaction.
func (m *callManager) sideNotice(lc *liveCall, key, markdown string) {
	err := m.b.DB.Outbox.Enqueue(m.ctx, outboxKey("call-side", lc.rowID, key, m.b.now().UnixNano()), lc.side, lc.t.UserID,
		event.EventMessage, bot.Notice(markdown), m.b.now())
	if err != nil {
		m.log.Warn().Err(err).Msg("Could not queue a side-room notice")
		return
	}
	m.b.outbox.Wake()
}
