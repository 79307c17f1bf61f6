package voice

import (
	"context"
	"time"
)

// Legs beside the call: supervisors who listen, whisper or barge, conference
// participants (an agent added in barge mode) and a warm transfer's previous
// agent. Nothing is mixed: each leg gets one outgoing audio stream per party it
// hears (the client plays every stream of a call), and the mode table (mode.go)
// decides which streams carry whom. A mode switch only changes that forwarding.

// DialSupervisor rings a leg beside the call: the relay places an invite with
// opts.Invitee (a supervisor in their control room, or an agent added to the
// call). Once answered it hears the customer and the agent; who hears it
// follows mode. Its end never ends the call.
func (c *Call) DialSupervisor(ctx context.Context, opts LegOptions, role Role, mode Mode) (*Leg, error) {
	if role == RoleCustomer {
		role = RoleSupervisor
	}
	c.mu.Lock()
	if c.state == CallEnded || c.customer == nil {
		c.mu.Unlock()
		return nil, ErrCallState
	}
	if opts.ExtraStreams <= 0 {
		// The agent's stream beside the customer's main one.
		opts.ExtraStreams = 1
	}
	f := false
	opts.Video = &f
	l, err := c.newLeg(role, opts, true)
	if err != nil {
		c.mu.Unlock()
		return nil, err
	}
	c.extras = append(c.extras, l)
	c.modes[l] = mode
	c.mu.Unlock()
	l.sigMu.Lock()
	err = l.dial(false)
	l.sigMu.Unlock()
	if err != nil {
		l.end(ReasonUnknownError, "local", false)
		return nil, err
	}
	return l, nil
}

// SetMode switches a leg beside the call to mode; only forwarding changes
// (streams the new mode needs and the leg's party lacks are negotiated).
func (c *Call) SetMode(l *Leg, mode Mode) error {
	c.mu.Lock()
	if _, ok := c.modes[l]; !ok || c.state == CallEnded {
		c.mu.Unlock()
		return ErrCallState
	}
	c.modes[l] = mode
	c.mu.Unlock()
	c.reroute()
	return nil
}

// Mode is the mode of a leg beside the call; ok is false for the customer, the
// bridged agent, or a leg of another call.
func (c *Call) Mode(l *Leg) (mode Mode, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	mode, ok = c.modes[l]
	return mode, ok
}

// Beside lists the live legs beside the call.
func (c *Call) Beside() []*Leg {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*Leg
	for l := range c.modes {
		if l.State() != LegEnded {
			out = append(out, l)
		}
	}
	return out
}

func (c *Call) isBeside(l *Leg) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.modes[l]
	return ok
}

// onBesideAnswered takes a leg beside the call into the forwarding.
func (c *Call) onBesideAnswered(l *Leg) {
	c.reroute()
	c.emit(Event{Kind: EventBesideAnswered, Leg: l})
}

// party is one leg as the mode table sees it.
type party struct {
	leg  *Leg
	pos  Position
	mode Mode
}

// parties are the legs in the forwarding now, in a stable order: customer,
// agent, then the legs beside the call in the order they joined.
func (c *Call) parties() []party {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ps []party
	live := func(l *Leg) bool {
		s := l.State()
		return s == LegAnswered || s == LegConnected || (l == c.customer && s == LegRinging)
	}
	if c.customer != nil && live(c.customer) {
		ps = append(ps, party{leg: c.customer, pos: PosCustomer})
	}
	if c.agent != nil && live(c.agent) {
		ps = append(ps, party{leg: c.agent, pos: PosAgent})
	}
	for _, l := range append(append([]*Leg{}, c.agents...), c.extras...) {
		if m, ok := c.modes[l]; ok && l != c.agent && live(l) {
			ps = append(ps, party{leg: l, pos: PosBeside, mode: m})
		}
	}
	return ps
}

// primary is whom a position hears on its main stream: the agent for the
// customer (the hold prompt when none is bridged), the customer for the others.
func primary(pos Position) Position {
	if pos == PosCustomer {
		return PosAgent
	}
	return PosCustomer
}

// reroute applies the mode table: each party's audio goes to one stream of
// every party that hears it. A party keeps the stream a speaker had on it; a
// party lacking streams gets more by m.call.negotiate, and reroute runs again.
func (c *Call) reroute() {
	c.routeMu.Lock()
	defer c.routeMu.Unlock()
	ps := c.parties()
	routes := map[uint64][]*output{}
	for _, lis := range ps {
		main := lis.leg.out[kindAudio].Load()
		if main == nil {
			continue
		}
		var others []uint64
		for _, sp := range ps {
			if sp.leg == lis.leg || !Hears(lis.pos, sp.pos, sp.mode) {
				continue
			}
			if sp.pos == primary(lis.pos) {
				main.setFeeder(sp.leg.id)
				routes[sp.leg.id] = append(routes[sp.leg.id], main)
				continue
			}
			others = append(others, sp.leg.id)
		}
		placed, missing := lis.leg.assignExtra(others)
		for id, o := range placed {
			routes[id] = append(routes[id], o)
		}
		if missing > 0 {
			lis.leg.grow(missing)
		}
	}
	for _, sp := range ps {
		r := routes[sp.leg.id]
		sp.leg.routes.Store(&r)
	}
}

// assignExtra puts the speakers on the leg's extra streams: a speaker keeps the
// stream it has, the others take free ones, streams left over fall silent. It
// returns the streams by speaker and how many speakers found none.
func (l *Leg) assignExtra(speakers []uint64) (placed map[uint64]*output, missing int) {
	placed = map[uint64]*output{}
	extras := l.extraOutputs()
	want := map[uint64]bool{}
	for _, s := range speakers {
		want[s] = true
	}
	var free []*output
	for _, o := range extras {
		if f := o.currentFeeder(); f != 0 && want[f] && placed[f] == nil {
			placed[f] = o
			continue
		}
		free = append(free, o)
	}
	for _, s := range speakers {
		if placed[s] != nil {
			continue
		}
		if len(free) == 0 {
			missing++
			continue
		}
		placed[s], free = free[0], free[1:]
		placed[s].setFeeder(s)
	}
	for _, o := range free {
		o.setFeeder(0)
	}
	return placed, missing
}

func (l *Leg) extraOutputs() []*output {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]*output{}, l.extra...)
}

// growRetry is how soon adding streams is tried again while the leg's
// signalling is busy (an offer in flight, the call not answered yet).
const growRetry = 200 * time.Millisecond

// grow adds n audio streams toward the leg's party with m.call.negotiate, in the
// background, then reroutes.
func (l *Leg) grow(n int) {
	l.mu.Lock()
	if l.growing || l.state == LegEnded {
		l.mu.Unlock()
		return
	}
	l.growing = true
	l.mu.Unlock()
	l.e.spawn(func() {
		err := l.addStreams(n)
		l.mu.Lock()
		l.growing = false
		l.mu.Unlock()
		switch {
		case err == errBusy:
			l.after(growRetry, l.call.reroute)
		case err != nil:
			l.log.Warn().Err(err).Msg("adding audio streams failed")
		default:
			l.call.reroute()
		}
	})
}

// promoteLocked picks the agent who takes over when the bridged agent leaves:
// an agent still in the call as a participant (a warm transfer's previous
// agent, or one added to the call). c.mu is held.
func (c *Call) promoteLocked() *Leg {
	for _, l := range append(append([]*Leg{}, c.agents...), c.extras...) {
		if _, ok := c.modes[l]; !ok || l.role != RoleAgent {
			continue
		}
		if s := l.State(); s == LegAnswered || s == LegConnected {
			return l
		}
	}
	return nil
}
