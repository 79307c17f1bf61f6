package voice

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// CallOptions are given to Engine.NewCall.
type CallOptions struct {
	// ID is the caller's reference for the call (logs and stats).
	ID string
	// OnEvent is told of each event, from the relay's goroutines, with no lock
	// held: it may call the call's methods, and should not block for long.
	OnEvent func(Event)
}

// ErrCallState is returned when an operation does not fit the call's state.
var ErrCallState = errors.New("voice: operation not valid in the call's state")

// ErrGlareLost is returned by AgentInvite when the relay's own ringing invite
// wins the glare: the agent's client drops its invite by the same rule.
var ErrGlareLost = errors.New("voice: glare: the relay's invite wins")

// Call relays one customer leg to at most one agent leg at a time.
type Call struct {
	e       *Engine
	id      string
	onEvent func(Event)
	log     zerolog.Logger
	created time.Time
	done    chan struct{}

	rec       atomic.Pointer[recording]
	mainAgent atomic.Pointer[Leg] // c.agent, for the media path
	routeMu   sync.Mutex          // one reroute at a time

	mu         sync.Mutex
	state      CallState
	customer   *Leg
	agent      *Leg
	agents     []*Leg
	extras     []*Leg        // legs placed by DialSupervisor
	modes      map[*Leg]Mode // every leg beside the call, with its mode
	lastRec    RecordingStats
	stopPrompt context.CancelFunc
	setupAt    time.Time
	bridgedAt  time.Time
	endedAt    time.Time
	endReason  HangupReason
	hangReason HangupReason // set by Hangup: every leg gets it
	finishing  bool
	awaiting   bool // another agent is on the way (AwaitAgent)
}

// ID is the caller's reference of the call.
func (c *Call) ID() string { return c.id }

// State is the call's state now.
func (c *Call) State() CallState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// Done is closed when the call ended and all its legs released their resources.
func (c *Call) Done() <-chan struct{} { return c.done }

// Customer is the customer leg, nil before AcceptCustomer.
func (c *Call) Customer() *Leg {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.customer
}

// Agent is the agent leg bridged now, if any.
func (c *Call) Agent() *Leg {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.agent
}

func (c *Call) emit(ev Event) {
	ev.Call = c
	if c.onEvent != nil {
		c.onEvent(ev)
	}
}

// AcceptCustomer takes the customer's invite. The leg rings until an agent
// answers (it is then answered) or AnswerCustomer is called.
func (c *Call) AcceptCustomer(ctx context.Context, inv *Invite, opts LegOptions) (*Leg, error) {
	c.mu.Lock()
	if c.customer != nil || c.state == CallEnded {
		c.mu.Unlock()
		return nil, ErrCallState
	}
	l, err := c.newLeg(RoleCustomer, opts, false)
	if err != nil {
		c.mu.Unlock()
		return nil, err
	}
	c.customer = l
	c.mu.Unlock()
	if err := l.accept(inv); err != nil {
		l.end(ReasonUnknownError, "local", true)
		return nil, err
	}
	return l, nil
}

// AnswerCustomer answers the customer now, before any agent, and plays the hold
// prompt to them until an agent is bridged.
func (c *Call) AnswerCustomer(ctx context.Context) error {
	c.mu.Lock()
	cust, bridged := c.customer, c.agent != nil
	c.mu.Unlock()
	if cust == nil {
		return ErrCallState
	}
	if err := cust.answer(); err != nil {
		return err
	}
	if !bridged {
		c.startPrompt()
	}
	return nil
}

// DialAgent rings an agent: the relay places an invite with opts.Invitee. The
// first agent leg to answer is bridged; a bridged agent leg is replaced (and
// hung up) when another answers, which is how a call moves from agent A to B.
func (c *Call) DialAgent(ctx context.Context, opts LegOptions) (*Leg, error) {
	c.mu.Lock()
	if c.state == CallEnded {
		c.mu.Unlock()
		return nil, ErrCallState
	}
	video := c.customer != nil && c.customer.out[kindVideo].Load() != nil
	if opts.Video != nil {
		video = *opts.Video
	}
	l, err := c.newLeg(RoleAgent, opts, true)
	if err != nil {
		c.mu.Unlock()
		return nil, err
	}
	c.agents = append(c.agents, l)
	c.mu.Unlock()
	l.sigMu.Lock()
	err = l.dial(video)
	l.sigMu.Unlock()
	if err != nil {
		l.end(ReasonUnknownError, "local", false)
		return nil, err
	}
	return l, nil
}

