package calls

import (
	"context"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/voice"
	"github.com/contactcenter/contactcenter/voice/voicetest"
)

// TestRelayedCallMedia: a tenant with hold_prompt answers the caller at once and
// plays the prompt until an agent answers, after which the agent's packets follow
// the prompt's with continuous sequence numbers; glare (the agent's client calls
// the customer's ghost while the relay rings it) is settled by the lesser call ID
// either way; and a video call forwards VP8 both ways, keyframe requests included.
func TestRelayedCallMedia(t *testing.T) {
	rb := newRelayBed(t, 30*time.Second, func(cfg *config.Config) { cfg.Tenants[0].HoldPrompt = true })
	ctx := context.Background()
	db := rb.d.Service.DB
	carol := rb.staff(t, "carol")
	rb.ready(t, carol)
	alice := rb.customer(t)
	conv := rb.conversation(t, alice.room)
	calls := 0

	t.Run("hold prompt until an agent answers", func(t *testing.T) {
		calls++
		cust := newRoomPeer(t, alice.Client, alice.room, "alice")
		agent := newRoomPeer(t, carol.Client, conv.DeskRoom, "carol")
		cust.call(t, rb.acme)
		// Answered before any agent: media flows while Carol's phone rings.
		cust.connected(t, waitLong)
		inv := agent.ringing(t, waitLong)
		eventually(t, waitLong, "a second of the hold prompt", func() (bool, error) {
			return cust.Audio.Stats().Corrupt >= 50, nil // the prompt is Opus, not test payloads
		})
		if s := cust.Audio.Stats(); s.Count != 0 {
			t.Fatalf("the caller got %d test packets before an agent answered", s.Count)
		}
		if call := lastCall(t, db, conv.ID); call.State != database.CallRinging {
			t.Fatalf("the call while the prompt plays: %+v; want ringing", call)
		}
		if err := agent.Answer(inv); err != nil {
			t.Fatal(err)
		}
		agent.connected(t, waitLong)
		if err := agent.Stream(ctx, false, 1_000_000, 10, packetSize, packetGap); err != nil {
			t.Fatal(err)
		}
		if !cust.Audio.WaitCount(5, 5*time.Second) {
			t.Fatalf("no packet of Carol's reached the caller: %+v", cust.Audio.Stats())
		}
		// Bridged: the prompt has stopped, the stream continues without a gap.
		prompt := cust.Audio.Stats().Corrupt
		converse(t, cust, agent, 2_000_000, 3_000_000)
		s := cust.Audio.Stats()
		if s.Corrupt != prompt || s.SeqGaps != 0 || s.OutOfOrder != 0 {
			t.Fatalf("the caller heard %+v; want %d prompt packets, then Carol's with continuous sequence numbers", s, prompt)
		}
		cust.Hangup(voice.ReasonUserHangup)
		agent.ended(t, waitLong)
		if call := rb.endedCall(t, conv.ID, calls); call.Outcome != database.OutcomeAnswered || call.Agent != carol.UserID {
			t.Fatalf("recorded call: %+v", call)
		}
	})

	t.Run("glare, the agent's call wins", func(t *testing.T) {
		calls++
		cust := newRoomPeer(t, alice.Client, alice.room, "alice")
		rung := newRoomPeer(t, carol.Client, conv.DeskRoom, "carol")
		cust.call(t, rb.acme)
		relayInv := rung.ringing(t, waitLong)
		// Carol's client calls the ghost at the same time, with the lesser call ID:
		// the relay drops its invite and answers hers.
		mine := newRoomPeer(t, carol.Client, conv.DeskRoom, "carol-calls")
		mine.callWithID(t, conv.Ghost, relayInv.CallID[:len(relayInv.CallID)-1])
		converse(t, cust, mine, 4_000_000, 5_000_000)
		cust.Hangup(voice.ReasonUserHangup)
		mine.ended(t, waitLong)
		call := rb.endedCall(t, conv.ID, calls)
		legs, err := db.Calls().Legs(ctx, call.ID)
		if err != nil || call.Agent != carol.UserID || call.Outcome != database.OutcomeAnswered {
			t.Fatalf("recorded call %+v (%v)", call, err)
		}
		outcomes := map[string]string{}
		for _, l := range legs {
			outcomes[l.LegCallID] = l.Outcome
		}
		if outcomes[mine.callID] != database.OutcomeAnswered || outcomes[relayInv.CallID] == database.OutcomeAnswered {
			t.Fatalf("legs %v; want Carol's own call answered, the relay's dropped", outcomes)
		}
		// matrix-js-sdk drops the losing invite without a hangup.
		if n := callEvents(carol, conv, conv.Ghost, voice.TypeHangup, relayInv.CallID); n != 0 {
			t.Fatalf("the relay hung up its dropped invite (%d hangups)", n)
		}
	})

	t.Run("glare, the relay's call wins", func(t *testing.T) {
		calls++
		cust := newRoomPeer(t, alice.Client, alice.room, "alice")
		rung := newRoomPeer(t, carol.Client, conv.DeskRoom, "carol")
		cust.call(t, rb.acme)
		relayInv := rung.ringing(t, waitLong)
		theirs := newRoomPeer(t, carol.Client, conv.DeskRoom, "carol-calls")
		theirs.callWithID(t, conv.Ghost, relayInv.CallID+"z")
		// Nothing answers the greater call ID; Carol's client answers the relay's.
		time.Sleep(2 * time.Second)
		if n := callEvents(carol, conv, conv.Ghost, "", theirs.callID); n != 0 {
			t.Fatalf("the relay sent %d events for Carol's losing call", n)
		}
		if err := rung.Answer(relayInv); err != nil {
			t.Fatal(err)
		}
		converse(t, cust, rung, 6_000_000, 7_000_000)
		cust.Hangup(voice.ReasonUserHangup)
		rung.ended(t, waitLong)
		call := rb.endedCall(t, conv.ID, calls)
		legs, err := db.Calls().Legs(ctx, call.ID)
		if err != nil || len(legs) != 1 || legs[0].LegCallID != relayInv.CallID || legs[0].Outcome != database.OutcomeAnswered {
			t.Fatalf("legs %+v (%v); want the relay's call alone, answered", legs, err)
		}
	})

	t.Run("video", func(t *testing.T) {
		calls++
		cust := newRoomPeerWith(t, alice.Client, alice.room, voicetest.PeerOptions{Name: "alice", Video: true})
		agent := newRoomPeerWith(t, carol.Client, conv.DeskRoom, voicetest.PeerOptions{Name: "carol", Video: true})
		cust.call(t, rb.acme)
		inv := agent.ringing(t, waitLong)
		if !strings.Contains(inv.Offer.SDP, "m=video") || !strings.Contains(inv.Offer.SDP, "VP8/90000") {
			t.Fatalf("the relay rings Carol without VP8 video:\n%s", inv.Offer.SDP)
		}
		if err := agent.Answer(inv); err != nil {
			t.Fatal(err)
		}
		cust.connected(t, waitLong)
		agent.connected(t, waitLong)
		const frames, frameSize = 100, 1000
		errs := make(chan error, 2)
		go func() { errs <- cust.Stream(ctx, true, 8_000_000, frames, frameSize, packetGap) }()
		go func() { errs <- agent.Stream(ctx, true, 9_000_000, frames, frameSize, packetGap) }()
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		for _, side := range []struct {
			name  string
			r     *voicetest.Receiver
			first uint64
		}{{"Alice", cust.Video, 9_000_000}, {"Carol", agent.Video, 8_000_000}} {
			side.r.WaitCount(frames*9/10, 5*time.Second)
			s := side.r.Stats()
			if s.Count < frames*9/10 || s.Corrupt > 0 || s.OutOfOrder > 0 || s.Last < side.first || s.Last >= side.first+frames {
				t.Fatalf("%s received video %+v; want about %d intact packets from %d", side.name, s, frames, side.first)
			}
		}
		// A keyframe request from one side reaches the other side's sender.
		for _, dir := range []struct {
			name     string
			from, to *roomPeer
		}{{"Carol → Alice", agent, cust}, {"Alice → Carol", cust, agent}} {
			before := dir.to.PLIs.Load()
			if err := dir.from.RequestKeyframe(); err != nil {
				t.Fatal(err)
			}
			eventually(t, 10*time.Second, "the keyframe request "+dir.name, func() (bool, error) {
				return dir.to.PLIs.Load() > before, nil
			})
		}
		cust.Hangup(voice.ReasonUserHangup)
		agent.ended(t, waitLong)
		rb.endedCall(t, conv.ID, calls)
	})
}

