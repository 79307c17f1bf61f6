package voice_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/contactcenter/contactcenter/voice"
	"github.com/contactcenter/contactcenter/voice/voicetest"
)

func checkIntact(t *testing.T, what string, s voicetest.Stats, want int) {
	t.Helper()
	if s.Count != want || s.Corrupt != 0 || s.OutOfOrder != 0 || s.SeqGaps != 0 {
		t.Errorf("%s: got %+v, want %d intact packets in order with continuous sequence numbers", what, s, want)
	}
}

func TestRelayAudioBothWays(t *testing.T) {
	b := newBed(t, voice.Config{NoPrompt: true})
	c, cust, ag := b.connectedCall("audio", false)
	const n = 100
	stream(t, false, 0, n, voicetest.OpusPacketSize, cust.peer, ag.peer)
	cust.peer.Audio.WaitCount(n, 3*time.Second)
	ag.peer.Audio.WaitCount(n, 3*time.Second)
	checkIntact(t, "customer → agent", ag.peer.Audio.Stats(), n)
	checkIntact(t, "agent → customer", cust.peer.Audio.Stats(), n)

	st := c.Stats()
	if st.State != voice.CallAnswered || st.SetupTime <= 0 {
		t.Errorf("call stats %+v: want answered with a setup time", st)
	}
	if f := st.Customer.Forwarded.Packets; f != n || st.Customer.ReceivedDropped != 0 {
		t.Errorf("customer leg forwarded %d, dropped %d; want %d, 0", f, st.Customer.ReceivedDropped, n)
	}
	if f := st.Agents[0].Forwarded.Packets; f != n || st.Agents[0].Sent.Packets != n {
		t.Errorf("agent leg forwarded %d and was sent %d; want %d each", f, st.Agents[0].Sent.Packets, n)
	}

	// What matrix-js-sdk needs on the wire.
	for _, p := range []*voicetest.Peer{cust.peer, ag.peer} {
		if err := p.CheckStreams(); err != nil {
			t.Errorf("%s: %v", p.Name, err)
		}
	}
	toAgent, toCust := ag.toPeer.Log(), cust.toPeer.Log()
	for _, want := range []struct {
		log       []voicetest.Wire
		typ, frag string
	}{
		{toAgent, voice.TypeInvite, `"version":"1"`},
		{toAgent, voice.TypeInvite, `"invitee":"@carol:hs2"`},
		{toAgent, voice.TypeInvite, `"lifetime":60000`},
		{toAgent, voice.TypeInvite, `"sdp_stream_metadata":{"cc-`},
		{toAgent, voice.TypeSelectAnswer, `"selected_party_id":"`},
		{toAgent, voice.TypeCandidates, `"candidate":""`},
		{toCust, voice.TypeAnswer, `"version":"1"`},
		{toCust, voice.TypeAnswer, `"sdp_stream_metadata":{"cc-`},
		{toCust, voice.TypeCandidates, `"candidate":""`},
	} {
		if !hasWire(want.log, want.typ, want.frag) {
			t.Errorf("no %s with %s sent", want.typ, want.frag)
		}
	}
	for _, p := range []*voicetest.Pipe{ag.toPeer, ag.fromPeer, cust.toPeer, cust.fromPeer} {
		if errs := p.Errors(); len(errs) > 0 {
			t.Errorf("wire errors: %v", errs)
		}
	}
	checkLoopback(t, cust, ag)
}

// checkLoopback asserts every candidate signalled and every selected pair is on
// loopback: media never leaves the machine in tests.
func checkLoopback(t *testing.T, sides ...*side) {
	t.Helper()
	seen := 0
	for _, s := range sides {
		for _, pipe := range []*voicetest.Pipe{s.toPeer, s.fromPeer} {
			for _, w := range pipe.Log() {
				if w.Type != voice.TypeCandidates {
					continue
				}
				m, err := voice.Parse(w.Type, w.Content)
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range m.(*voice.Candidates).Candidates {
					if c.Candidate == "" {
						continue
					}
					f := strings.Fields(c.Candidate)
					if len(f) < 5 || !net.ParseIP(f[4]).IsLoopback() {
						t.Errorf("candidate off loopback: %s", c.Candidate)
					}
					seen++
				}
			}
		}
		local, remote, err := s.peer.SelectedPair()
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range []string{local, remote} {
			if a != "127.0.0.1" && a != "::1" {
				t.Errorf("%s selected pair %s → %s is not on loopback", s.peer.Name, local, remote)
			}
		}
	}
	if seen == 0 {
		t.Error("no candidate signalled")
	}
}

