package calls

import (
	"context"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/voice"
	"github.com/contactcenter/contactcenter/voice/voicetest"
)

const (
	// ringTimeout is short so that redirect on no answer is quick to see.
	ringTimeout = 6 * time.Second
	// packets a side streams: 3 s of Opus-sized packets at 20 ms.
	packets    = 150
	packetSize = 160
	packetGap  = 20 * time.Millisecond
)

// TestRelayedPionCall: customers on the customer homeserver (mautrix's client,
// encrypted DM, cross-signed) call ACME with a pion peer; the service rings
// agents in the desk room from the customer's ghost, and agents answer with a pion
// peer. Packets flow both ways and arrive intact, either side hangs up, a ring
// nobody answers passes to the next agent, a caller may give up while it rings,
// two calls at once stay apart, and nothing in the staff rooms (SDP and
// candidates included) names a customer.
func TestRelayedPionCall(t *testing.T) {
	rb := newRelayBed(t, ringTimeout)
	carol, dave := rb.staff(t, "carol"), rb.staff(t, "dave")
	rb.ready(t, carol)
	alice := rb.customer(t)
	conv := rb.conversation(t, alice.room)
	calls := 0

	t.Run("answered, customer hangs up", func(t *testing.T) {
		calls++
		cust := newRoomPeer(t, alice.Client, alice.room, "alice")
		cust.call(t, rb.acme)
		// No conversation was assigned: the call is routed (to Carol, the one
		// ready) and rings her in the desk room once she joined it.
		agent := newRoomPeer(t, carol.Client, conv.DeskRoom, "carol")
		inv := agent.ringing(t, waitLong)
		checkRelayInvite(t, carol, conv, inv, carol.UserID)
		if err := agent.Answer(inv); err != nil {
			t.Fatal(err)
		}
		talk(t, cust, agent, 0, 1_000_000)
		checkLoopback(t, cust, agent)
		if err := cust.CheckStreams(); err != nil {
			t.Fatalf("the customer's streams: %v", err)
		}
		cust.Hangup(voice.ReasonUserHangup)
		if r := agent.ended(t, waitLong); r != voice.ReasonUserHangup {
			t.Fatalf("the agent's call ended with %s; want user_hangup", r)
		}
		call := rb.endedCall(t, conv.ID, calls)
		if call.Outcome != database.OutcomeAnswered || call.Agent != carol.UserID || call.EndedBy != "customer" || call.AnsweredAt.IsZero() {
			t.Fatalf("recorded call: %+v", call)
		}
		var stats voice.CallStats
		if err := json.Unmarshal([]byte(call.Stats), &stats); err != nil || stats.Customer == nil || stats.Customer.Forwarded.Packets < packets*9/10 {
			t.Fatalf("recorded stats %s: %v", call.Stats, err)
		}
		waitEvent(t, carol.Client, conv.SideRoom, "the call's mirror line", bodyIs(rb.acme, "📞 call started"))
		waitEvent(t, carol.Client, conv.SideRoom, "the call summary", func(evt *event.Event) bool {
			return bodyIs(rb.acme, "Call summary")(evt) && strings.Contains(evt.Content.AsMessage().Body, "Answered by: Carol")
		})
	})

	t.Run("agent hangs up", func(t *testing.T) {
		calls++
		cust := newRoomPeer(t, alice.Client, alice.room, "alice")
		agent := newRoomPeer(t, carol.Client, conv.DeskRoom, "carol")
		cust.call(t, rb.acme)
		// The conversation is Carol's now: the call rings her directly.
		inv := agent.ringing(t, waitLong)
		if err := agent.Answer(inv); err != nil {
			t.Fatal(err)
		}
		talk(t, cust, agent, 2_000_000, 3_000_000)
		agent.Hangup(voice.ReasonUserHangup)
		if r := cust.ended(t, waitLong); r != voice.ReasonUserHangup {
			t.Fatalf("the customer's call ended with %s; want user_hangup", r)
		}
		if call := rb.endedCall(t, conv.ID, calls); call.EndedBy != "agent" || call.Outcome != database.OutcomeAnswered {
			t.Fatalf("recorded call: %+v", call)
		}
	})

	t.Run("ring timeout, then the next agent", func(t *testing.T) {
		calls++
		rb.ready(t, dave)
		cust := newRoomPeer(t, alice.Client, alice.room, "alice")
		carolPeer := newRoomPeer(t, carol.Client, conv.DeskRoom, "carol")
		// Dave's peer watches from before Carol's call ends: the service rings him the
		// moment it does, and a peer takes only what arrives after its start.
		davePeer := newRoomPeer(t, dave.Client, conv.DeskRoom, "dave")
		cust.call(t, rb.acme)
		carolPeer.ringing(t, waitLong)
		rang := time.Now()
		// Carol lets it ring: after ring_timeout her call ends and Dave's rings.
		if r := carolPeer.ended(t, waitLong); r != voice.ReasonInviteTimeout {
			t.Fatalf("Carol's unanswered call ended with %s; want invite_timeout", r)
		}
		if waited := time.Since(rang); waited < ringTimeout-time.Second {
			t.Fatalf("Carol's call ended after %s; ring_timeout is %s", waited, ringTimeout)
		}
		inv := davePeer.ringing(t, waitLong)
		if inv.Invitee != dave.UserID.String() {
			t.Fatalf("the next call rings %s; want Dave", inv.Invitee)
		}
		if err := davePeer.Answer(inv); err != nil {
			t.Fatal(err)
		}
		talk(t, cust, davePeer, 4_000_000, 5_000_000)
		cust.Hangup(voice.ReasonUserHangup)
		davePeer.ended(t, waitLong)
		call := rb.endedCall(t, conv.ID, calls)
		legs, err := rb.d.Service.DB.Calls().Legs(context.Background(), call.ID)
		if err != nil {
			t.Fatal(err)
		}
		if call.Agent != dave.UserID || len(legs) != 2 || legs[0].Agent != carol.UserID || legs[0].Outcome != "no_answer" ||
			legs[1].Agent != dave.UserID || legs[1].Outcome != database.OutcomeAnswered {
			t.Fatalf("recorded call %+v with legs %+v %+v", call, legs[0], legs[len(legs)-1])
		}
	})

	t.Run("abandoned while ringing", func(t *testing.T) {
		calls++
		cust := newRoomPeer(t, alice.Client, alice.room, "alice")
		agent := newRoomPeer(t, carol.Client, conv.DeskRoom, "carol")
		cust.call(t, rb.acme)
		agent.ringing(t, waitLong)
		cust.Hangup(voice.ReasonUserHangup)
		agent.ended(t, waitLong)
		if call := rb.endedCall(t, conv.ID, calls); call.Outcome != database.OutcomeAbandoned || !call.AnsweredAt.IsZero() {
			t.Fatalf("recorded call: %+v", call)
		}
	})

	t.Run("two calls at once stay apart", func(t *testing.T) {
		calls++
		bob := rb.customer(t)
		bobConv := rb.conversation(t, bob.room)
		alicePeer := newRoomPeer(t, alice.Client, alice.room, "alice")
		carolPeer := newRoomPeer(t, carol.Client, conv.DeskRoom, "carol")
		alicePeer.call(t, rb.acme)
		if err := carolPeer.Answer(carolPeer.ringing(t, waitLong)); err != nil {
			t.Fatal(err)
		}
		// Carol is on Alice's call: Bob's goes to Dave.
		bobPeer := newRoomPeer(t, bob.Client, bob.room, "bob")
		var davePeer *roomPeer
		bobPeer.call(t, rb.acme)
		bobConv = rb.conversation(t, bob.room)
		davePeer = newRoomPeer(t, dave.Client, bobConv.DeskRoom, "dave")
		inv := davePeer.ringing(t, waitLong)
		if err := davePeer.Answer(inv); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			talk(t, bobPeer, davePeer, 7_000_000, 8_000_000)
		}()
		talk(t, alicePeer, carolPeer, 6_000_000, 6_500_000)
		<-done
		for _, c := range []struct {
			name   string
			p      *roomPeer
			lo, hi uint64
		}{{"Carol", carolPeer, 6_000_000, 6_500_000}, {"Alice", alicePeer, 6_500_000, 7_000_000},
			{"Dave", davePeer, 7_000_000, 7_500_000}, {"Bob", bobPeer, 7_500_000, 8_000_000}} {
			if s := c.p.Audio.Stats(); s.Last < c.lo || s.Last >= c.hi+packets {
				t.Fatalf("%s heard packet %d, not of their own call", c.name, s.Last)
			}
		}
		alicePeer.Hangup(voice.ReasonUserHangup)
		bobPeer.Hangup(voice.ReasonUserHangup)
		carolPeer.ended(t, waitLong)
		davePeer.ended(t, waitLong)
		rb.endedCall(t, conv.ID, calls)
		rb.endedCall(t, bobConv.ID, 1)

		t.Run("privacy", func(t *testing.T) {
			for _, c := range []struct {
				cust  *customer
				conv  *database.Conversation
				staff *staff
			}{{alice, conv, carol}, {bob, bobConv, dave}} {
				secrets := []string{c.cust.UserID.String(), c.cust.UserID.Homeserver()}
				calls := 0
				for _, room := range []id.RoomID{c.conv.DeskRoom, c.conv.SideRoom} {
					for _, raw := range rawEvents(t, c.staff.Client, room) {
						calls += strings.Count(raw, `"m.call.`)
						for _, s := range secrets {
							if strings.Contains(raw, s) {
								t.Errorf("a staff-room event names the customer (%s): %.300s", s, raw)
							}
						}
					}
				}
				if calls < 4 {
					t.Fatalf("the privacy scan read %d call events", calls)
				}
			}
		})
	})

	t.Run("MatrixRTC attempt gets the fallback notice", func(t *testing.T) {
		ctx := context.Background()
		_, err := alice.SendMessageEvent(ctx, alice.room, event.Type{Type: "org.matrix.msc4075.rtc.notification", Class: event.MessageEventType},
			map[string]any{"notification_type": "ring", "m.mentions": map[string]any{"user_ids": []string{rb.acme.String()}}})
		if err != nil {
			t.Fatal(err)
		}
		waitEvent(t, alice.Client, alice.room, "the fallback notice", bodyIs(rb.acme, bot.CallsNeedLegacyClient[:30]))
	})
}

