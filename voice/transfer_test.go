package voice_test

import (
	"testing"
	"time"

	"github.com/contactcenter/contactcenter/voice"
	"github.com/contactcenter/contactcenter/voice/voicetest"
)

// TestAwaitAgentHolds: while another agent is awaited, the bridged agent leaving
// puts the customer on hold (the prompt, the call ringing) instead of ending the
// call; the next agent answering is bridged with the customer's stream continuous,
// and ends the wait: that agent leaving ends the call.
func TestAwaitAgentHolds(t *testing.T) {
	b := newBed(t, voice.Config{})
	c, cust, ag := b.connectedCall("await", false)
	stream(t, false, 0, 10, voicetest.OpusPacketSize, ag.peer)
	c.AwaitAgent(true)
	ag.leg.Hangup(voice.ReasonUserHangup)
	waitEnded(t, ag.peer, voice.ReasonUserHangup)
	deadline := time.Now().Add(5 * time.Second)
	for cust.peer.Audio.Stats().Corrupt < 25 { // the prompt is Opus, not test payloads
		if time.Now().After(deadline) {
			t.Fatalf("no hold prompt after the agent left: %+v", cust.peer.Audio.Stats())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if s := c.State(); s != voice.CallRinging {
		t.Fatalf("the call is %s while the next agent is awaited", s)
	}

	dave := b.newSide("await-dave", false)
	inv := b.dialAgent(c, dave, voice.LegOptions{Invitee: "@dave:hs2"})
	if err := dave.peer.Answer(inv); err != nil {
		t.Fatal(err)
	}
	b.waitEvent(voice.EventAnswered, dave.leg)
	wait(t, dave.peer.Connected, "Dave connected")
	waitReady(t, dave.leg)
	before := cust.peer.Audio.Stats().Count
	stream(t, false, 100, 20, voicetest.OpusPacketSize, dave.peer)
	cust.peer.Audio.WaitCount(before+18, 5*time.Second)
	if s := cust.peer.Audio.Stats(); s.Count < before+18 || s.SeqGaps != 0 || s.Last < 100 {
		t.Fatalf("the customer received %+v; want Dave's packets after the prompt's, sequence continuous", s)
	}
	// Dave answered: nobody is awaited any more, and his leaving ends the call.
	dave.leg.Hangup(voice.ReasonUserHangup)
	waitEnded(t, cust.peer, voice.ReasonUserHangup)
	if s := c.State(); s != voice.CallEnded {
		t.Fatalf("the call is %s after its only agent left", s)
	}
}
