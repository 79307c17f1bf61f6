package transport

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/internal/dbtest"
)

func fileIn(t *testing.T, db *database.Database, roomID id.RoomID, key string) {
	t.Helper()
	if _, err := db.Inbox.Insert(context.Background(), key, roomID, database.SourceTransaction, []byte(`{}`), time.Now()); err != nil {
		t.Fatal(err)
	}
}

// Rooms whose handlers wait on one slow server hold at most their share of the
// workers: the other servers' rooms are handled promptly meanwhile, and the slow
// handlers run out of their deadline and are retried, not handled or given up.
func TestSlowServerLeavesOtherRoomsTheirWorkers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		const workers, slowRooms, fastRooms = 4, 8, 6
		var stuck atomic.Int32
		var seen handledLog
		handle := func(ctx context.Context, j *Job) error {
			if ServerOf(j.RoomID()) == "slow.example" {
				stuck.Add(1)
				defer stuck.Add(-1)
				<-ctx.Done() // a federated join that never answers
				return ctx.Err()
			}
			seen.add(j.Key())
			return nil
		}
		for i := range slowRooms {
			fileIn(t, db, id.RoomID(fmt.Sprintf("!s%d:slow.example", i)), fmt.Sprintf("$slow%d", i))
		}
		tr := run(t, Config{DB: db, Handle: handle, Send: noSend, Workers: workers, HandlerTimeout: 3 * time.Second})
		tr.WakeInbox()
		eventually(t, "the slow server's handlers to hold their share", func() bool { return stuck.Load() == workers/2 })
		begin := time.Now()
		for i := range fastRooms {
			fileIn(t, db, id.RoomID(fmt.Sprintf("!f%d:fast.example", i)), fmt.Sprintf("$fast%d", i))
		}
		tr.WakeInbox()
		eventually(t, "the other server's events", func() bool {
			for i := range fastRooms {
				if !seen.has(fmt.Sprintf("$fast%d", i)) {
					return false
				}
			}
			return true
		})
		if took := time.Since(begin); took > 2*time.Second {
			t.Fatalf("the other server's events took %s, behind the slow server's", took)
		}
		if n := stuck.Load(); n > workers/2 {
			t.Fatalf("%d workers stuck on the slow server, more than its share %d", n, workers/2)
		}
		// The slow handlers run out of time: a failure to retry with backoff.
		eventually(t, "the slow handlers' deadline", func() bool {
			_, attempts, _ := inboxRow(t, db, "$slow0")
			return attempts > 0
		})
		handled, attempts, lastError := inboxRow(t, db, "$slow0")
		if handled || attempts != 1 || !strings.Contains(lastError, ErrTimedOut.Error()) {
			t.Fatalf("timed-out entry: handled %v, %d attempts, last error %q", handled, attempts, lastError)
		}
	})
}

// A handler that keeps running out of time is given up like any other failing one.
func TestHandlerTimingOutIsGivenUpAtLast(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		fileEvent(t, db, "$slow")
		ctx := context.Background()
		if _, err := db.Exec(ctx, `UPDATE inbox SET attempts = $1 WHERE event_key = '$slow'`, maxInboxAttempts-1); err != nil {
			t.Fatal(err)
		}
		tr := New(Config{DB: db, Send: noSend, HandlerTimeout: 50 * time.Millisecond,
			Handle: func(ctx context.Context, _ *Job) error {
				<-ctx.Done()
				return ctx.Err()
			}})
		if l := tr.leases[inboxQueue]; l != nil {
			if ok, err := l.Acquire(ctx, testRoom); !ok || err != nil {
				t.Fatalf("could not take the room: %v", err)
			}
		}
		tr.DrainInbox(ctx, testRoom)
		handled, attempts, lastError := inboxRow(t, db, "$slow")
		if !handled || attempts != maxInboxAttempts || !strings.Contains(lastError, ErrTimedOut.Error()) {
			t.Fatalf("entry: handled %v, %d attempts, last error %q", handled, attempts, lastError)
		}
	})
}

// A room with a backlog lets the other rooms go between its turns: with one worker,
// an event that arrives behind a flood in another room waits for one turn, not for
// the whole flood.
func TestFloodingRoomTakesTurns(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		const flood = 10 * turnRows
		flooder := id.RoomID("!flood:example.org")
		var order handledLog
		release := make(chan struct{})
		handle := func(ctx context.Context, j *Job) error {
			if j.Key() == "$flood0" {
				<-release // the flood has begun when the quiet event arrives
			}
			order.add(j.Key())
			return nil
		}
		for i := range flood {
			fileIn(t, db, flooder, fmt.Sprintf("$flood%d", i))
		}
		tr := run(t, Config{DB: db, Handle: handle, Send: noSend, Workers: 1})
		tr.WakeInbox()
		time.Sleep(100 * time.Millisecond)
		fileEvent(t, db, "$quiet")
		tr.WakeInbox()
		time.Sleep(100 * time.Millisecond)
		close(release)
		eventually(t, "every event", func() bool { return order.has("$quiet") && order.has(fmt.Sprintf("$flood%d", flood-1)) })
		order.mu.Lock()
		at := slices.Index(order.keys, "$quiet")
		order.mu.Unlock()
		if at < 0 || at > 2*turnRows {
			t.Fatalf("the quiet room's event came %dth, behind the flood", at+1)
		}
	})
}
