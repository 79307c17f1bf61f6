package calls

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/voice"
)

// TestRelayedCallRestart: the service stops with one call answered and another
// ringing an agent. Stopping hangs up every leg with a spec reason and records the
// calls as ended. Then the same, as a crash leaves it: the calls are still live in
// the database at the next start, which hangs up the customer and every agent
// still rung or talking from those records, and ends the calls; none is left
// ringing.
func TestRelayedCallRestart(t *testing.T) {
	rb := newRelayBed(t, 40*time.Second)
	ctx := context.Background()
	carol, dave := rb.staff(t, "carol"), rb.staff(t, "dave")
	rb.ready(t, carol)
	alice := rb.customer(t)
	aliceConv := rb.conversation(t, alice.room)

	// Alice talks to Carol.
	alicePeer := newRoomPeer(t, alice.Client, alice.room, "alice")
	carolPeer := newRoomPeer(t, carol.Client, aliceConv.DeskRoom, "carol")
	alicePeer.call(t, rb.acme)
	if err := carolPeer.Answer(carolPeer.ringing(t, waitLong)); err != nil {
		t.Fatal(err)
	}
	talk(t, alicePeer, carolPeer, 0, 1_000_000)
	// Bob's call rings Dave (Carol is on a call), who does not answer.
	rb.ready(t, dave)
	bob := rb.customer(t)
	bobConv := rb.conversation(t, bob.room)
	bobPeer := newRoomPeer(t, bob.Client, bob.room, "bob")
	davePeer := newRoomPeer(t, dave.Client, bobConv.DeskRoom, "dave")
	bobPeer.call(t, rb.acme)
	davePeer.ringing(t, waitLong)

	// What a crash at this moment would leave in the database.
	db := rb.d.Service.DB
	live, err := db.Calls().Live(ctx)
	if err != nil || len(live) != 2 {
		t.Fatalf("live calls before the stop: %d (%v)", len(live), err)
	}
	states := map[int64]string{}
	openLegs := map[int64][]*database.CallLeg{}
	for _, c := range live {
		states[c.ID] = c.State
		legs, err := db.Calls().Legs(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range legs {
			if l.EndedAt.IsZero() {
				openLegs[c.ID] = append(openLegs[c.ID], l)
			}
		}
		if len(openLegs[c.ID]) != 1 || c.CustomerPartyID == "" {
			t.Fatalf("call %+v: open legs %+v", c, openLegs[c.ID])
		}
	}
	if states[live[0].ID] == states[live[1].ID] {
		t.Fatalf("want one call answered and one ringing: %v", states)
	}

	t.Run("stop hangs up every leg", func(t *testing.T) {
		rb.d.StopService()
		for _, p := range []*roomPeer{alicePeer, carolPeer, bobPeer, davePeer} {
			if r := p.ended(t, waitLong); !r.Valid() {
				t.Fatalf("%s's call ended with %q, not a spec reason", p.Name, r)
			}
		}
		ended := reopen(t, rb)
		defer ended.Close()
		if still, err := ended.Calls().Live(ctx); err != nil || len(still) != 0 {
			t.Fatalf("calls left live by the stop: %+v (%v)", still, err)
		}
	})

	t.Run("a start hangs up what a crash left live", func(t *testing.T) {
		crashed := reopen(t, rb)
		for _, c := range live {
			_, err := crashed.Exec(ctx, `UPDATE calls SET state = $2, outcome = '', end_reason = '', ended_by = '', stats = '', ended_at = NULL
				WHERE id = $1`, c.ID, states[c.ID])
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range openLegs[c.ID] {
				if _, err = crashed.Exec(ctx, `UPDATE call_legs SET ended_at = NULL, outcome = '' WHERE call_row = $1 AND leg_call_id = $2`,
					c.ID, l.LegCallID); err != nil {
					t.Fatal(err)
				}
			}
		}
		if again, err := crashed.Calls().Live(ctx); err != nil || len(again) != 2 {
			t.Fatalf("live calls as a crash leaves them: %d (%v)", len(again), err)
		}
		crashed.Close()
		hangups := func() map[string]int {
			out := map[string]int{}
			for _, c := range live {
				cust := map[int64]*customer{aliceConv.ID: alice, bobConv.ID: bob}[c.ConversationID]
				out[c.CustomerCallID] = countHangups(cust.Events(c.CustomerRoom), rb.acme, c.CustomerCallID, c.CustomerPartyID)
				conv := map[int64]*database.Conversation{aliceConv.ID: aliceConv, bobConv.ID: bobConv}[c.ConversationID]
				agent := map[int64]*staff{aliceConv.ID: carol, bobConv.ID: dave}[c.ConversationID]
				for _, l := range openLegs[c.ID] {
					out[l.LegCallID] = countHangups(agent.Events(conv.DeskRoom), conv.Ghost, l.LegCallID, l.PartyID)
				}
			}
			return out
		}
		before := hangups()
		if err := rb.d.StartService(ctx); err != nil {
			t.Fatal(err)
		}
		db := rb.d.Service.DB
		for _, c := range live {
			got, err := db.Calls().ByCustomerCall(ctx, c.CustomerRoom, c.CustomerCallID)
			if err != nil || got.State != database.CallEnded || got.Outcome != database.OutcomeFailed ||
				got.EndReason != string(voice.ReasonUnknownError) || got.EndedBy != "service" {
				t.Fatalf("call %d after the start: %+v (%v)", c.ID, got, err)
			}
			legs, err := db.Calls().Legs(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range legs {
				if l.EndedAt.IsZero() {
					t.Fatalf("call %d: leg %+v left open", c.ID, l)
				}
			}
		}
		// Each customer and each agent still rung or talking gets the hangup, with
		// the party the service used on that call.
		eventually(t, waitLong, "the hangups sent from the records", func() (bool, error) {
			now := hangups()
			for callID, n := range now {
				if n <= before[callID] {
					return false, nil
				}
			}
			return true, nil
		})
	})
}

// reopen opens the deployment's database while the service is stopped.
func reopen(t *testing.T, rb *relayBed) *database.Database {
	t.Helper()
	db, err := database.Open(database.Config{Type: "sqlite", URI: rb.d.Config.ResolvePath(rb.d.Config.Database.URI)}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// countHangups counts the m.call.hangup events of callID from sender with the
// party and a spec reason.
func countHangups(events []*event.Event, sender id.UserID, callID, party string) int {
	n := 0
	for _, evt := range events {
		if evt.Sender != sender || evt.Type.Type != voice.TypeHangup {
			continue
		}
		msg, err := voice.Parse(evt.Type.Type, evt.Content.VeryRaw)
		if h, ok := msg.(*voice.Hangup); err == nil && ok && h.CallID == callID && h.PartyID == party && h.Reason.Valid() {
			n++
		}
	}
	return n
}