// talk streams test packets both ways (a from aFirst, b from bFirst) and checks
// that each side got the other's, intact and in order.
func talk(t *testing.T, a, b *roomPeer, aFirst, bFirst uint64) {
	t.Helper()
	a.connected(t, waitLong)
	b.connected(t, waitLong)
	ctx := context.Background()
	errs := make(chan error, 2)
	go func() { errs <- a.Stream(ctx, false, aFirst, packets, packetSize, packetGap) }()
	go func() { errs <- b.Stream(ctx, false, bFirst, packets, packetSize, packetGap) }()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for _, side := range []struct {
		name  string
		r     *voicetest.Receiver
		first uint64
	}{{a.Name, a.Audio, bFirst}, {b.Name, b.Audio, aFirst}} {
		side.r.WaitCount(packets*9/10, 5*time.Second)
		s := side.r.Stats()
		if s.Count < packets*9/10 || s.Corrupt > 0 || s.OutOfOrder > 0 || s.Last < side.first || s.Last >= side.first+packets {
			t.Fatalf("%s received %+v; want about %d intact packets from %d", side.name, s, packets, side.first)
		}
	}
}

// checkLoopback asserts both peers' selected candidate pairs are on loopback.
func checkLoopback(t *testing.T, peers ...*roomPeer) {
	t.Helper()
	for _, p := range peers {
		local, remote, err := p.SelectedPair()
		if err != nil {
			t.Fatalf("%s: %v", p.Name, err)
		}
		for _, a := range []string{local, remote} {
			if ip, err := netip.ParseAddr(a); err != nil || !ip.IsLoopback() {
				t.Fatalf("%s: selected pair %s → %s is not on loopback", p.Name, local, remote)
			}
		}
	}
}

