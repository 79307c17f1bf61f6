package database_test

import (
	"context"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/database"
)

// TestConversationLifecycle: waiting, offered, declined, assigned, load, closed.
func TestConversationLifecycle(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		now := time.Now()
		for _, r := range []id.RoomID{"!a:x", "!b:x"} {
			if err := db.CustomerRoom.Put(ctx, &database.CustomerRoom{RoomID: r, TenantID: "acme", Customer: "@c:y", JoinedAt: now}); err != nil {
				t.Fatal(err)
			}
		}
		a, err := db.Conversation.Start(ctx, database.NewConversation{TenantID: "acme", RoomID: "!a:x", Ghost: "@g:x", DeskRoom: "!desk-a:x", SideRoom: "!side-a:x"}, now)
		if err != nil {
			t.Fatal(err)
		}
		if _, err = db.Conversation.Start(ctx, database.NewConversation{TenantID: "acme", RoomID: "!b:x", Ghost: "@h:x", DeskRoom: "!desk-b:x", SideRoom: "!side-b:x"}, now.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		waiting, err := db.Conversation.Waiting(ctx, "acme")
		if err != nil || len(waiting) != 2 || waiting[0].ID != a.ID {
			t.Fatalf("waiting = %v, %v", waiting, err)
		}
		claims := db.Conversation
		if ok, err := claims.Offer(ctx, "acme", a.ID, "@carol:x", 3, now); !ok || err != nil {
			t.Fatal("offer", ok, err)
		}
		if ok, _ := claims.Offer(ctx, "acme", a.ID, "@dave:x", 3, now); ok {
			t.Fatal("an offered conversation must not be offered again")
		}
		offers, err := db.Conversation.OpenOffers(ctx, "acme")
		if err != nil || len(offers) != 1 || offers["@carol:x"] != a.ID {
			t.Fatalf("offers = %v, %v", offers, err)
		}
		if got, _ := db.Conversation.OfferedTo(ctx, "acme", "@carol:x"); got == nil || got.ID != a.ID {
			t.Fatalf("offered to carol = %+v", got)
		}
		if ok, _ := db.Conversation.Decline(ctx, a.ID, "@dave:x"); ok {
			t.Fatal("Dave declined Carol's offer")
		}
		if ok, _ := db.Conversation.Decline(ctx, a.ID, "@carol:x"); !ok {
			t.Fatal("decline")
		}
		if err = db.Participants.Add(ctx, a.ID, "@carol:x", database.RoleDeclined, now); err != nil {
			t.Fatal(err)
		}
		if declined, err := db.Participants.Declined(ctx, "acme"); err != nil || len(declined) != 1 || len(declined[a.ID]) != 1 || declined[a.ID][0] != "@carol:x" {
			t.Fatalf("declined = %v, %v", declined, err)
		}
		if ok, _ := db.Conversation.Transfer(ctx, a.ID, "@carol:x", now); !ok {
			t.Fatal("assign")
		}
		if err = db.Participants.Add(ctx, a.ID, "@carol:x", database.RoleAgent, now); err != nil {
			t.Fatal(err)
		}
		if err = db.Participants.Add(ctx, a.ID, "@sam:x", database.RoleMonitor, now); err != nil {
			t.Fatal(err)
		}
		load, err := db.Participants.ActiveLoad(ctx, "acme")
		if err != nil || load["@carol:x"] != 1 || load["@sam:x"] != 0 {
			t.Fatalf("load = %v, %v", load, err)
		}
		got, err := db.Conversation.ByStaffRoom(ctx, "!side-a:x")
		if err != nil || got == nil || got.Status != database.StatusAssigned || got.Agent != "@carol:x" || got.DeskRoom != "!desk-a:x" || got.Ghost != "@g:x" {
			t.Fatalf("by side room = %+v, %v", got, err)
		}
		if err = db.Participants.Remove(ctx, a.ID, "@carol:x", now); err != nil {
			t.Fatal(err)
		}
		current, _ := db.Participants.Current(ctx, a.ID)
		if len(current) != 1 || current[0].UserID != "@sam:x" {
			t.Fatalf("current = %v", current)
		}
		if _, err = db.Conversation.Close(ctx, a.ID, now); err != nil {
			t.Fatal(err)
		}
		open, _ := db.Conversation.OpenOfTenant(ctx, "acme")
		if len(open) != 1 || open[0].RoomID != "!b:x" {
			t.Fatalf("open = %v", open)
		}
	})
}

