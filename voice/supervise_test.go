package voice_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/contactcenter/contactcenter/voice"
	"github.com/contactcenter/contactcenter/voice/voicetest"
)

func TestModeTable(t *testing.T) {
	for _, m := range []voice.Mode{voice.ModeListen, voice.ModeWhisper, voice.ModeBarge} {
		// Whoever is beside the call hears the customer and the agent, in any mode.
		for _, sp := range []voice.Position{voice.PosCustomer, voice.PosAgent} {
			if !voice.Hears(voice.PosBeside, sp, m) {
				t.Errorf("%s: the supervisor does not hear the %s", m, sp)
			}
		}
		if !voice.Hears(voice.PosCustomer, voice.PosAgent, m) || !voice.Hears(voice.PosAgent, voice.PosCustomer, m) {
			t.Errorf("%s: customer and agent do not hear each other", m)
		}
	}
	want := map[voice.Mode][3]bool{ // heard by customer, agent, another supervisor
		voice.ModeListen:  {false, false, false},
		voice.ModeWhisper: {false, true, false},
		voice.ModeBarge:   {true, true, true},
	}
	for m, w := range want {
		for i, lis := range []voice.Position{voice.PosCustomer, voice.PosAgent, voice.PosBeside} {
			if got := voice.Hears(lis, voice.PosBeside, m); got != w[i] {
				t.Errorf("%s: %s hears the supervisor = %v, want %v", m, lis, got, w[i])
			}
		}
	}
	if voice.Hears(voice.PosCustomer, voice.PosBeside, voice.Mode(7)) {
		t.Error("an unknown mode is heard")
	}
	for _, s := range []string{"listen", "whisper", "barge"} {
		if m, err := voice.ParseMode(s); err != nil || m.String() != s {
			t.Errorf("ParseMode(%q) = %v, %v", s, m, err)
		}
	}
}

