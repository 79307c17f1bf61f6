package database_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/database"
)

// TestCustomerRoomServesOneConversationPair: a customer room, once recorded, serves
// its tenant and customer only. The same pair reopens it; anyone else is refused and
// the record stays as it was. The first time the service left counts.
func TestCustomerRoomServesOneConversationPair(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		now := time.UnixMilli(1_700_000_000_000)
		acme := &database.CustomerRoom{RoomID: "!dm:x", TenantID: "acme", Customer: "@alice:y", JoinedAt: now}
		if err := db.CustomerRoom.Put(ctx, acme); err != nil {
			t.Fatal(err)
		}
		if err := db.CustomerRoom.MarkLeft(ctx, acme.RoomID, now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := db.CustomerRoom.MarkLeft(ctx, acme.RoomID, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		for _, other := range []database.CustomerRoom{
			{RoomID: acme.RoomID, TenantID: "globex", Customer: acme.Customer, JoinedAt: now},
			{RoomID: acme.RoomID, TenantID: acme.TenantID, Customer: "@bob:y", JoinedAt: now},
		} {
			if err := db.CustomerRoom.Put(ctx, &other); !errors.Is(err, database.ErrRoomTaken) {
				t.Fatalf("put for %s/%s: %v, want ErrRoomTaken", other.TenantID, other.Customer, err)
			}
		}
		got, err := db.CustomerRoom.Get(ctx, acme.RoomID)
		if err != nil || got == nil || !got.Serves("acme", "@alice:y") || got.Serves("globex", "@alice:y") ||
			!got.LeftAt.Equal(now.Add(time.Minute)) {
			t.Fatalf("after refused puts: %+v %v", got, err)
		}
		if err = db.CustomerRoom.Put(ctx, acme); err != nil {
			t.Fatalf("the same tenant and customer reopen the room: %v", err)
		}
		if got, err = db.CustomerRoom.Get(ctx, acme.RoomID); err != nil || !got.LeftAt.IsZero() {
			t.Fatalf("reopened: %+v %v", got, err)
		}
	})
}

// TestCustomerRoomWithOpenConversation: the room read with its open conversation
// gives what the two reads apart give: none before the first, the open one (all its
// columns), none once it closed; a room that is no customer room is nil.
func TestCustomerRoomWithOpenConversation(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		now := time.UnixMilli(1_700_000_000_000)
		room := &database.CustomerRoom{RoomID: "!dm:x", TenantID: "acme", Customer: "@alice:y", JoinedAt: now}
		if err := db.CustomerRoom.Put(ctx, room); err != nil {
			t.Fatal(err)
		}
		if heads, got, err := db.Inbox.HeadsWithRoom(ctx, room.RoomID, 8); err != nil || len(heads) != 0 || got != nil {
			t.Fatalf("no heads: %d, %+v, %v", len(heads), got, err)
		}
		for _, key := range []string{"$1", "$2", "$other"} {
			roomID := room.RoomID
			if key == "$other" {
				roomID = "!other:x"
			}
			if _, err := db.Inbox.InsertMany(ctx, database.SourceTransaction, []database.NewInboxEvent{{Key: key, RoomID: roomID, Body: []byte(`{}`)}}, now); err != nil {
				t.Fatal(err)
			}
		}
		// The inbox's heads read with the room give the room as GetWithOpen does.
		withHeads := func(stage string, roomID id.RoomID, want *database.CustomerRoom) {
			t.Helper()
			heads, got, err := db.Inbox.HeadsWithRoom(ctx, roomID, 8)
			if err != nil || len(heads) == 0 || heads[0].RoomID != roomID || !reflect.DeepEqual(got, want) {
				t.Fatalf("%s, read with the heads: %d heads, %+v, want %+v (%v)", stage, len(heads), got, want, err)
			}
			if plain, _ := db.Inbox.Heads(ctx, roomID, 8); !reflect.DeepEqual(heads, plain) {
				t.Fatalf("%s: heads %+v, want %+v", stage, heads, plain)
			}
		}
		got, err := db.CustomerRoom.GetWithOpen(ctx, room.RoomID)
		if err != nil || got == nil || !got.OpenRead || got.Open != nil || !got.Serves("acme", "@alice:y") || !got.JoinedAt.Equal(now) {
			t.Fatalf("before any conversation: %+v %v", got, err)
		}
		withHeads("before any conversation", room.RoomID, got)
		conv, err := db.Conversation.Start(ctx, database.NewConversation{TenantID: "acme", RoomID: room.RoomID,
			Ghost: "@g:x", DeskRoom: "!desk:x", SideRoom: "!side:x"}, now)
		if err != nil {
			t.Fatal(err)
		}
		want, err := db.Conversation.Open(ctx, room.RoomID)
		if err != nil || want == nil {
			t.Fatalf("open conversation: %+v %v", want, err)
		}
		if got, err = db.CustomerRoom.GetWithOpen(ctx, room.RoomID); err != nil || got.Open == nil || *got.Open != *want {
			t.Fatalf("with an open conversation: %+v, want %+v (%v)", got.Open, want, err)
		}
		withHeads("with an open conversation", room.RoomID, got)
		if _, err = db.Conversation.Close(ctx, conv.ID, now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if got, err = db.CustomerRoom.GetWithOpen(ctx, room.RoomID); err != nil || got.Open != nil {
			t.Fatalf("after the close: %+v %v", got.Open, err)
		}
		withHeads("after the close", room.RoomID, got)
		if got, err = db.CustomerRoom.GetWithOpen(ctx, "!other:x"); err != nil || got != nil {
			t.Fatalf("not a customer room: %+v %v", got, err)
		}
		withHeads("not a customer room", "!other:x", nil)
	})
}
