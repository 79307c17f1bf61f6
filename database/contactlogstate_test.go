package database_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/internal/dbtest"
	"github.com/contactcenter/contactcenter/reporting"
)

// TestStateChangesLogThemselves: each state change that wins appends its entry in
// its transaction, one that loses (a replay, a second replica) appends nothing, and
// a rolled-back change leaves no entry; the folded log gives what happened.
func TestStateChangesLogThemselves(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		const tenant = "acme"
		var observed []reporting.Kind
		db.ContactLog.Observe(func(_ context.Context, e reporting.Entry) { observed = append(observed, e.Kind) })
		q := db.Conversation
		start := func(room string, at time.Time) int64 {
			roomID := id.RoomID("!" + room + ":x")
			if err := db.CustomerRoom.Put(ctx, &database.CustomerRoom{RoomID: roomID, TenantID: tenant, Customer: "@c:y", JoinedAt: at}); err != nil {
				t.Fatal(err)
			}
			conv, err := q.Start(ctx, database.NewConversation{TenantID: tenant, RoomID: roomID, Step: "support", CustomerRef: "Visitor 4F2A"}, at)
			if err != nil {
				t.Fatal(err)
			}
			return conv.ID
		}
		must := func(what string, won bool, err error) {
			t.Helper()
			if err != nil || !won {
				t.Fatalf("%s: won %v, %v", what, won, err)
			}
		}
		lose := func(what string, change func() (bool, error)) {
			t.Helper()
			if won, err := change(); err != nil || won {
				t.Fatalf("%s replayed: won %v, %v; want lost", what, won, err)
			}
		}
		at := func(s int) time.Time { return claimEpoch.Add(time.Duration(s) * time.Second) }

		a := start("a", at(0))
		won, err := q.Offer(ctx, tenant, a, carol, 2, at(5))
		must("offer carol", won, err)
		won, err = q.WithdrawAt(ctx, a, carol, at(35))
		must("offer lapsed", won, err)
		lose("offer lapsed", func() (bool, error) { return q.WithdrawAt(ctx, a, carol, at(36)) })
		won, err = q.Offer(ctx, tenant, a, dave, 2, at(40))
		must("offer dave", won, err)
		won, err = q.Answer(ctx, tenant, a, dave, false, at(45))
		must("dave declines", won, err)
		won, err = q.Offer(ctx, tenant, a, carol, 2, at(50))
		must("offer carol again", won, err)
		won, err = q.Answer(ctx, tenant, a, carol, true, at(55))
		must("carol accepts", won, err)
		lose("carol accepts", func() (bool, error) { return q.Answer(ctx, tenant, a, carol, true, at(56)) })
		won, err = q.Transfer(ctx, a, dave, at(100))
		must("transfer to dave", won, err)
		won, err = q.Transfer(ctx, a, dave, at(101))
		must("transfer to dave again", won, err) // stays with dave: no entry
		won, err = q.RequeueAt(ctx, a, at(130))
		must("requeue", won, err)
		// A change rolled back leaves no entry behind.
		_ = db.DoTxn(ctx, nil, func(ctx context.Context) error {
			won, err := q.Assign(ctx, tenant, a, carol, 2, at(150))
			must("assign (rolled back)", won, err)
			return context.Canceled
		})
		won, err = q.Assign(ctx, tenant, a, carol, 2, at(160))
		must("assign carol", won, err)
		won, err = q.CloseBy(ctx, a, at(300), reporting.EndedByAgent)
		must("close", won, err)
		lose("close", func() (bool, error) { return q.CloseBy(ctx, a, at(301), reporting.EndedByCustomer) })

		b := start("b", at(10))
		won, err = q.CloseBy(ctx, b, at(12), reporting.EndedByCustomer)
		must("customer leaves b", won, err)
		c := start("c", at(20))
		won, err = q.Close(ctx, c, at(30))
		must("service closes c", won, err)

		entries, err := db.ContactLog.Conversation(ctx, tenant, at(0), a)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for _, e := range entries {
			kinds = append(kinds, string(e.Kind)+":"+e.Agent+":"+e.Detail)
		}
		want := []string{"queued::", "offered:@carol:x:", "offer_missed:@carol:x:", "offered:@dave:x:", "offer_declined:@dave:x:",
			"offered:@carol:x:", "accepted:@carol:x:", "transferred:@dave:x:@carol:x", "requeued:@dave:x:",
			"accepted:@carol:x:", "ended::agent"}
		if !slices.Equal(kinds, want) {
			t.Errorf("conversation a logged\n%s\nwant\n%s", strings.Join(kinds, "\n"), strings.Join(want, "\n"))
		}
		if entries[0].Step != "support" || entries[0].Customer != "Visitor 4F2A" || !entries[0].OpenedAt.Equal(at(0)) {
			t.Errorf("queued entry %+v", entries[0])
		}
		if step, err := db.ContactLog.StepOf(ctx, tenant, a); step != "support" || err != nil {
			t.Errorf("step of a: %q, %v", step, err)
		}
		// The observer is called inside the transaction: the rolled-back assignment too.
		if len(observed) != 16 {
			t.Errorf("observed %d appends (%v), want the 15 entries written and the rolled-back one", len(observed), observed)
		}

		contact := reporting.Fold(entries)
		// Served: carol 55→100, dave 100→130 (requeued), carol 160→300.
		if d, ok := contact.Handle(); !ok || d != (45+30+140)*time.Second {
			t.Errorf("handle %v (%v), serving %+v", d, ok, contact.Serving)
		}
		if !contact.Accepted.Equal(at(55)) || contact.EndedBy != reporting.EndedByAgent || contact.Transfers != 1 || contact.Requeues != 1 {
			t.Errorf("contact a: %+v", contact)
		}
		for conv, want := range map[int64]string{b: reporting.OutcomeAbandoned, c: reporting.OutcomeUnhandled} {
			opened := at(10)
			if conv == c {
				opened = at(20)
			}
			entries, err := db.ContactLog.Conversation(ctx, tenant, opened, conv)
			if err != nil {
				t.Fatal(err)
			}
			got := reporting.Fold(entries)
			if outcome := got.Outcome(time.Second); outcome != want {
				t.Errorf("conversation %d: %s (%+v), want %s", conv, outcome, entries, want)
			}
		}
	})
}
