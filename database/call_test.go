package database_test

import (
	"context"
	"testing"
	"time"

	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/internal/dbtest"
)

// TestCalls: a call is recorded once per customer call ID, answered and ended once,
// its legs keep how each ended, and only calls not ended are live (what a start
// hangs up).
func TestCalls(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		now := time.UnixMilli(time.Now().UnixMilli())
		calls := db.Calls()
		c, err := calls.Start(ctx, "acme", 7, "!dm:c.test", "call1", now)
		if err != nil {
			t.Fatal(err)
		}
		again, err := calls.Start(ctx, "acme", 7, "!dm:c.test", "call1", now.Add(time.Second))
		if err != nil || again.ID != c.ID || !again.StartedAt.Equal(now) || again.State != database.CallRinging {
			t.Fatalf("the same call again: %+v %v", again, err)
		}
		other, err := calls.Start(ctx, "acme", 8, "!dm2:c.test", "call2", now)
		if err != nil || other.ID == c.ID {
			t.Fatalf("another call: %+v %v", other, err)
		}
		if err = calls.SetCustomerParty(ctx, c.ID, "party1"); err != nil {
			t.Fatal(err)
		}
		for _, l := range []*database.CallLeg{
			{Call: c.ID, DeskRoom: "!desk:b.test", Agent: "@carol:b.test", LegCallID: "legA", PartyID: "pA", RangAt: now},
			{Call: c.ID, DeskRoom: "!desk:b.test", Agent: "@dave:b.test", LegCallID: "legB", PartyID: "pB", RangAt: now.Add(time.Second)},
		} {
			if err = calls.AddLeg(ctx, l); err != nil {
				t.Fatal(err)
			}
		}
		if err = calls.EndLeg(ctx, c.ID, "legA", "no_answer", now.Add(2*time.Second)); err != nil {
			t.Fatal(err)
		}
		if err = calls.EndLeg(ctx, c.ID, "legA", "answered", now.Add(3*time.Second)); err != nil {
			t.Fatal(err)
		}
		if won, err := calls.Answered(ctx, c.ID, "@dave:b.test", now.Add(3*time.Second)); err != nil || !won {
			t.Fatalf("answered: %v %v", won, err)
		}
		if won, _ := calls.Answered(ctx, c.ID, "@carol:b.test", now.Add(4*time.Second)); won {
			t.Fatal("a call was answered twice")
		}
		if moved, err := calls.TakenOver(ctx, c.ID, "@carol:b.test"); err != nil || !moved {
			t.Fatalf("taken over: %v %v", moved, err)
		}
		if moved, _ := calls.TakenOver(ctx, c.ID, "@carol:b.test"); moved {
			t.Fatal("taken over by the agent who already has it")
		}
		if got, err := calls.ByCustomerCall(ctx, c.CustomerRoom, c.CustomerCallID); err != nil || got.Agent != "@carol:b.test" || !got.AnsweredAt.Equal(now.Add(3*time.Second)) {
			t.Fatalf("after the transfer: %+v %v", got, err)
		}
		live, err := calls.Live(ctx)
		if err != nil || len(live) != 2 {
			t.Fatalf("live calls: %d %v", len(live), err)
		}
		if won, err := calls.End(ctx, c.ID, database.OutcomeAnswered, "user_hangup", "customer", `{"x":1}`, now.Add(9*time.Second)); err != nil || !won {
			t.Fatalf("end: %v %v", won, err)
		}
		if won, _ := calls.End(ctx, c.ID, database.OutcomeFailed, "unknown_error", "service", "", now.Add(10*time.Second)); won {
			t.Fatal("a call ended twice")
		}
		got, err := calls.ByCustomerCall(ctx, "!dm:c.test", "call1")
		if err != nil || got.State != database.CallEnded || got.Agent != "@carol:b.test" || got.CustomerPartyID != "party1" ||
			got.Outcome != database.OutcomeAnswered || got.EndedBy != "customer" || !got.EndedAt.Equal(now.Add(9*time.Second)) ||
			!got.AnsweredAt.Equal(now.Add(3*time.Second)) || got.Stats != `{"x":1}` {
			t.Fatalf("recorded %+v %v", got, err)
		}
		legs, err := calls.Legs(ctx, c.ID)
		if err != nil || len(legs) != 2 || legs[0].Outcome != "no_answer" || legs[1].Outcome != "" || !legs[1].EndedAt.IsZero() {
			t.Fatalf("legs %+v %v", legs, err)
		}
		if live, _ = calls.Live(ctx); len(live) != 1 || live[0].ID != other.ID {
			t.Fatalf("live after the end: %+v", live)
		}
		if none, err := calls.ByCustomerCall(ctx, "!dm:c.test", "nope"); none != nil || err != nil {
			t.Fatalf("unknown call: %+v %v", none, err)
		}
	})
}

// TestMissRing: a ring an agent let run out counts in the same row as the offers
// they let lapse, per tenant, and the count starts again as an answer resets it.
func TestMissRing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		calls := db.Calls()
		const carol = "@carol:b.test"
		for _, tenant := range []string{"acme", "other"} {
			if err := db.Staff.SetStatus(ctx, tenant, carol, "ready", time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		for want := 1; want <= 3; want++ {
			if n, err := calls.MissRing(ctx, "acme", carol); n != want || err != nil {
				t.Fatalf("ring %d missed: count %d, %v", want, n, err)
			}
		}
		if n, err := db.Staff.Missed(ctx, "acme", carol); n != 3 || err != nil {
			t.Fatalf("missed offers after 3 rings: %d, %v", n, err)
		}
		if n, err := db.Staff.Missed(ctx, "other", carol); n != 0 || err != nil {
			t.Fatalf("the other tenant's count: %d, %v", n, err)
		}
		if err := db.Staff.ResetMissed(ctx, "acme", carol); err != nil {
			t.Fatal(err)
		}
		if n, err := calls.MissRing(ctx, "acme", carol); n != 1 || err != nil {
			t.Fatalf("after a reset: %d, %v", n, err)
		}
		if n, err := calls.MissRing(ctx, "acme", "@nobody:b.test"); n != 0 || err != nil {
			t.Fatalf("an agent without a record: %d, %v", n, err)
		}
	})
}