// checkRelayInvite checks the wire contract of the relay's invite as the agent's
// client got it: from the ghost, version the string "1", the agent as invitee,
// a lifetime of a minute or more, every stream in sdp_stream_metadata.
func checkRelayInvite(t *testing.T, agent *staff, conv *database.Conversation, inv *voice.Invite, want id.UserID) {
	t.Helper()
	evt := waitEvent(t, agent.Client, conv.DeskRoom, "the relay's invite", func(evt *event.Event) bool {
		return evt.Type.Type == voice.TypeInvite && strings.Contains(string(evt.Content.VeryRaw), inv.CallID)
	})
	var raw map[string]any
	if err := json.Unmarshal(evt.Content.VeryRaw, &raw); err != nil {
		t.Fatal(err)
	}
	if raw["version"] != "1" || raw["invitee"] != want.String() || raw["party_id"] == "" || raw["lifetime"].(float64) < 60000 {
		t.Fatalf("relay invite %s", evt.Content.VeryRaw)
	}
	if meta, _ := raw["sdp_stream_metadata"].(map[string]any); len(meta) == 0 {
		t.Fatalf("relay invite without sdp_stream_metadata: %s", evt.Content.VeryRaw)
	}
	if evt.Sender != conv.Ghost {
		t.Fatalf("the invite comes from %s, not the customer's ghost %s", evt.Sender, conv.Ghost)
	}
}
