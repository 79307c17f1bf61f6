package transport

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/internal/dbtest"
)

// leaseRow reads the room's lease: its holder and expiry ("" when there is none).
func leaseRow(t *testing.T, db *database.Database) (holder string, expires int64) {
	t.Helper()
	rows, err := db.Query(context.Background(), `SELECT holder, expires_at FROM room_lease WHERE room_id = $1`, testRoom)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if rows.Next() {
		if err = rows.Scan(&holder, &expires); err != nil {
			t.Fatal(err)
		}
	}
	return holder, expires
}

// A room's lease outlives its turn: the next turn soon after takes no new lease, and
// the lease is released once it has lain idle for the linger (not before).
func TestIdleLeaseIsKeptThenReleased(t *testing.T) {
	db := dbtest.Open(t, "postgres")
	ctx := context.Background()
	lease := NewLease(db.Leases, inboxQueue, "this replica", time.Now)
	var turns atomic.Int32
	r := newRoomRunner(inboxQueue, db.Inbox, fairness{workers: 1}, lease, &panicGuard{}, func(context.Context, id.RoomID) bool {
		turns.Add(1)
		return false
	})
	r.leased(ctx, testRoom)
	if holder, _ := leaseRow(t, db); holder != "this replica" {
		t.Fatalf("lease after a turn: held by %q, want kept", holder)
	}
	// A marker expiry: a lease taken again would overwrite it.
	const marker = 4102444800000
	if _, err := db.Exec(ctx, `UPDATE room_lease SET expires_at = $1`, marker); err != nil {
		t.Fatal(err)
	}
	r.leased(ctx, testRoom)
	if _, expires := leaseRow(t, db); expires != marker || turns.Load() != 2 {
		t.Fatalf("second turn: expiry %d, %d turns; want the kept lease used (expiry %d), 2 turns", expires, turns.Load(), marker)
	}
	r.releaseIdle(ctx, time.Now().Add(-time.Hour))
	if holder, _ := leaseRow(t, db); holder == "" {
		t.Fatal("a lease idle for less than the cutoff was released")
	}
	r.releaseIdle(ctx, time.Now().Add(time.Millisecond))
	if holder, _ := leaseRow(t, db); holder != "" {
		t.Fatalf("idle lease still held by %q after its release", holder)
	}
	// The next turn takes it anew.
	r.leased(ctx, testRoom)
	if holder, expires := leaseRow(t, db); holder != "this replica" || expires == marker {
		t.Fatalf("after the release: held by %q until %d; want taken anew", holder, expires)
	}
}

// A turn that finds its lease lost (a commit refused for it) is stopped and the lease
// forgotten: the next turn must take it anew rather than trust the kept one.
func TestLeaseLostInATurnIsForgotten(t *testing.T) {
	db := dbtest.Open(t, "postgres")
	ctx := context.Background()
	lease := NewLease(db.Leases, inboxQueue, "this replica", time.Now)
	var stopped atomic.Bool
	r := newRoomRunner(inboxQueue, db.Inbox, fairness{workers: 1}, lease, &panicGuard{}, func(ctx context.Context, roomID id.RoomID) bool {
		leaseLost(ctx)
		stopped.Store(ctx.Err() != nil)
		return false
	})
	r.leased(ctx, testRoom)
	if !stopped.Load() {
		t.Fatal("the turn went on after its lease was found lost")
	}
	r.mu.Lock()
	_, kept := r.kept[testRoom]
	r.mu.Unlock()
	if kept {
		t.Fatal("a lost lease is still kept for the next turn")
	}
}

// Another replica that finds the room's lease kept idle tries again shortly after, and
// gets the room well before its poll would have come back.
func TestContestedRoomIsTriedAgainSoon(t *testing.T) {
	db := dbtest.Open(t, "postgres")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fileEvent(t, db, "$waiting")
	a := newRoomRunner(inboxQueue, db.Inbox, fairness{workers: 1}, NewLease(db.Leases, inboxQueue, "replica a", time.Now), &panicGuard{},
		func(context.Context, id.RoomID) bool { return false })
	a.leased(ctx, testRoom)
	worked := make(chan time.Time, 10)
	b := newRoomRunner(inboxQueue, db.Inbox, fairness{workers: 1}, NewLease(db.Leases, inboxQueue, "replica b", time.Now), &panicGuard{},
		func(context.Context, id.RoomID) bool { worked <- time.Now(); return false })
	start := time.Now()
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		b.Run(ctx) // its first poll finds the room, held by a
	}()
	defer func() { cancel(); <-stopped }()
	time.Sleep(leaseLinger / 2)
	select {
	case <-worked:
		t.Fatal("b worked on a room a holds")
	default:
	}
	a.releaseIdle(ctx, time.Now())
	select {
	case at := <-worked:
		if took := at.Sub(start); took >= pollInterval {
			t.Fatalf("b got the room after %s, no sooner than its poll (%s)", took, pollInterval)
		}
	case <-time.After(2 * pollInterval):
		t.Fatal("b never got the room")
	}
}