// dialSupervisor rings a supervisor leg and makes its client answer.
func (b *bed) dialSupervisor(c *voice.Call, s *side, mode voice.Mode) {
	b.t.Helper()
	ctx := context.Background()
	l, err := c.DialSupervisor(ctx, voice.LegOptions{Send: s.toPeer.Send, Invitee: "@sam:hs2"}, voice.RoleSupervisor, mode)
	if err != nil {
		b.t.Fatal(err)
	}
	s.setLeg(l)
	s.fromPeer.SetTarget(func(m voice.Message) {
		if err := l.Handle(ctx, m); err != nil {
			b.t.Errorf("supervisor leg: %v", err)
		}
	})
	select {
	case inv := <-s.peer.Invites:
		if err := s.peer.Answer(inv); err != nil {
			b.t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		b.t.Fatal("supervisor not rung")
	}
	wait(b.t, s.peer.Connected, "supervisor connected")
	waitReady(b.t, l)
}

// Source bases of the test payloads: who sent a packet.
const (
	fromCustomer = iota + 1
	fromAgent
	fromSupervisor
)

// TestSupervisorModes: for each mode, which leg receives which source's packets.
// A listening supervisor hears both and is heard by nobody; a whisper reaches
// the agent, never the customer; a barge reaches both. Back to listen is silent
// again.
func TestSupervisorModes(t *testing.T) {
	b := newBed(t, voice.Config{NoPrompt: true})
	c, cust, ag := b.connectedCall("modes", false)
	sup := b.newSide("modes-supervisor", false)
	b.dialSupervisor(c, sup, voice.ModeListen)
	b.waitEvent(voice.EventBesideAnswered, sup.leg)

	const n = 40
	for round, m := range []voice.Mode{voice.ModeListen, voice.ModeWhisper, voice.ModeBarge, voice.ModeListen} {
		if err := c.SetMode(sup.leg, m); err != nil {
			t.Fatal(err)
		}
		// A barge needs a second stream toward the customer: negotiated.
		waitReady(t, cust.leg, ag.leg, sup.leg)
		time.Sleep(300 * time.Millisecond)
		base := func(src int) uint64 { return uint64(round*10+src) * voicetest.SourceStride }
		done := make(chan struct{}, 3)
		for src, p := range map[int]*voicetest.Peer{fromCustomer: cust.peer, fromAgent: ag.peer, fromSupervisor: sup.peer} {
			go func() {
				defer func() { done <- struct{}{} }()
				if err := p.Stream(context.Background(), false, base(src), n, voicetest.OpusPacketSize, 20*time.Millisecond); err != nil {
					t.Errorf("%s stream: %v", p.Name, err)
				}
			}()
		}
		for range 3 {
			<-done
		}
		time.Sleep(300 * time.Millisecond)
		hears := func(who *side, src int, want bool) {
			t.Helper()
			got := who.peer.Audio.From(base(src))
			if want && got < n-2 || !want && got != 0 {
				t.Errorf("%s: %s received %d packets of source %d, want %v", m, who.peer.Name, got, src, map[bool]string{true: fmt.Sprint(n), false: "0"}[want])
			}
		}
		hears(sup, fromCustomer, true)
		hears(sup, fromAgent, true)
		hears(ag, fromCustomer, true)
		hears(cust, fromAgent, true)
		hears(ag, fromSupervisor, m != voice.ModeListen)
		hears(cust, fromSupervisor, m == voice.ModeBarge)
	}
	for _, s := range []*side{cust, ag, sup} {
		if err := s.peer.CheckStreams(); err != nil {
			t.Errorf("%s: %v", s.peer.Name, err)
		}
		ids := s.peer.StreamIDs()
		seen := map[string]bool{}
		for _, id := range ids {
			if seen[id] {
				t.Errorf("%s: two tracks share stream %s", s.peer.Name, id)
			}
			seen[id] = true
		}
	}
	if got := len(cust.peer.StreamIDs()); got < 2 {
		t.Errorf("the customer got %d streams; a barge needs a second one", got)
	}
	// The customer's extra stream came by m.call.negotiate, announced unmuted.
	if !hasWire(cust.toPeer.Log(), voice.TypeNegotiate, `"audio_muted":false`) {
		t.Error("no m.call.negotiate with an unmuted stream was sent to the customer")
	}

	// The supervisor hangs up: the call goes on undisturbed.
	sup.peer.Hangup(voice.ReasonUserHangup)
	b.waitEvent(voice.EventLegEnded, sup.leg)
	if c.State() != voice.CallAnswered {
		t.Fatalf("after the supervisor left the call is %s", c.State())
	}
	before := ag.peer.Audio.From(99 * voicetest.SourceStride)
	stream(t, false, 99*voicetest.SourceStride, 30, voicetest.OpusPacketSize, cust.peer)
	ag.peer.Audio.WaitCount(ag.peer.Audio.Stats().Count+30-before, 3*time.Second)
	time.Sleep(200 * time.Millisecond)
	if got := ag.peer.Audio.From(99 * voicetest.SourceStride); got != 30 {
		t.Errorf("after the supervisor left the agent got %d of 30 customer packets", got)
	}
	if st := c.Stats(); len(st.Beside) != 1 || st.Beside[0].Role != voice.RoleSupervisor {
		t.Errorf("call stats beside the call: %+v", st.Beside)
	}
}

// TestTwoSupervisorsAndWarmTransfer: two supervisors listen at once (each their
// own leg); a warm transfer keeps the first agent in the call, heard by all,
// until they hang up; the call then goes on with the second.
func TestTwoSupervisorsAndWarmTransfer(t *testing.T) {
	b := newBed(t, voice.Config{NoPrompt: true})
	c, cust, agA := b.connectedCall("warm", false)
	s1, s2 := b.newSide("warm-sup1", false), b.newSide("warm-sup2", false)
	b.dialSupervisor(c, s1, voice.ModeListen)
	b.dialSupervisor(c, s2, voice.ModeListen)

	agB := b.newSide("warm-agentB", false)
	inv := b.dialAgent(c, agB, voice.LegOptions{Invitee: "@dave:hs2", Warm: true, ExtraStreams: 1})
	if err := agB.peer.Answer(inv); err != nil {
		t.Fatal(err)
	}
	wait(t, agB.peer.Connected, "agent B connected")
	b.waitEvent(voice.EventAnswered, agB.leg)
	if agA.leg.State() == voice.LegEnded {
		t.Fatal("a warm transfer hung up the first agent")
	}
	if m, ok := c.Mode(agA.leg); !ok || m != voice.ModeBarge {
		t.Fatalf("the first agent is %v (%v), want a participant in barge", m, ok)
	}
	waitReady(t, cust.leg, agA.leg, agB.leg)
	time.Sleep(300 * time.Millisecond)
	stream(t, false, 7*voicetest.SourceStride, 30, voicetest.OpusPacketSize, agA.peer)
	time.Sleep(300 * time.Millisecond)
	for _, s := range []*side{cust, agB, s1, s2} {
		if got := s.peer.Audio.From(7 * voicetest.SourceStride); got < 28 {
			t.Errorf("%s got %d of 30 packets of the first agent during the warm transfer", s.peer.Name, got)
		}
	}
	agA.peer.Hangup(voice.ReasonUserHangup)
	b.waitEvent(voice.EventLegEnded, agA.leg)
	if c.State() != voice.CallAnswered || c.Agent() != agB.leg {
		t.Fatalf("after the first agent left: call %s, agent %v", c.State(), c.Agent())
	}
	stream(t, false, 8*voicetest.SourceStride, 30, voicetest.OpusPacketSize, agB.peer)
	time.Sleep(300 * time.Millisecond)
	for _, s := range []*side{cust, s1, s2} {
		if got := s.peer.Audio.From(8 * voicetest.SourceStride); got < 28 {
			t.Errorf("%s got %d of 30 packets of the second agent", s.peer.Name, got)
		}
	}
	// The customer hangs up: every leg ends.
	cust.peer.Hangup(voice.ReasonUserHangup)
	for _, s := range []*side{agB, s1, s2} {
		waitEnded(t, s.peer, voice.ReasonUserHangup)
	}
	wait(t, c.Done(), "call released")
}
