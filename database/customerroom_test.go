package database_test

import (
	"context"
	"errors"
	"testing"
	"time"

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
		got, err := db.CustomerRoom.GetWithOpen(ctx, room.RoomID)
		if err != nil || got == nil || !got.OpenRead || got.Open != nil || !got.Serves("acme", "@alice:y") || !got.JoinedAt.Equal(now) {
			t.Fatalf("before any conversation: %+v %v", got, err)
		}
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
		if _, err = db.Conversation.Close(ctx, conv.ID, now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if got, err = db.CustomerRoom.GetWithOpen(ctx, room.RoomID); err != nil || got.Open != nil {
			t.Fatalf("after the close: %+v %v", got.Open, err)
		}
		if got, err = db.CustomerRoom.GetWithOpen(ctx, "!other:x"); err != nil || got != nil {
			t.Fatalf("not a customer room: %+v %v", got, err)
		}
	})
}