// TestEventMap: an event is found from its origin, from its copy, and from another
// copy of the same origin; unmapped events translate to nothing.
func TestEventMap(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		const customer, desk, side = id.RoomID("!customer:x"), id.RoomID("!desk:x"), id.RoomID("!side:x")
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		must(db.EventMap.Add(ctx, customer, "$hello", desk, "relay|1", "@c:y"))
		must(db.EventMap.Add(ctx, customer, "$hello", side, "mirror|1", "@c:y"))
		must(db.EventMap.Add(ctx, customer, "$hello", side, "mirror|1", "@c:y")) // repeated: no-op
		if got, _ := db.EventMap.Translate(ctx, customer, "$hello", desk); got != "" {
			t.Fatalf("unsent copy translated to %q", got)
		}
		must(db.EventMap.SetCopy(ctx, "relay|1", "$hello-desk"))
		must(db.EventMap.SetCopy(ctx, "mirror|1", "$hello-side"))
		cases := []struct {
			from id.RoomID
			evt  id.EventID
			to   id.RoomID
			want id.EventID
		}{
			{customer, "$hello", desk, "$hello-desk"},
			{desk, "$hello-desk", customer, "$hello"},
			{desk, "$hello-desk", side, "$hello-side"},
			{desk, "$unknown", customer, ""},
		}
		for _, c := range cases {
			if got, err := db.EventMap.Translate(ctx, c.from, c.evt, c.to); err != nil || got != c.want {
				t.Errorf("%s %s -> %s = %q, %v; want %q", c.from, c.evt, c.to, got, err, c.want)
			}
		}
		if author, _ := db.EventMap.AuthorOf(ctx, desk, "$hello-desk"); author != "@c:y" {
			t.Fatalf("author = %q", author)
		}
	})
}

func TestRoomLeases(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		now := time.Now()
		room := id.RoomID("!r:x")
		acquire := func(holder string, at time.Time) bool {
			t.Helper()
			ok, err := db.Leases.Acquire(ctx, "inbox", room, holder, at, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if !acquire("a", now) || !acquire("a", now.Add(time.Second)) {
			t.Fatal("a could not take or renew a free lease")
		}
		if acquire("b", now.Add(2*time.Second)) {
			t.Fatal("b took a's unexpired lease")
		}
		if ok, _ := db.Leases.Acquire(ctx, "outbox", room, "b", now, time.Minute); !ok {
			t.Fatal("the outbox lease is separate from the inbox one")
		}
		if !acquire("b", now.Add(2*time.Minute)) {
			t.Fatal("b could not take an expired lease")
		}
		if err := db.Leases.Release(ctx, "inbox", room, "a"); err != nil {
			t.Fatal(err)
		}
		if acquire("a", now.Add(2*time.Minute)) {
			t.Fatal("a's release freed b's lease")
		}
		if err := db.Leases.Release(ctx, "inbox", room, "b"); err != nil || !acquire("a", now.Add(2*time.Minute)) {
			t.Fatalf("a could not take a released lease: %v", err)
		}

		// One statement checks leases of both queues: a holds the inbox's, b the
		// outbox's (taken at now, so expired two minutes later), nobody the other room's.
		other := id.RoomID("!other:x")
		asked := []database.QueueRoom{{Queue: "inbox", Room: room}, {Queue: "outbox", Room: room}, {Queue: "inbox", Room: other}, {Queue: "inbox", Room: room}}
		for _, c := range []struct {
			holder string
			at     time.Time
			want   []database.QueueRoom
		}{
			{"a", now.Add(2 * time.Minute), []database.QueueRoom{{Queue: "inbox", Room: room}}},
			{"b", now.Add(30 * time.Second), []database.QueueRoom{{Queue: "outbox", Room: room}}},
			{"b", now.Add(2 * time.Minute), nil},
		} {
			held, err := db.Leases.HoldsMany(ctx, asked, c.holder, c.at)
			if err != nil {
				t.Fatal(err)
			}
			if len(held) != len(c.want) {
				t.Errorf("%s at %s holds %v, want %v", c.holder, c.at.Sub(now), held, c.want)
			}
			for _, l := range c.want {
				if !held[l] {
					t.Errorf("%s at %s: %v not held", c.holder, c.at.Sub(now), l)
				}
			}
		}
	})
}
