package database_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/internal/dbtest"
	"github.com/contactcenter/contactcenter/testbed/pgcluster"
)

func TestMain(m *testing.M) { os.Exit(pgcluster.Main(m)) }

// eachDatabase runs a test on a fresh SQLite database and, unless -short, a fresh
// PostgreSQL database.
func eachDatabase(t *testing.T, fn func(t *testing.T, db *database.Database)) {
	dbtest.Each(t, fn)
}

func TestInboxDedupesAndKeepsRoomOrder(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		now := time.UnixMilli(1_700_000_000_000)
		roomA, roomB := id.RoomID("!a:x"), id.RoomID("!b:x")
		for i, e := range []struct {
			key  string
			room id.RoomID
		}{{"$1", roomA}, {"$2", roomB}, {"$3", roomA}, {"$1", roomA}} {
			inserted, err := db.Inbox.Insert(ctx, e.key, e.room, database.SourceTransaction, []byte(`{}`), now)
			if err != nil {
				t.Fatal(err)
			}
			if want := i < 3; inserted != want {
				t.Fatalf("insert %s: inserted=%v, want %v", e.key, inserted, want)
			}
		}
		head, err := db.Inbox.Head(ctx, roomA)
		if err != nil || head == nil || head.Key != "$1" {
			t.Fatalf("head of A = %+v, %v; want $1", head, err)
		}
		// A failed head blocks its room until its retry time; other rooms go on.
		if err = db.Inbox.MarkFailed(ctx, head.Seq, now.Add(time.Minute), errors.New("boom")); err != nil {
			t.Fatal(err)
		}
		due, err := db.Inbox.DueRooms(ctx, now)
		if err != nil || len(due) != 1 || due[0] != roomB {
			t.Fatalf("due rooms = %v, %v; want only B", due, err)
		}
		if next, _ := db.Inbox.NextDue(ctx, now); !next.Equal(now.Add(time.Minute)) {
			t.Fatalf("next due = %v, want the retry time of A's head", next)
		}
		if due, _ = db.Inbox.DueRooms(ctx, now.Add(time.Minute)); len(due) != 2 {
			t.Fatalf("after the retry time both rooms are due, got %v", due)
		}
		// Giving up keeps the reason; the next event becomes the head.
		if err = db.Inbox.GiveUp(ctx, head.Seq, now, errors.New("for good")); err != nil {
			t.Fatal(err)
		}
		if head, _ = db.Inbox.Head(ctx, roomA); head == nil || head.Key != "$3" {
			t.Fatalf("head after giving up = %+v, want $3", head)
		}
		var lastErr string
		if err = db.QueryRow(ctx, `SELECT last_error FROM inbox WHERE event_key = $1`, "$1").Scan(&lastErr); err != nil || lastErr != "for good" {
			t.Fatalf("last_error = %q, %v", lastErr, err)
		}
		if n, _ := db.Inbox.CountPending(ctx); n != 2 {
			t.Fatalf("pending = %d, want 2", n)
		}
		if pending, err := db.Inbox.AnyPending(ctx); err != nil || !pending {
			t.Fatalf("any pending = %v, %v; want true", pending, err)
		}
		headB, _ := db.Inbox.Head(ctx, roomB)
		if err = db.Inbox.MarkDoneMany(ctx, []int64{head.Seq, headB.Seq}, now); err != nil {
			t.Fatal(err)
		}
		if pending, err := db.Inbox.AnyPending(ctx); err != nil || pending {
			t.Fatalf("any pending after all done = %v, %v; want false", pending, err)
		}
	})
}

func TestInboxInsertManyAndPrune(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		now := time.UnixMilli(1_700_000_000_000)
		var events []database.NewInboxEvent
		for i := range 450 { // more than one chunk
			events = append(events, database.NewInboxEvent{Key: fmt.Sprintf("$e%d", i), RoomID: id.RoomID(fmt.Sprintf("!r%d:x", i%7)), Body: []byte(`{}`)})
		}
		if n, err := db.Inbox.InsertMany(ctx, database.SourceTransaction, events, now); err != nil || n != 450 {
			t.Fatalf("stored %d, %v; want 450", n, err)
		}
		if n, err := db.Inbox.InsertMany(ctx, database.SourceTransaction, events[100:300], now); err != nil || n != 0 {
			t.Fatalf("a repeat stored %d, %v; want 0", n, err)
		}
		if due, _ := db.Inbox.DueRooms(ctx, now); len(due) != 7 {
			t.Fatalf("due rooms = %d, want 7", len(due))
		}
		head, _ := db.Inbox.Head(ctx, "!r0:x")
		if head == nil || head.Key != "$e0" {
			t.Fatalf("head = %+v, want $e0", head)
		}
		if _, err := db.Inbox.MarkDoneHeld(ctx, head.Seq, now, nil); err != nil {
			t.Fatal(err)
		}
		if n, err := db.Inbox.Prune(ctx, now.Add(time.Millisecond)); err != nil || n != 1 {
			t.Fatalf("pruned %d, %v; want only the one done row", n, err)
		}
		if n, _ := db.Inbox.CountPending(ctx); n != 449 {
			t.Fatalf("pending = %d, want 449", n)
		}
	})
}

