package calls

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/routing"
	"github.com/contactcenter/contactcenter/voice"
)

// routingRing is the ring timeout of the routing tests: short, as several rings
// run out.
const routingRing = 5 * time.Second

// TestRelayedCallRouting: who a call rings and what an unanswered ring leaves
// behind. An agent with voice: false is never rung (with nobody else the caller is
// told at once, and the chat goes on); a ring_timeout that runs out before the
// agent even joined the desk room passes the call on; an agent the call brought
// in who does not answer is taken out of the conversation, which goes to whoever
// answers, while the agent who served it before the call keeps it; unanswered
// rings count toward RONA like lapsed offers (rona_after 2: away), and an answer
// starts the count again.
func TestRelayedCallRouting(t *testing.T) {
	rb := newRelayBed(t, routingRing, func(cfg *config.Config) {
		noVoice := false
		cfg.Tenants[0].Staff = append(cfg.Tenants[0].Staff,
			routing.Staff{UserID: "@erin:" + cfg.Homeserver.Domain, Name: "Erin", Role: routing.RoleAgent, Voice: &noVoice})
	})
	ctx := context.Background()
	db := rb.d.Service.DB
	tenant := rb.d.Config.Tenants[0].ID
	carol, dave, erin := rb.staff(t, "carol"), rb.staff(t, "dave"), rb.staff(t, "erin")
	missed := func(s *staff) int {
		t.Helper()
		n, err := db.Staff.Missed(ctx, tenant, s.UserID)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	roles := func(convID int64) map[id.UserID]database.StaffRole {
		t.Helper()
		ps, err := db.Participants.Current(ctx, convID)
		if err != nil {
			t.Fatal(err)
		}
		out := map[id.UserID]database.StaffRole{}
		for _, p := range ps {
			out[p.UserID] = p.Role
		}
		return out
	}

	t.Run("voice false is never rung", func(t *testing.T) {
		rb.ready(t, erin)
		alice := rb.customer(t)
		conv := rb.conversation(t, alice.room)
		// Erin, the only one ready, takes chats but no calls: nobody can answer.
		cust := newRoomPeer(t, alice.Client, alice.room, "alice")
		cust.call(t, rb.acme)
		if r := cust.ended(t, waitLong); r != voice.ReasonUserBusy {
			t.Fatalf("the call nobody can take ended with %s; want user_busy", r)
		}
		waitEvent(t, alice.Client, alice.room, "the no-agent message", bodyIs(rb.acme, config.DefaultCallNoAgentMessage[:30]))
		call := rb.endedCall(t, conv.ID, 1)
		if legs, err := db.Calls().Legs(ctx, call.ID); err != nil || len(legs) != 0 || call.Outcome != database.OutcomeMissed {
			t.Fatalf("recorded call %+v with legs %+v (%v)", call, legs, err)
		}

		// With Dave ready, the call rings him, never Erin, and the conversation is his.
		rb.ready(t, dave)
		cust = newRoomPeer(t, alice.Client, alice.room, "alice")
		davePeer := newRoomPeer(t, dave.Client, conv.DeskRoom, "dave")
		cust.call(t, rb.acme)
		if err := davePeer.Answer(davePeer.ringing(t, waitLong)); err != nil {
			t.Fatal(err)
		}
		talk(t, cust, davePeer, 0, 1_000_000)
		cust.Hangup(voice.ReasonUserHangup)
		davePeer.ended(t, waitLong)
		call = rb.endedCall(t, conv.ID, 2)
		legs, err := db.Calls().Legs(ctx, call.ID)
		if err != nil || len(legs) != 1 || legs[0].Agent != dave.UserID || call.Agent != dave.UserID {
			t.Fatalf("recorded call %+v with legs %+v (%v)", call, legs, err)
		}
		got, err := db.Conversation.Get(ctx, conv.ID)
		if err != nil || got.Agent != dave.UserID || got.Status != database.StatusAssigned || got.OfferedTo != "" {
			t.Fatalf("the conversation after Dave took the call: %+v (%v)", got, err)
		}
		for _, evt := range erin.Events(conv.DeskRoom) {
			if evt.Type.Type == voice.TypeInvite {
				t.Fatalf("Erin (voice: false) saw a call invite: %s", evt.Content.VeryRaw)
			}
		}
	})

	t.Run("ring timeout before the agent joined, then whoever answers takes the conversation", func(t *testing.T) {
		sayIn(t, dave.Client, dave.control, rb.acme, "!away", bot.StatusNow(string(routing.Away)))
		sayIn(t, erin.Client, erin.control, rb.acme, "!away", bot.StatusNow(string(routing.Away)))
		carol.away.Store(true) // she joins none of the rooms she is invited to
		t.Cleanup(func() { carol.away.Store(false) })
		rb.ready(t, carol)
		bob := rb.customer(t)
		conv := rb.conversation(t, bob.room)
		eventually(t, waitLong, "Bob's conversation offered to Carol", func() (bool, error) {
			got, err := db.Conversation.Get(ctx, conv.ID)
			return got != nil && got.Status == database.StatusOffered && got.OfferedTo == carol.UserID, err
		})
		rb.ready(t, dave)
		cust := newRoomPeer(t, bob.Client, bob.room, "bob")
		davePeer := newRoomPeer(t, dave.Client, conv.DeskRoom, "dave")
		placed := time.Now()
		cust.call(t, rb.acme)
		// The call takes Carol's offer and waits for her in the desk room; she never
		// comes, and after ring_timeout Dave rings.
		inv := davePeer.ringing(t, waitLong)
		if waited := time.Since(placed); waited < routingRing-time.Second {
			t.Fatalf("Dave rang %s after the call; Carol's ring_timeout is %s", waited, routingRing)
		}
		if inv.Invitee != dave.UserID.String() {
			t.Fatalf("the call rings %s; want Dave", inv.Invitee)
		}
		if err := davePeer.Answer(inv); err != nil {
			t.Fatal(err)
		}
		talk(t, cust, davePeer, 2_000_000, 3_000_000)
		if n := missed(carol); n != 1 {
			t.Fatalf("Carol's missed offers after a ring she let run out: %d; want 1", n)
		}
		waitEvent(t, carol.Client, carol.control, "Carol told of the missed call", bodyIs(rb.acme, "went to someone else"))
		got, err := db.Conversation.Get(ctx, conv.ID)
		if err != nil || got.Agent != dave.UserID || got.Status != database.StatusAssigned {
			t.Fatalf("the conversation after Dave answered: %+v (%v)", got, err)
		}
		declined, err := db.Participants.Declined(ctx, tenant)
		if err != nil {
			t.Fatal(err)
		}
		if r := roles(conv.ID); len(r) != 1 || r[dave.UserID] != database.RoleAgent || !slices.Contains(declined[conv.ID], carol.UserID) {
			t.Fatalf("participants after Dave answered: %v, passed over %v; want Dave the agent, Carol passed over", r, declined[conv.ID])
		}
		waitEvent(t, dave.Client, conv.SideRoom, "the side room told Carol is out", bodyIs(rb.acme, bot.CallPassedOnNotice("Carol")))
		cust.Hangup(voice.ReasonUserHangup)
		davePeer.ended(t, waitLong)
		call := rb.endedCall(t, conv.ID, 1)
		if legs, err := db.Calls().Legs(ctx, call.ID); err != nil || len(legs) != 1 || legs[0].Agent != dave.UserID ||
			legs[0].Outcome != database.OutcomeAnswered {
			t.Fatalf("legs %+v (%v): Carol, who never joined, was never dialled", legs, err)
		}
	})

	t.Run("unanswered rings count toward RONA, an answer resets the count", func(t *testing.T) {
		sayIn(t, dave.Client, dave.control, rb.acme, "!away", bot.StatusNow(string(routing.Away)))
		cathy := rb.customer(t)
		conv := rb.conversation(t, cathy.room)
		calls := 0
		ring := func(answer bool) {
			t.Helper()
			calls++
			cust := newRoomPeer(t, cathy.Client, cathy.room, "cathy")
			carolPeer := newRoomPeer(t, carol.Client, conv.DeskRoom, "carol")
			cust.call(t, rb.acme)
			inv := carolPeer.ringing(t, waitLong)
			if !answer {
				if r := carolPeer.ended(t, waitLong); r != voice.ReasonInviteTimeout {
					t.Fatalf("Carol's unanswered ring ended with %s", r)
				}
				// Nobody else takes calls now: the caller is told and hung up.
				if r := cust.ended(t, waitLong); r != voice.ReasonInviteTimeout {
					t.Fatalf("the caller's call ended with %s; want invite_timeout", r)
				}
				rb.endedCall(t, conv.ID, calls)
				return
			}
			if err := carolPeer.Answer(inv); err != nil {
				t.Fatal(err)
			}
			talk(t, cust, carolPeer, 4_000_000, 5_000_000)
			cust.Hangup(voice.ReasonUserHangup)
			carolPeer.ended(t, waitLong)
			rb.endedCall(t, conv.ID, calls)
		}
		// Carol missed one already; answering starts her count again.
		ring(true)
		if n := missed(carol); n != 0 {
			t.Fatalf("Carol's missed offers after she answered: %d; want 0", n)
		}
		// She served the chat before these calls: missing them, she keeps it.
		ring(false)
		if n := missed(carol); n != 1 {
			t.Fatalf("missed offers after one unanswered ring: %d; want 1", n)
		}
		if r := roles(conv.ID); r[carol.UserID] != database.RoleAgent {
			t.Fatalf("Carol, the chat's agent before the call, lost it: %v", r)
		}
		ring(false)
		// Two in a row (rona_after 2): she is away, and the count starts again.
		record, err := db.Staff.Get(ctx, tenant, carol.UserID)
		if err != nil || record.Status != routing.Away {
			t.Fatalf("Carol after two unanswered rings: %+v (%v); want away", record, err)
		}
		if n := missed(carol); n != 0 {
			t.Fatalf("missed offers once set away: %d; want 0", n)
		}
		waitEvent(t, carol.Client, carol.control, "Carol told she is away", func(evt *event.Event) bool {
			return bodyIs(rb.acme, "went to someone else")(evt) && strings.Contains(evt.Content.AsMessage().Body, "now **away**") ||
				bodyIs(rb.acme, "you are now away")(evt)
		})
		if got, err := db.Conversation.Get(ctx, conv.ID); err != nil || got.Agent != carol.UserID {
			t.Fatalf("the conversation after Carol went away: %+v (%v); she keeps it", got, err)
		}
	})
}
