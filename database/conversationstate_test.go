package database_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/database"
)

var claimEpoch = time.UnixMilli(1_700_000_000_000)

// startConversations opens n waiting conversations of a tenant, one second apart,
// each in its own customer room (prefix names the rooms).
func startConversations(tb testing.TB, db *database.Database, tenantID, prefix string, n int) []int64 {
	tb.Helper()
	ctx := context.Background()
	ids := make([]int64, n)
	err := db.DoTxn(ctx, nil, func(ctx context.Context) error {
		for i := range n {
			room := id.RoomID(fmt.Sprintf("!%s-%s-%d:x", tenantID, prefix, i))
			at := claimEpoch.Add(time.Duration(i) * time.Second)
			if err := db.CustomerRoom.Put(ctx, &database.CustomerRoom{RoomID: room, TenantID: tenantID, Customer: "@c:y", JoinedAt: at}); err != nil {
				return err
			}
			conv, err := db.Conversation.Start(ctx, database.NewConversation{TenantID: tenantID, RoomID: room}, at)
			if err != nil {
				return err
			}
			ids[i] = conv.ID
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return ids
}

func mustGet(t *testing.T, db *database.Database, convID int64) *database.Conversation {
	t.Helper()
	conv, err := db.Conversation.Get(context.Background(), convID)
	if err != nil || conv == nil {
		t.Fatalf("conversation %d: %v, %v", convID, conv, err)
	}
	return conv
}

// agentRole is the agent's current role in a conversation, "" if none.
func agentRole(t *testing.T, db *database.Database, convID int64, agent id.UserID) database.StaffRole {
	t.Helper()
	current, err := db.Participants.Current(context.Background(), convID)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range current {
		if p.UserID == agent {
			return p.Role
		}
	}
	return ""
}

const carol, dave = id.UserID("@carol:x"), id.UserID("@dave:x")

// TestClaimRules: every condition of Offer and Assign, each on a fresh tenant with
// conversations c[0..3] waiting; the claim is on c[0] for carol.
func TestClaimRules(t *testing.T) {
	type setup func(ctx context.Context, db *database.Database, q *database.ConversationQuery, tenant string, c []int64) error
	assignTo := func(i int, agent id.UserID) setup {
		return func(ctx context.Context, db *database.Database, q *database.ConversationQuery, tenant string, c []int64) error {
			_, err := q.Assign(ctx, tenant, c[i], agent, 10, claimEpoch)
			return err
		}
	}
	offerTo := func(i int, agent id.UserID) setup {
		return func(ctx context.Context, db *database.Database, q *database.ConversationQuery, tenant string, c []int64) error {
			_, err := q.Offer(ctx, tenant, c[i], agent, 10, claimEpoch)
			return err
		}
	}
	closeConv := func(i int) setup {
		return func(ctx context.Context, db *database.Database, q *database.ConversationQuery, tenant string, c []int64) error {
			_, err := db.Conversation.Close(ctx, c[i], claimEpoch)
			return err
		}
	}
	addAs := func(i int, agent id.UserID, role database.StaffRole) setup {
		return func(ctx context.Context, db *database.Database, q *database.ConversationQuery, tenant string, c []int64) error {
			return db.Participants.Add(ctx, c[i], agent, role, claimEpoch)
		}
	}
	removeFrom := func(i int, agent id.UserID) setup {
		return func(ctx context.Context, db *database.Database, q *database.ConversationQuery, tenant string, c []int64) error {
			return db.Participants.Remove(ctx, c[i], agent, claimEpoch)
		}
	}
	cases := []struct {
		name     string
		setup    []setup
		tenant   string // of the claim; the conversations' tenant if empty
		capacity int
		agent    id.UserID // carol if empty
		want     bool
	}{
		{name: "idle agent", capacity: 1, want: true},
		{name: "served conversations fill the capacity", setup: []setup{assignTo(1, carol), assignTo(2, carol)}, capacity: 2},
		{name: "below capacity", setup: []setup{assignTo(1, carol)}, capacity: 2, want: true},
		{name: "unanswered offers count", setup: []setup{offerTo(1, carol), assignTo(2, carol)}, capacity: 2},
		{name: "closed conversations do not count", setup: []setup{assignTo(1, carol), closeConv(1)}, capacity: 1, want: true},
		{name: "removed participation does not count", setup: []setup{assignTo(1, carol), removeFrom(1, carol)}, capacity: 1, want: true},
		{name: "monitoring does not count", setup: []setup{addAs(1, carol, database.RoleMonitor)}, capacity: 1, want: true},
		{name: "another agent's load does not count", setup: []setup{assignTo(1, dave), offerTo(2, dave)}, capacity: 1, want: true},
		{name: "added as agent by hand counts", setup: []setup{addAs(1, carol, database.RoleAgent)}, capacity: 1},
		{name: "declined by the agent", setup: []setup{addAs(0, carol, database.RoleDeclined)}, capacity: 5},
		{name: "declined by another agent", setup: []setup{addAs(0, dave, database.RoleDeclined)}, capacity: 5, want: true},
		{name: "already offered", setup: []setup{offerTo(0, dave)}, capacity: 5},
		{name: "already offered to the same agent", setup: []setup{offerTo(0, carol)}, capacity: 5},
		{name: "already assigned", setup: []setup{assignTo(0, dave)}, capacity: 5},
		{name: "closed", setup: []setup{closeConv(0)}, capacity: 5},
		{name: "conversation of another tenant", tenant: "other", capacity: 5},
		{name: "capacity zero", capacity: 0},
		{name: "negative capacity", capacity: -1},
		{name: "agent the service never saw", agent: "@new:x", capacity: 1, want: true},
	}
	for _, assign := range []bool{false, true} {
		kind := map[bool]string{false: "offer", true: "assign"}[assign]
		t.Run(kind, func(t *testing.T) {
			eachDatabase(t, func(t *testing.T, db *database.Database) {
				ctx := context.Background()
				q := db.Conversation
				for i, tc := range cases {
					tenant := fmt.Sprintf("t%d", i)
					c := startConversations(t, db, tenant, kind, 4)
					for _, s := range tc.setup {
						if err := s(ctx, db, q, tenant, c); err != nil {
							t.Fatalf("%s: setup: %v", tc.name, err)
						}
					}
					before := mustGet(t, db, c[0])
					claimTenant, agent := tenant, carol
					if tc.tenant != "" {
						claimTenant = tc.tenant
					}
					if tc.agent != "" {
						agent = tc.agent
					}
					now := claimEpoch.Add(time.Hour)
					claim := q.Offer
					if assign {
						claim = q.Assign
					}
					won, err := claim(ctx, claimTenant, c[0], agent, tc.capacity, now)
					if err != nil || won != tc.want {
						t.Fatalf("%s: %s = %v, %v; want %v", tc.name, kind, won, err, tc.want)
					}
					after := mustGet(t, db, c[0])
					switch {
					case !won && (after.Status != before.Status || after.OfferedTo != before.OfferedTo || after.Agent != before.Agent):
						t.Fatalf("%s: a refused claim changed the conversation: %+v -> %+v", tc.name, before, after)
					case won && !assign && (after.Status != database.StatusOffered || after.OfferedTo != agent || !after.OfferedAt.Equal(now) || agentRole(t, db, c[0], agent) != ""):
						t.Fatalf("%s: after the offer: %+v", tc.name, after)
					case won && assign && (after.Status != database.StatusAssigned || after.Agent != agent || !after.AssignedAt.Equal(now) || after.OfferedTo != "" || agentRole(t, db, c[0], agent) != database.RoleAgent):
						t.Fatalf("%s: after the assignment: %+v, role %q", tc.name, after, agentRole(t, db, c[0], agent))
					}
					if won {
						if staff, err := db.Staff.Get(ctx, tenant, agent); err != nil || staff == nil {
							t.Fatalf("%s: the agent's staff row: %v, %v", tc.name, staff, err)
						}
					}
				}
				if _, err := q.Assign(ctx, "t0", 1, "", 1, claimEpoch); err == nil {
					t.Fatal("a claim for no agent must be an error")
				}
				if _, err := q.Offer(ctx, "", 1, carol, 1, claimEpoch); err == nil {
					t.Fatal("a claim for no tenant must be an error")
				}
			})
		})
	}
}

func TestAcceptOnlyWhatIsStillOffered(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		q := db.Conversation
		c := startConversations(t, db, "acme", "accept", 4)
		offer := func(i int, agent id.UserID) {
			if won, err := q.Offer(ctx, "acme", c[i], agent, 5, claimEpoch); !won || err != nil {
				t.Fatalf("offer %d to %s: %v, %v", i, agent, won, err)
			}
		}
		accept := func(i int, agent id.UserID, want bool) {
			t.Helper()
			if won, err := q.Accept(ctx, c[i], agent, claimEpoch.Add(time.Minute)); won != want || err != nil {
				t.Fatalf("accept %d by %s = %v, %v; want %v", i, agent, won, err, want)
			}
		}
		accept(0, carol, false) // never offered
		offer(0, carol)
		accept(0, dave, false) // offered to someone else
		accept(0, carol, true)
		conv := mustGet(t, db, c[0])
		if conv.Status != database.StatusAssigned || conv.Agent != carol || conv.OfferedTo != "" || !conv.AssignedAt.Equal(claimEpoch.Add(time.Minute)) ||
			agentRole(t, db, c[0], carol) != database.RoleAgent {
			t.Fatalf("after accept: %+v", conv)
		}
		accept(0, carol, false) // twice

		offer(1, carol)
		if won, err := q.Withdraw(ctx, c[1], carol); !won || err != nil {
			t.Fatal("withdraw", won, err)
		}
		accept(1, carol, false) // after the timeout
		if conv = mustGet(t, db, c[1]); conv.Status != database.StatusNew || agentRole(t, db, c[1], carol) != "" {
			t.Fatalf("a late accept changed the conversation: %+v", conv)
		}
		offer(1, dave)
		accept(1, carol, false) // offered again, to another agent

		offer(2, carol)
		if _, err := db.Conversation.Close(ctx, c[2], claimEpoch); err != nil {
			t.Fatal(err)
		}
		accept(2, carol, false) // the customer left
	})
}

func TestWithdrawCountsMissedOffers(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		q := db.Conversation
		c := startConversations(t, db, "acme", "withdraw", 2)
		missed := func(tenant string, agent id.UserID, want int) {
			t.Helper()
			if n, err := db.Staff.Missed(ctx, tenant, agent); n != want || err != nil {
				t.Fatalf("missed of %s in %s = %d, %v; want %d", agent, tenant, n, err, want)
			}
		}
		withdraw := func(i int, agent id.UserID, want bool) {
			t.Helper()
			if won, err := q.Withdraw(ctx, c[i], agent); won != want || err != nil {
				t.Fatalf("withdraw %d from %s = %v, %v; want %v", i, agent, won, err, want)
			}
		}
		missed("acme", "@nobody:x", 0)
		withdraw(0, carol, false) // not offered
		missed("acme", carol, 0)
		for round := 1; round <= 2; round++ {
			if won, err := q.Offer(ctx, "acme", c[0], carol, 1, claimEpoch); !won || err != nil {
				t.Fatalf("offer round %d: %v, %v", round, won, err)
			}
			withdraw(0, dave, false) // someone else's offer
			withdraw(0, carol, true)
			withdraw(0, carol, false) // already withdrawn
			missed("acme", carol, round)
			if conv := mustGet(t, db, c[0]); conv.Status != database.StatusNew || conv.OfferedTo != "" || !conv.OfferedAt.IsZero() {
				t.Fatalf("after withdraw: %+v", conv)
			}
		}
		missed("acme", dave, 0)
		missed("other", carol, 0)
		// An assigned conversation is not an offer any more.
		if won, _ := q.Assign(ctx, "acme", c[1], carol, 1, claimEpoch); !won {
			t.Fatal("assign")
		}
		withdraw(1, carol, false)
		missed("acme", carol, 2)
		if err := db.Staff.ResetMissed(ctx, "acme", carol); err != nil {
			t.Fatal(err)
		}
		missed("acme", carol, 0)
		if err := db.Staff.ResetMissed(ctx, "acme", "@nobody:x"); err != nil {
			t.Fatalf("resetting an unknown agent: %v", err)
		}
	})
}