func TestOutboxDedupeKeyAndSentID(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		now := time.Now()
		room := id.RoomID("!r:x")
		for range 2 {
			if err := db.Outbox.Enqueue(ctx, "welcome|1", room, "@acme:x", event.EventMessage, map[string]string{"body": "hi"}, now); err != nil {
				t.Fatal(err)
			}
		}
		if n, _ := db.Outbox.CountPending(ctx); n != 1 {
			t.Fatalf("pending = %d, want 1 (the same key twice)", n)
		}
		head, err := db.Outbox.Head(ctx, room)
		if err != nil || head == nil || string(head.Content) != `{"body":"hi"}` || head.EventType != event.EventMessage {
			t.Fatalf("head = %+v, %v", head, err)
		}
		if _, err = db.Outbox.MarkSentMany(ctx, []database.Sent{{ID: head.ID, EventID: "$sent"}}, now, nil); err != nil {
			t.Fatal(err)
		}
		if evtID, err := db.Outbox.SentEventID(ctx, "welcome|1"); err != nil || evtID != "$sent" {
			t.Fatalf("sent event = %q, %v", evtID, err)
		}
		if head, _ = db.Outbox.Head(ctx, room); head != nil {
			t.Fatalf("nothing should be left, got %+v", head)
		}
	})
}

func TestOneOpenConversationPerRoom(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		now := time.Now()
		room := &database.CustomerRoom{RoomID: "!r:x", TenantID: "acme", Customer: "@c:y", JoinedAt: now}
		if err := db.CustomerRoom.Put(ctx, room); err != nil {
			t.Fatal(err)
		}
		start := database.NewConversation{TenantID: "acme", RoomID: room.RoomID}
		first, err := db.Conversation.Start(ctx, start, now)
		if err != nil {
			t.Fatal(err)
		}
		if _, err = db.Conversation.Start(ctx, start, now); err == nil {
			t.Fatal("a second open conversation in one room must be refused")
		}
		if closed, err := db.Conversation.Close(ctx, first.ID, now); err != nil || !closed {
			t.Fatal(closed, err)
		}
		if closed, _ := db.Conversation.Close(ctx, first.ID, now); closed {
			t.Fatal("closing twice must report false")
		}
		if _, err = db.Conversation.Start(ctx, start, now); err != nil {
			t.Fatalf("a new conversation after the end: %v", err)
		}
		if n, _ := db.Conversation.CountInRoom(ctx, room.RoomID); n != 2 {
			t.Fatalf("conversations = %d, want 2", n)
		}
	})
}

func TestRefusesForeignDatabase(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "other.db")
	other, err := database.Open(database.Config{Type: "sqlite", URI: path}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	other.Owner = "someone-else"
	if err = other.Database.Upgrade(ctx); err != nil {
		t.Fatal(err)
	}
	_ = other.Close()
	db, err := database.Open(database.Config{Type: "sqlite", URI: path}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err = db.Upgrade(ctx); !errors.Is(err, database.ErrNotOwned) {
		t.Fatalf("want ErrNotOwned, got %v", err)
	}
}

// The SQLite database and its -wal and -shm files hold access tokens and customer
// data: readable by the service alone, also when an older file was created wider.
func TestSQLiteFilesAreOwnerOnly(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "contactcenter.db")
	for round := range 2 {
		db, err := database.Open(database.Config{Type: "sqlite", URI: path}, zerolog.Nop())
		if err != nil {
			t.Fatal(err)
		}
		if err = db.Upgrade(context.Background()); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			info, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if info.Mode().Perm() != 0o600 {
				t.Errorf("round %d: %s has mode %v, want 0600", round, filepath.Base(p), info.Mode().Perm())
			}
		}
		_ = db.Close()
		// An existing database created world-readable is narrowed at the next open.
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			_ = os.Chmod(p, 0o644)
		}
	}
}