// callWithID places a call to invitee with the given call ID (glare).
func (rp *roomPeer) callWithID(t *testing.T, invitee id.UserID, callID string) {
	t.Helper()
	rp.mu.Lock()
	defer rp.mu.Unlock()
	if _, err := rp.InviteWithID(invitee.String(), callID); err != nil {
		t.Fatal(err)
	}
	rp.callID = callID
}

// callEvents counts the call events of callID (of type typ, or any) that sender
// sent to the desk room, as the agent's client saw them.
func callEvents(s *staff, conv *database.Conversation, sender id.UserID, typ, callID string) int {
	n := 0
	for _, evt := range s.Events(conv.DeskRoom) {
		if evt.Sender != sender || !strings.HasPrefix(evt.Type.Type, "m.call.") || (typ != "" && evt.Type.Type != typ) {
			continue
		}
		if msg, err := voice.Parse(evt.Type.Type, evt.Content.VeryRaw); err == nil && voice.CallID(msg) == callID {
			n++
		}
	}
	return n
}

// lastCall is the conversation's latest call.
func lastCall(t *testing.T, db *database.Database, convID int64) *database.Call {
	t.Helper()
	calls, err := db.Calls().OfConversation(context.Background(), convID)
	if err != nil || len(calls) == 0 {
		t.Fatalf("the conversation's calls: %d (%v)", len(calls), err)
	}
	return calls[len(calls)-1]
}

// converse is talk for a caller who may have heard the hold prompt first: the
// prompt's packets (Opus, not test payloads) are not counted against them.
func converse(t *testing.T, cust, agent *roomPeer, custFirst, agentFirst uint64) {
	t.Helper()
	cust.connected(t, waitLong)
	agent.connected(t, waitLong)
	ctx := context.Background()
	before := cust.Audio.Stats().Count
	errs := make(chan error, 2)
	go func() { errs <- cust.Stream(ctx, false, custFirst, packets, packetSize, packetGap) }()
	go func() { errs <- agent.Stream(ctx, false, agentFirst, packets, packetSize, packetGap) }()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	agent.Audio.WaitCount(packets*9/10, 5*time.Second)
	cust.Audio.WaitCount(before+packets*9/10, 5*time.Second)
	if s := agent.Audio.Stats(); s.Count < packets*9/10 || s.Corrupt > 0 || s.OutOfOrder > 0 || s.Last < custFirst || s.Last >= custFirst+packets {
		t.Fatalf("%s received %+v; want about %d intact packets from %d", agent.Name, s, packets, custFirst)
	}
	if s := cust.Audio.Stats(); s.Count-before < packets*9/10 || s.OutOfOrder > 0 || s.Last < agentFirst || s.Last >= agentFirst+packets {
		t.Fatalf("%s received %+v; want about %d more packets from %d, in order", cust.Name, s, packets, agentFirst)
	}
}