// AgentInvite takes an invite the agent placed to the relay in the desk room
// (the agent calling the customer's ghost). If the relay's own invite to that
// room is ringing, glare: the lesser call_id wins on both sides. When the
// agent's wins, the relay drops its invite without a hangup (as matrix-js-sdk
// does) and answers the agent's; otherwise ErrGlareLost and nothing is sent.
func (c *Call) AgentInvite(ctx context.Context, inv *Invite, opts LegOptions) (*Leg, error) {
	c.mu.Lock()
	if c.state == CallEnded {
		c.mu.Unlock()
		return nil, ErrCallState
	}
	var losers []*Leg
	for _, a := range c.agents {
		if a.outbound && a.State() == LegRinging && (opts.Invitee == "" || a.invitee == opts.Invitee) {
			if inv.CallID > a.callID {
				c.mu.Unlock()
				return nil, ErrGlareLost
			}
			losers = append(losers, a)
		}
	}
	l, err := c.newLeg(RoleAgent, opts, false)
	if err != nil {
		c.mu.Unlock()
		return nil, err
	}
	c.agents = append(c.agents, l)
	c.mu.Unlock()
	for _, a := range losers {
		a.end(ReasonUserHangup, "local", false)
	}
	if err := l.accept(inv); err != nil {
		l.end(ReasonUnknownError, "local", true)
		return nil, err
	}
	if err := l.answer(); err != nil {
		l.end(ReasonUnknownError, "local", true)
		return nil, err
	}
	c.onAnswered(l)
	return l, nil
}

// Hangup ends the call: every leg is hung up with reason.
func (c *Call) Hangup(reason HangupReason) {
	if !reason.Valid() {
		reason = ReasonUnknownError
	}
	c.mu.Lock()
	if c.hangReason == "" {
		c.hangReason = reason
	}
	legs := append(append([]*Leg{}, c.agents...), c.extras...)
	if c.customer != nil {
		legs = append([]*Leg{c.customer}, legs...)
	}
	c.mu.Unlock()
	for _, l := range legs {
		l.Hangup(reason)
	}
	c.finish(reason)
}

// bridge connects the customer leg and an agent leg both ways: video here,
// audio by the mode table (reroute).
func (c *Call) bridge(cust, agent *Leg) {
	cust.peer.Store(agent)
	agent.peer.Store(cust)
	if o := cust.out[kindVideo].Load(); o != nil {
		o.setFeeder(agent.id)
	}
	if o := agent.out[kindVideo].Load(); o != nil {
		o.setFeeder(cust.id)
	}
	c.mainAgent.Store(agent)
	c.reroute()
}

// onAnswered bridges an agent leg that answered (or that the relay answered).
func (c *Call) onAnswered(l *Leg) {
	if c.isBeside(l) {
		c.onBesideAnswered(l)
		return
	}
	if l.role != RoleAgent {
		return
	}
	c.mu.Lock()
	if c.state == CallEnded || c.customer == nil {
		c.mu.Unlock()
		l.Hangup(ReasonUserHangup)
		return
	}
	old, cust := c.agent, c.customer
	var others []*Leg
	for _, a := range c.agents {
		if a != l && a != old && a.State() == LegRinging {
			others = append(others, a)
		}
	}
	c.agent = l
	c.state = CallAnswered
	c.awaiting = false
	keepOld := old != nil && l.warm && old.State() != LegEnded
	if keepOld {
		// A warm transfer: the previous agent stays as a full participant.
		c.modes[old] = ModeBarge
	}
	if c.bridgedAt.IsZero() {
		c.bridgedAt = time.Now()
	}
	if c.stopPrompt != nil {
		c.stopPrompt()
		c.stopPrompt = nil
	}
	c.mu.Unlock()
	if old != nil {
		old.peer.Store(nil)
	}
	c.bridge(cust, l)
	if old != nil && !keepOld {
		old.Hangup(ReasonUserHangup)
	}
	for _, a := range others {
		a.Hangup(ReasonUserHangup)
	}
	if cust.State() == LegRinging {
		if err := cust.answer(); err != nil && !errors.Is(err, ErrLegState) {
			c.log.Warn().Err(err).Msg("answering the customer failed")
			cust.Hangup(ReasonUnknownError)
			return
		}
	}
	c.log.Debug().Str("agent_call_id", l.callID).Msg("agent bridged")
	c.emit(Event{Kind: EventAnswered, Leg: l})
	c.checkSetup()
}