func TestRelayVideoAndKeyframeRequests(t *testing.T) {
	b := newBed(t, voice.Config{NoPrompt: true})
	_, cust, ag := b.connectedCall("video", true)
	const n = 60
	done := make(chan struct{})
	go func() {
		defer close(done)
		stream(t, true, 0, n, 1000, cust.peer, ag.peer)
	}()
	stream(t, false, 0, n, voicetest.OpusPacketSize, cust.peer, ag.peer)
	<-done
	cust.peer.Video.WaitCount(n, 3*time.Second)
	ag.peer.Video.WaitCount(n, 3*time.Second)
	checkIntact(t, "customer → agent video", ag.peer.Video.Stats(), n)
	checkIntact(t, "agent → customer video", cust.peer.Video.Stats(), n)
	checkIntact(t, "customer → agent audio", ag.peer.Audio.Stats(), n)

	// A keyframe request from one side reaches the other side's sender.
	for _, dir := range []struct{ from, to *voicetest.Peer }{{ag.peer, cust.peer}, {cust.peer, ag.peer}} {
		before := dir.to.PLIs.Load()
		time.Sleep(250 * time.Millisecond) // past the relay's keyframe request interval
		if err := dir.from.RequestKeyframe(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(3 * time.Second)
		for dir.to.PLIs.Load() == before && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if dir.to.PLIs.Load() == before {
			t.Errorf("PLI from %s did not reach %s", dir.from.Name, dir.to.Name)
		}
	}
	if err := cust.peer.CheckStreams(); err != nil {
		t.Error(err)
	}
}

func TestSourceSwapKeepsSequence(t *testing.T) {
	b := newBed(t, voice.Config{NoPrompt: true})
	c, cust, agA := b.connectedCall("swap", false)
	stream(t, false, 0, 50, voicetest.OpusPacketSize, agA.peer)
	cust.peer.Audio.WaitCount(50, 3*time.Second)

	agB := b.newSide("swap-agentB", false)
	inv := b.dialAgent(c, agB, voice.LegOptions{Invitee: "@dave:hs2"})
	if err := agB.peer.Answer(inv); err != nil {
		t.Fatal(err)
	}
	waitEnded(t, agA.peer, voice.ReasonUserHangup)
	wait(t, agB.peer.Connected, "agent B connected")
	waitReady(t, agB.leg)
	stream(t, false, 50, 50, voicetest.OpusPacketSize, agB.peer)
	cust.peer.Audio.WaitCount(100, 3*time.Second)
	checkIntact(t, "A then B → customer", cust.peer.Audio.Stats(), 100)

	stream(t, false, 0, 20, voicetest.OpusPacketSize, cust.peer)
	agB.peer.Audio.WaitCount(20, 3*time.Second)
	checkIntact(t, "customer → B", agB.peer.Audio.Stats(), 20)
	if got := c.Agent(); got != agB.leg {
		t.Errorf("bridged agent leg is %v, want B", got)
	}
}

func TestPromptThenAgent(t *testing.T) {
	b := newBed(t, voice.Config{})
	c := b.newCall("prompt")
	cust := b.newSide("prompt-customer", false)
	b.customerCalls(c, cust)
	if err := c.AnswerCustomer(context.Background()); err != nil {
		t.Fatal(err)
	}
	wait(t, cust.peer.Connected, "customer connected")
	// The prompt is not test payload: every packet counts as "corrupt" here.
	deadline := time.Now().Add(5 * time.Second)
	for cust.peer.Audio.Stats().Corrupt < 25 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	prompted := cust.peer.Audio.Stats().Corrupt
	if prompted < 25 {
		t.Fatalf("customer got %d prompt packets, want 25+", prompted)
	}
	ag := b.newSide("prompt-agent", false)
	inv := b.dialAgent(c, ag, voice.LegOptions{})
	if err := ag.peer.Answer(inv); err != nil {
		t.Fatal(err)
	}
	wait(t, ag.peer.Connected, "agent connected")
	b.waitEvent(voice.EventAnswered, ag.leg)
	waitReady(t, ag.leg)
	stream(t, false, 0, 50, voicetest.OpusPacketSize, ag.peer)
	cust.peer.Audio.WaitCount(50, 3*time.Second)
	s := cust.peer.Audio.Stats()
	if s.Count != 50 || s.SeqGaps != 0 || s.OutOfOrder != 0 {
		t.Errorf("prompt then agent: %+v, want 50 agent packets and no sequence gap", s)
	}
	if s.Corrupt > prompted+5 {
		t.Errorf("prompt went on after the agent answered: %d prompt packets, %d before", s.Corrupt, prompted)
	}
}

func TestHangupFromEachSide(t *testing.T) {
	t.Run("customer", func(t *testing.T) {
		b := newBed(t, voice.Config{NoPrompt: true})
		c, cust, ag := b.connectedCall("hang-c", false)
		cust.peer.Hangup(voice.ReasonUserHangup)
		waitEnded(t, ag.peer, voice.ReasonUserHangup)
		ev := b.waitEvent(voice.EventCallEnded, nil)
		if ev.Reason != voice.ReasonUserHangup {
			t.Errorf("call ended with %q", ev.Reason)
		}
		wait(t, c.Done(), "call released")
		if s := c.Stats(); s.Customer.EndedBy != "remote" || s.Agents[0].EndedBy != "local" {
			t.Errorf("ended by: customer %q, agent %q", s.Customer.EndedBy, s.Agents[0].EndedBy)
		}
	})
	t.Run("agent", func(t *testing.T) {
		b := newBed(t, voice.Config{NoPrompt: true})
		c, cust, ag := b.connectedCall("hang-a", false)
		ag.peer.Hangup(voice.ReasonUserHangup)
		waitEnded(t, cust.peer, voice.ReasonUserHangup)
		wait(t, c.Done(), "call released")
		if c.State() != voice.CallEnded {
			t.Errorf("call state %s", c.State())
		}
	})
}

func TestTwoCallsStayApart(t *testing.T) {
	b := newBed(t, voice.Config{NoPrompt: true})
	_, cust1, ag1 := b.connectedCall("one", false)
	_, cust2, ag2 := b.connectedCall("two", false)
	done := make(chan struct{})
	go func() {
		defer close(done)
		stream(t, false, 0, 50, 160, cust1.peer, ag1.peer)
	}()
	stream(t, false, 1000, 70, 120, cust2.peer, ag2.peer)
	<-done
	for _, s := range []struct {
		p     *voicetest.Peer
		n     int
		bytes int
	}{{ag1.peer, 50, 50 * 160}, {cust1.peer, 50, 50 * 160}, {ag2.peer, 70, 70 * 120}, {cust2.peer, 70, 70 * 120}} {
		s.p.Audio.WaitCount(s.n, 3*time.Second)
		st := s.p.Audio.Stats()
		checkIntact(t, s.p.Name, st, s.n)
		if st.Bytes != s.bytes {
			t.Errorf("%s got %d bytes, want %d (another call's packets?)", s.p.Name, st.Bytes, s.bytes)
		}
	}
}

func TestAgentRejectsThenNextAnswers(t *testing.T) {
	b := newBed(t, voice.Config{NoPrompt: true})
	c := b.newCall("reject")
	cust := b.newSide("reject-customer", false)
	b.customerCalls(c, cust)

	ag1 := b.newSide("reject-agent1", false)
	inv := b.dialAgent(c, ag1, voice.LegOptions{})
	ag1.peer.Reject(inv)
	ev := b.waitEvent(voice.EventLegEnded, ag1.leg)
	if !ev.Rejected || !ev.Remote {
		t.Errorf("reject event %+v", ev)
	}
	if c.State() != voice.CallRinging || cust.leg.State() != voice.LegRinging {
		t.Fatalf("after a reject the call is %s, customer leg %s; want both ringing", c.State(), cust.leg.State())
	}

	ag2 := b.newSide("reject-agent2", false)
	_ = b.dialAgent(c, ag2, voice.LegOptions{Lifetime: 300 * time.Millisecond})
	waitEnded(t, ag2.peer, voice.ReasonInviteTimeout)
	ev = b.waitEvent(voice.EventLegEnded, ag2.leg)
	if ev.Reason != voice.ReasonInviteTimeout || ev.Remote {
		t.Errorf("ring timeout event %+v", ev)
	}

	ag3 := b.newSide("reject-agent3", false)
	inv = b.dialAgent(c, ag3, voice.LegOptions{})
	if err := ag3.peer.Answer(inv); err != nil {
		t.Fatal(err)
	}
	wait(t, cust.peer.Connected, "customer connected")
	wait(t, ag3.peer.Connected, "agent 3 connected")
	waitReady(t, cust.leg, ag3.leg)
	stream(t, false, 0, 30, voicetest.OpusPacketSize, cust.peer, ag3.peer)
	cust.peer.Audio.WaitCount(30, 3*time.Second)
	checkIntact(t, "agent 3 → customer", cust.peer.Audio.Stats(), 30)
}

func TestCustomerAbandonsWhileRinging(t *testing.T) {
	b := newBed(t, voice.Config{NoPrompt: true})
	c := b.newCall("abandon")
	cust := b.newSide("abandon-customer", false)
	b.customerCalls(c, cust)
	ag := b.newSide("abandon-agent", false)
	_ = b.dialAgent(c, ag, voice.LegOptions{})
	cust.peer.Hangup(voice.ReasonUserHangup)
	waitEnded(t, ag.peer, voice.ReasonUserHangup)
	wait(t, c.Done(), "call released")
	if s := c.Stats(); s.Duration != 0 || s.Customer.EndedBy != "remote" {
		t.Errorf("abandoned call stats %+v", s)
	}
}

func TestGlare(t *testing.T) {
	ctx := context.Background()
	for _, agentWins := range []bool{true, false} {
		b := newBed(t, voice.Config{NoPrompt: true})
		c := b.newCall("glare")
		cust := b.newSide("glare-customer", false)
		b.customerCalls(c, cust)
		ag := b.newSide("glare-agent", false)
		ours := b.dialAgent(c, ag, voice.LegOptions{})
		theirID := "0" // sorts before any relay call_id (hex)
		if !agentWins {
			theirID = "~"
		}
		// The agent's client calls the ghost at the same time.
		agentSend := voicetest.NewPipe()
		b.onClose(agentSend.Close)
		peer2, err := voicetest.NewPeer(b.api, voicetest.PeerOptions{Name: "glare-agent-client", Send: agentSend.Send})
		if err != nil {
			t.Fatal(err)
		}
		b.onClose(peer2.Close)
		toPeer2 := voicetest.NewPipe()
		b.onClose(toPeer2.Close)
		toPeer2.SetTarget(peer2.Handle)
		invited := make(chan *voice.Invite, 1)
		var leg *voice.Leg
		legSet := make(chan struct{})
		agentSend.SetTarget(func(m voice.Message) {
			if inv, ok := m.(*voice.Invite); ok {
				invited <- inv
				return
			}
			<-legSet
			if leg != nil {
				_ = leg.Handle(ctx, m)
			}
		})
		if _, err := peer2.InviteWithID("@ghost:hs2", theirID); err != nil {
			t.Fatal(err)
		}
		inv := <-invited
		leg, err = c.AgentInvite(ctx, inv, voice.LegOptions{Send: toPeer2.Send, Invitee: "@carol:hs2"})
		close(legSet)
		if !agentWins {
			if err != voice.ErrGlareLost {
				t.Fatalf("agent's invite %q beat %q: %v", theirID, ours.CallID, err)
			}
			if ag.leg.State() != voice.LegRinging {
				t.Errorf("the relay's invite stopped ringing")
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		wait(t, peer2.Connected, "agent's own call connected")
		if ag.leg.State() != voice.LegEnded {
			t.Errorf("the relay's losing invite is %s", ag.leg.State())
		}
		if hasWire(ag.toPeer.Log(), voice.TypeHangup, "") {
			t.Error("a hangup was sent for the invite that lost the glare")
		}
		if c.Agent() != leg {
			t.Error("the agent's call is not bridged")
		}
	}
}
