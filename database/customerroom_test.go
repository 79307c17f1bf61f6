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