func (c *Call) onLegConnected(l *Leg) {
	c.emit(Event{Kind: EventLegConnected, Leg: l})
	c.checkSetup()
}

// checkSetup records the call's setup time once the customer and the bridged
// agent both have media.
func (c *Call) checkSetup() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.setupAt.IsZero() || c.customer == nil || c.agent == nil {
		return
	}
	if c.customer.State() == LegConnected && c.agent.State() == LegConnected {
		c.setupAt = time.Now()
	}
}

// onVideoAdded offers video to the other side when a party added a camera.
func (c *Call) onVideoAdded(l *Leg) {
	if peer := l.peer.Load(); peer != nil {
		c.e.spawn(func() {
			if err := peer.offerVideo(); err != nil {
				c.log.Warn().Err(err).Msg("offering video failed")
			}
		})
	}
}

func (c *Call) onLegEnded(l *Leg) {
	st := l.Stats()
	l.mu.Lock()
	ev := Event{Kind: EventLegEnded, Leg: l, Reason: st.EndReason, Remote: st.EndedBy == "remote", Rejected: l.rejected}
	l.mu.Unlock()
	var hang []*Leg
	var promoted *Leg
	endCall, toPrompt := false, false
	c.mu.Lock()
	cust := c.customer
	_, beside := c.modes[l]
	delete(c.modes, l)
	switch {
	case l == cust:
		endCall = true
		hang = append(append(hang, c.agents...), c.extras...)
	case beside:
		// A leg beside the call never disturbs it.
	case l == c.agent:
		c.agent = nil
		ringing := false
		for _, a := range c.agents {
			ringing = ringing || (a != l && a.State() == LegRinging)
		}
		promoted = c.promoteLocked()
		if promoted != nil {
			c.agent = promoted
			delete(c.modes, promoted)
		} else if ringing || c.awaiting {
			// The agent left during a transfer: the customer waits for the next
			// one, hearing the prompt.
			c.state = CallRinging
			toPrompt = true
		} else {
			endCall = true
			if cust != nil {
				hang = append(hang, cust)
			}
			hang = append(hang, c.extras...)
		}
	}
	other := ReasonUserHangup
	if c.hangReason != "" {
		other = c.hangReason
	}
	c.mu.Unlock()
	if c.mainAgent.Load() == l {
		c.mainAgent.Store(nil)
	}
	if toPrompt {
		l.peer.Store(nil)
		cust.peer.Store(nil)
		if cust.State() != LegRinging {
			c.startPrompt()
		}
	}
	if promoted != nil {
		c.bridge(cust, promoted)
	} else if !endCall {
		c.reroute()
	}
	c.emit(ev)
	for _, h := range hang {
		h.Hangup(other)
	}
	if endCall {
		c.finish(st.EndReason)
	}
}

// finish marks the call ended once, reports it and releases it when every leg
// is done.
func (c *Call) finish(reason HangupReason) {
	c.mu.Lock()
	if c.finishing {
		c.mu.Unlock()
		return
	}
	c.finishing = true
	c.state = CallEnded
	c.endedAt = time.Now()
	c.endReason = reason
	if c.stopPrompt != nil {
		c.stopPrompt()
		c.stopPrompt = nil
	}
	legs := append(append([]*Leg{}, c.agents...), c.extras...)
	if c.customer != nil {
		legs = append(legs, c.customer)
	}
	c.mu.Unlock()
	c.stopRecording()
	c.emit(Event{Kind: EventCallEnded, Reason: reason})
	c.e.spawn(func() {
		for _, l := range legs {
			<-l.done
		}
		c.e.forget(c)
		close(c.done)
	})
}

// Stats returns the call's figures now.
func (c *Call) Stats() CallStats {
	c.mu.Lock()
	s := CallStats{ID: c.id, State: c.state, EndReason: c.endReason}
	if !c.setupAt.IsZero() {
		s.SetupTime = c.setupAt.Sub(c.created)
	}
	if !c.bridgedAt.IsZero() {
		end := c.endedAt
		if end.IsZero() {
			end = time.Now()
		}
		s.Duration = end.Sub(c.bridgedAt)
	}
	cust, agents, extras := c.customer, append([]*Leg{}, c.agents...), append([]*Leg{}, c.extras...)
	c.mu.Unlock()
	for _, l := range extras {
		s.Beside = append(s.Beside, l.Stats())
	}
	if cust != nil {
		cs := cust.Stats()
		s.Customer = &cs
	}
	for _, a := range agents {
		s.Agents = append(s.Agents, a.Stats())
	}
	return s
}