func TestExpiredOffers(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		q := db.Conversation
		a := startConversations(t, db, "acme", "exp", 4)
		b := startConversations(t, db, "beta", "exp", 1)
		offers := []struct {
			tenant string
			conv   int64
			at     time.Duration
		}{{"acme", a[0], 20 * time.Second}, {"beta", b[0], 10 * time.Second}, {"acme", a[1], 30 * time.Second}, {"acme", a[2], 0}}
		for _, o := range offers {
			if won, err := q.Offer(ctx, o.tenant, o.conv, carol, 9, claimEpoch.Add(o.at)); !won || err != nil {
				t.Fatal("offer", won, err)
			}
		}
		if won, err := q.Accept(ctx, a[2], carol, claimEpoch); !won || err != nil { // answered: not expired
			t.Fatal("accept", won, err)
		}
		expired, err := q.Expired(ctx, claimEpoch.Add(30*time.Second)) // the one made at 30 s is not older
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, c := range expired {
			got = append(got, c.ID)
			if c.Status != database.StatusOffered || c.OfferedTo != carol {
				t.Fatalf("expired %+v", c)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint([]int64{b[0], a[0]}) {
			t.Fatalf("expired = %v, want %v (oldest offer first, every tenant)", got, []int64{b[0], a[0]})
		}
		if expired, _ = q.Expired(ctx, claimEpoch); len(expired) != 0 {
			t.Fatalf("nothing is older than the first offer, got %d", len(expired))
		}
	})
}

