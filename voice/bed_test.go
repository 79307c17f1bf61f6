package voice_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/contactcenter/contactcenter/voice"
	"github.com/contactcenter/contactcenter/voice/voicetest"
	"github.com/pion/webrtc/v4"
	"github.com/rs/zerolog"
)

// bed is an engine on loopback with pion peers for customers and agents.
type bed struct {
	t      *testing.T
	e      *voice.Engine
	api    *webrtc.API
	events chan voice.Event
	mu     sync.Mutex
	closer []func()
}

func newBed(t *testing.T, cfg voice.Config) *bed {
	t.Helper()
	cfg.Loopback = true
	e, err := voice.New(cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	api, err := voice.LoopbackConfig().API()
	if err != nil {
		t.Fatal(err)
	}
	b := &bed{t: t, e: e, api: api, events: make(chan voice.Event, 256)}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.Close(ctx); err != nil {
			t.Errorf("engine close: %v", err)
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		for i := len(b.closer) - 1; i >= 0; i-- {
			b.closer[i]()
		}
	})
	return b
}

func (b *bed) onClose(f func()) {
	b.mu.Lock()
	b.closer = append(b.closer, f)
	b.mu.Unlock()
}

// side is a pion client and the two pipes of its room.
type side struct {
	peer        *voicetest.Peer
	toPeer      *voicetest.Pipe // the relay's events
	fromPeer    *voicetest.Pipe // the client's events
	leg         *voice.Leg
	legReady    chan struct{}
	legReadyOne sync.Once
}

func (b *bed) newSide(name string, video bool) *side {
	b.t.Helper()
	s := &side{toPeer: voicetest.NewPipe(), fromPeer: voicetest.NewPipe(), legReady: make(chan struct{})}
	p, err := voicetest.NewPeer(b.api, voicetest.PeerOptions{Name: name, Video: video, Send: s.fromPeer.Send})
	if err != nil {
		b.t.Fatal(err)
	}
	s.peer = p
	s.toPeer.SetTarget(p.Handle)
	b.onClose(func() {
		s.toPeer.Close()
		s.fromPeer.Close()
		p.Close()
	})
	return s
}

func (s *side) setLeg(l *voice.Leg) {
	s.leg = l
	s.legReadyOne.Do(func() { close(s.legReady) })
}

func (b *bed) newCall(id string) *voice.Call {
	c, err := b.e.NewCall(voice.CallOptions{ID: id, OnEvent: func(ev voice.Event) {
		select {
		case b.events <- ev:
		default:
		}
	}})
	if err != nil {
		b.t.Fatal(err)
	}
	return c
}

// customerCalls makes the customer place a call that the relay accepts.
func (b *bed) customerCalls(c *voice.Call, cust *side) {
	b.t.Helper()
	ctx := context.Background()
	cust.fromPeer.SetTarget(func(m voice.Message) {
		if inv, ok := m.(*voice.Invite); ok {
			l, err := c.AcceptCustomer(ctx, inv, voice.LegOptions{Send: cust.toPeer.Send})
			if err != nil {
				b.t.Errorf("accept customer: %v", err)
				return
			}
			cust.setLeg(l)
			return
		}
		<-cust.legReady
		if err := cust.leg.Handle(ctx, m); err != nil {
			b.t.Errorf("customer leg: %v", err)
		}
	})
	if _, err := cust.peer.Invite("@acme:hs1"); err != nil {
		b.t.Fatal(err)
	}
	wait(b.t, cust.legReady, "customer leg")
}

// dialAgent rings an agent; answer makes the agent's client answer.
func (b *bed) dialAgent(c *voice.Call, ag *side, opts voice.LegOptions) *voice.Invite {
	b.t.Helper()
	ctx := context.Background()
	opts.Send = ag.toPeer.Send
	if opts.Invitee == "" {
		opts.Invitee = "@carol:hs2"
	}
	l, err := c.DialAgent(ctx, opts)
	if err != nil {
		b.t.Fatal(err)
	}
	ag.setLeg(l)
	ag.fromPeer.SetTarget(func(m voice.Message) {
		if err := l.Handle(ctx, m); err != nil {
			b.t.Errorf("agent leg: %v", err)
		}
	})
	select {
	case inv := <-ag.peer.Invites:
		return inv
	case <-time.After(5 * time.Second):
		b.t.Fatal("agent not rung")
	}
	return nil
}

// connectedCall sets up customer ↔ relay ↔ agent with media connected.
func (b *bed) connectedCall(id string, video bool) (*voice.Call, *side, *side) {
	b.t.Helper()
	c := b.newCall(id)
	cust := b.newSide(id+"-customer", video)
	ag := b.newSide(id+"-agent", video)
	b.customerCalls(c, cust)
	inv := b.dialAgent(c, ag, voice.LegOptions{})
	if err := ag.peer.Answer(inv); err != nil {
		b.t.Fatal(err)
	}
	wait(b.t, cust.peer.Connected, "customer connected")
	wait(b.t, ag.peer.Connected, "agent connected")
	waitReady(b.t, cust.leg, ag.leg)
	return c, cust, ag
}

// waitReady waits until the relay's legs can send media.
func waitReady(t *testing.T, legs ...*voice.Leg) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for _, l := range legs {
		for !l.MediaReady() {
			if time.Now().After(deadline) {
				t.Fatalf("%s leg not ready: %s", l.Role(), l.State())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

func wait(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

func waitEnded(t *testing.T, p *voicetest.Peer, want voice.HangupReason) {
	t.Helper()
	select {
	case r := <-p.Ended:
		if r != want {
			t.Fatalf("%s ended with %q, want %q", p.Name, r, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("%s was not hung up", p.Name)
	}
}

// waitEvent waits for an event of kind on leg (any leg if nil).
func (b *bed) waitEvent(kind voice.EventKind, leg *voice.Leg) voice.Event {
	b.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev := <-b.events:
			if ev.Kind == kind && (leg == nil || ev.Leg == leg) {
				return ev
			}
		case <-deadline:
			b.t.Fatalf("no %s event", kind)
		}
	}
}

// stream sends n packets at 50 packets/s from each peer given, concurrently.
func stream(t *testing.T, video bool, first uint64, n, size int, peers ...*voicetest.Peer) {
	t.Helper()
	var wg sync.WaitGroup
	for _, p := range peers {
		wg.Add(1)
		go func(p *voicetest.Peer) {
			defer wg.Done()
			if err := p.Stream(context.Background(), video, first, n, size, 20*time.Millisecond); err != nil {
				t.Errorf("%s stream: %v", p.Name, err)
			}
		}(p)
	}
	wg.Wait()
}

func hasWire(log []voicetest.Wire, typ, substr string) bool {
	for _, w := range log {
		if w.Type == typ && strings.Contains(string(w.Content), substr) {
			return true
		}
	}
	return false
}
