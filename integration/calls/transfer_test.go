package calls

import (
	"context"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/voice"
	"github.com/contactcenter/contactcenter/voice/voicetest"
)

// TestCallTransfers: transfers in a live bridged call between pion peers that talk
// all along. Cold (!transfer dave): Carol's leg ends at once, Alice holds hearing
// the prompt, Dave rings in the desk room and, answering, is bridged: Alice's
// stream never stops and its sequence numbers stay continuous, and her call never
// drops. A cold transfer the new agent declines does not leave her holding: the
// call ends with the tenant's no-agent message. Warm (!transfer warm dave): Carol
// stays on the call, heard by Alice beside Dave, until her !leave.
func TestCallTransfers(t *testing.T) {
	rb := newRelayBed(t, 30*time.Second)
	ctx := context.Background()
	db := rb.d.Service.DB
	carol, dave := rb.staff(t, "carol"), rb.staff(t, "dave")
	rb.ready(t, carol)
	alice := rb.customer(t)
	conv := rb.conversation(t, alice.room)
	rb.ready(t, dave) // after the conversation went to Carol
	const aliceBase, carolBase, daveBase = opus20ms, opus20ms + voicetest.SourceStride, opus20ms + 2*voicetest.SourceStride
	grows := func(what string, r *voicetest.Receiver, base uint64) {
		t.Helper()
		from := r.From(base)
		eventually(t, 20*time.Second, what, func() (bool, error) { return r.From(base) >= from+25, nil })
	}
	stillUp := func(p *roomPeer) {
		t.Helper()
		select {
		case r := <-p.Ended:
			t.Fatalf("%s's call ended (%s)", p.Name, r)
		default:
		}
	}
	answer := func(p *roomPeer) {
		t.Helper()
		if err := p.Answer(p.ringing(t, waitLong)); err != nil {
			t.Fatal(err)
		}
	}

	// Cold.
	cust := newRoomPeer(t, alice.Client, alice.room, "alice")
	carolPeer := newRoomPeer(t, carol.Client, conv.DeskRoom, "carol")
	davePeer := newRoomPeer(t, dave.Client, conv.DeskRoom, "dave")
	cust.call(t, rb.acme)
	defer keepTalking(cust, aliceBase)()
	answer(carolPeer)
	defer keepTalking(carolPeer, carolBase)()
	cust.connected(t, waitLong)
	grows("Carol heard by Alice", cust.Audio, carolBase)
	callRow := lastCall(t, db, conv.ID).ID
	// A cold transfer takes Carol out of the conversation: its answer reaches Dave.
	say(t, carol, conv.SideRoom, "!transfer dave")
	answer(davePeer)
	defer keepTalking(davePeer, daveBase)()
	waitSide(t, dave, conv.SideRoom, rb.acme, "Carol transferred the call to Dave")
	grows("Dave heard by Alice", cust.Audio, daveBase)
	grows("Alice heard by Dave", davePeer.Audio, aliceBase)
	s := cust.Audio.Stats()
	if s.SeqGaps != 0 || s.OutOfOrder != 0 || s.Corrupt == 0 {
		t.Errorf("Alice received %+v; want the hold prompt between Carol and Dave, with continuous sequence numbers", s)
	}
	// Carol is heard no more.
	before := cust.Audio.From(carolBase)
	time.Sleep(time.Second)
	if n := cust.Audio.From(carolBase); n != before {
		t.Errorf("Alice still hears Carol after the cold transfer: %d packets, then %d", before, n)
	}
	stillUp(cust)
	if calls, err := db.Calls().OfConversation(ctx, conv.ID); err != nil || len(calls) != 1 || calls[0].ID != callRow || calls[0].State == database.CallEnded {
		t.Fatalf("calls after the transfer: %+v (%v); want the first one, live", calls, err)
	}

	// Cold again, back to Carol, who declines: the call ends with a notice instead
	// of holding for ever.
	eventually(t, waitLong, "Dave in the side room", func() (bool, error) {
		_, err := dave.JoinRoomByID(ctx, conv.SideRoom)
		return err == nil, nil
	})
	say(t, dave, conv.SideRoom, "!transfer carol")
	// Carol's client declines the relay's new invite (her timeline, rejoined,
	// holds the first call's invite too).
	var ringing *database.CallLeg
	eventually(t, waitLong, "Carol rung again", func() (bool, error) {
		legs, err := db.Calls().Legs(ctx, callRow)
		for _, l := range legs {
			if l.Agent == carol.UserID && l.EndedAt.IsZero() {
				ringing = l
			}
		}
		return ringing != nil, err
	})
	typ, content, err := voice.Encode(&voice.Reject{Common: voice.Common{CallID: ringing.LegCallID, PartyID: "carol-declines", Version: voice.Version}})
	if err == nil {
		_, err = carol.SendMessageEvent(ctx, conv.DeskRoom, event.Type{Type: typ, Class: event.MessageEventType}, content)
	}
	if err != nil {
		t.Fatal(err)
	}
	declined := time.Now()
	cust.ended(t, waitLong)
	if took := time.Since(declined); took > 15*time.Second {
		t.Errorf("the call ended %s after the decline", took)
	}
	waitEvent(t, alice.Client, alice.room, "the no-agent notice", bodyIs(rb.acme, rb.d.Config.Tenants[0].CallNoAgent()))
	waitSide(t, carol, conv.SideRoom, rb.acme, "Carol declined") // the conversation is hers now
	if call := rb.endedCall(t, conv.ID, 1); call.Outcome != database.OutcomeAnswered {
		t.Errorf("the transferred call: %+v", call)
	}

	// Warm: Carol (the conversation's agent now) takes the next call and hands it
	// to Dave, staying on it until !leave.
	cust2 := newRoomPeer(t, alice.Client, alice.room, "alice-2")
	carol2 := newRoomPeer(t, carol.Client, conv.DeskRoom, "carol-2")
	dave2 := newRoomPeer(t, dave.Client, conv.DeskRoom, "dave-2")
	cust2.call(t, rb.acme)
	defer keepTalking(cust2, aliceBase)()
	answer(carol2)
	defer keepTalking(carol2, carolBase)()
	grows("Carol heard by Alice, second call", cust2.Audio, carolBase)
	sayIn(t, carol.Client, conv.SideRoom, rb.acme, "!transfer warm dave", "is transferring the call to Dave")
	answer(dave2)
	defer keepTalking(dave2, daveBase)()
	grows("Dave heard by Alice, warm", cust2.Audio, daveBase)
	grows("Carol still heard by Alice, warm", cust2.Audio, carolBase)
	grows("Alice heard by Carol, warm", carol2.Audio, aliceBase)
	say(t, carol, conv.SideRoom, "!leave")
	carol2.ended(t, waitLong)
	time.Sleep(500 * time.Millisecond)
	before = cust2.Audio.From(carolBase)
	grows("Dave heard by Alice after Carol left", cust2.Audio, daveBase)
	if n := cust2.Audio.From(carolBase); n != before {
		t.Errorf("Alice still hears Carol after her !leave: %d packets, then %d", before, n)
	}
	stillUp(cust2)
	cust2.Hangup(voice.ReasonUserHangup)
	dave2.ended(t, waitLong)
	call := rb.endedCall(t, conv.ID, 2)
	legs, err := db.Calls().Legs(ctx, call.ID)
	answered := map[id.UserID]bool{}
	for _, l := range legs {
		answered[l.Agent] = answered[l.Agent] || l.Outcome == database.OutcomeAnswered
	}
	if err != nil || !answered[dave.UserID] {
		t.Errorf("the warm-transferred call's legs: %+v (%v); want Dave's answered", legs, err)
	}
	modes := map[id.UserID][]string{}
	rows, err := db.Supervision().OfCall(ctx, call.ID)
	for _, r := range rows {
		modes[r.Staff] = append(modes[r.Staff], r.Mode)
	}
	if err != nil || len(modes[dave.UserID]) == 0 || modes[dave.UserID][0] != "transfer_warm" {
		t.Errorf("audit of the warm transfer: %v (%v)", modes, err)
	}
}

// say sends a command without waiting for an answer.
func say(t *testing.T, s *staff, room id.RoomID, body string) {
	t.Helper()
	if _, err := s.SendText(context.Background(), room, body); err != nil {
		t.Fatal(err)
	}
}