func TestWaitingInQueueOrder(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		q := db.Conversation
		c := startConversations(t, db, "acme", "queue", 7)
		startConversations(t, db, "beta", "queue", 2)
		for i, p := range []int{0, 5, 0, 5, 9, 0, 0} {
			if err := db.Conversation.SetTask(ctx, c[i], "", p); err != nil {
				t.Fatal(err)
			}
		}
		_, _ = q.Offer(ctx, "acme", c[5], carol, 9, claimEpoch)
		_, _ = q.Assign(ctx, "acme", c[6], carol, 9, claimEpoch)
		if err := db.Conversation.SetTask(ctx, c[6], "", 99); err != nil { // assigned: not waiting whatever its priority
			t.Fatal(err)
		}
		want := []int64{c[4], c[1], c[3], c[0], c[2]}
		waiting, err := q.Claimable(ctx, "acme", 10)
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, w := range waiting {
			got = append(got, w.ID)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("waiting = %v, want %v (priority, then age)", got, want)
		}
		if waiting[0].Priority != 9 || waiting[0].TenantID != "acme" || waiting[0].Status != database.StatusNew {
			t.Fatalf("first waiting = %+v", waiting[0])
		}
		if waiting, _ = q.Claimable(ctx, "acme", 2); len(waiting) != 2 || waiting[1].ID != c[1] {
			t.Fatalf("limit 2 = %v", waiting)
		}
		if _, err = q.Claimable(ctx, "acme", 0); err == nil {
			t.Fatal("limit 0 must be an error")
		}
		// Equal priority and age: the older ID first.
		same := startConversations(t, db, "gamma", "queue", 1)
		room := id.RoomID("!gamma-twin:x")
		if err = db.CustomerRoom.Put(ctx, &database.CustomerRoom{RoomID: room, TenantID: "gamma", Customer: "@c:y", JoinedAt: claimEpoch}); err != nil {
			t.Fatal(err)
		}
		twin, err := db.Conversation.Start(ctx, database.NewConversation{TenantID: "gamma", RoomID: room}, claimEpoch)
		if err != nil {
			t.Fatal(err)
		}
		if waiting, _ = q.Claimable(ctx, "gamma", 5); len(waiting) != 2 || waiting[0].ID != same[0] || waiting[1].ID != twin.ID {
			t.Fatalf("twins = %v", waiting)
		}
	})
}

// TestClaimJoinsCallersTransaction: a claim inside a transaction that fails is undone.
func TestClaimJoinsCallersTransaction(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		q := db.Conversation
		c := startConversations(t, db, "acme", "join", 2)
		abort := errors.New("abort")
		err := db.DoTxn(ctx, nil, func(ctx context.Context) error {
			if won, err := q.Assign(ctx, "acme", c[0], carol, 1, claimEpoch); !won || err != nil {
				return fmt.Errorf("assign: %v, %w", won, err)
			}
			if won, err := q.Assign(ctx, "acme", c[1], carol, 1, claimEpoch); won || err != nil { // sees the first
				return fmt.Errorf("assign beyond capacity: %v, %w", won, err)
			}
			return abort
		})
		if !errors.Is(err, abort) {
			t.Fatal(err)
		}
		if conv := mustGet(t, db, c[0]); conv.Status != database.StatusNew || agentRole(t, db, c[0], carol) != "" {
			t.Fatalf("a rolled back claim stayed: %+v", conv)
		}
	})
}
