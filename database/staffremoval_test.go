package database_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/routing"
)

func roomN(prefix string, i int) id.RoomID { return id.RoomID(fmt.Sprintf("%s%d:x", prefix, i)) }

// TestStaffRemoval: a staff member taken off the config is marked once (set offline),
// their places in open conversations are listed (not declined ones, not closed
// conversations, not another tenant's), and putting them back clears the mark.
func TestStaffRemoval(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		now := time.UnixMilli(1_700_000_000_000)
		const dave = "@dave:x"
		if err := db.Staff.SetControlRoom(ctx, "acme", dave, "!control:x"); err != nil {
			t.Fatal(err)
		}
		if err := db.Staff.SetStatus(ctx, "acme", dave, routing.Ready, now); err != nil {
			t.Fatal(err)
		}
		var convs []*database.Conversation
		for i, tenant := range []string{"acme", "acme", "acme", "globex"} {
			room := database.CustomerRoom{RoomID: roomN("!c", i), TenantID: tenant, Customer: "@c:y", JoinedAt: now}
			if err := db.CustomerRoom.Put(ctx, &room); err != nil {
				t.Fatal(err)
			}
			conv, err := db.Conversation.Start(ctx, database.NewConversation{TenantID: tenant, RoomID: room.RoomID,
				Ghost: "@g:x", DeskRoom: roomN("!desk", i), SideRoom: roomN("!side", i)}, now)
			if err != nil {
				t.Fatal(err)
			}
			convs = append(convs, conv)
		}
		roles := []database.StaffRole{database.RoleAgent, database.RoleMonitor, database.RoleDeclined, database.RoleAgent}
		for i, conv := range convs {
			if err := db.Participants.Add(ctx, conv.ID, dave, roles[i], now); err != nil {
				t.Fatal(err)
			}
		}
		places, err := db.Participants.OpenOfStaff(ctx, "acme", dave)
		if err != nil || len(places) != 2 || places[0].ConversationID != convs[0].ID || places[0].Role != database.RoleAgent ||
			places[1].ConversationID != convs[1].ID || places[1].Role != database.RoleMonitor {
			t.Fatalf("places = %+v, %v", places, err)
		}
		if _, err = db.Conversation.Close(ctx, convs[1].ID, now); err != nil {
			t.Fatal(err)
		}
		if places, err = db.Participants.OpenOfStaff(ctx, "acme", dave); err != nil || len(places) != 1 {
			t.Fatalf("a closed conversation is no place to take them out of: %+v, %v", places, err)
		}

		removedAt := now.Add(time.Hour)
		if won, err := db.Staff.MarkRemoved(ctx, "acme", dave, removedAt); err != nil || !won {
			t.Fatalf("mark removed: %v %v", won, err)
		}
		if won, err := db.Staff.MarkRemoved(ctx, "acme", dave, removedAt.Add(time.Minute)); err != nil || won {
			t.Fatalf("marked twice: %v %v", won, err)
		}
		record, err := db.Staff.Get(ctx, "acme", dave)
		if err != nil || !record.RemovedAt.Equal(removedAt) || record.Status != routing.Offline || record.ControlRoomID != "!control:x" {
			t.Fatalf("removed record: %+v %v", record, err)
		}
		if won, err := db.Staff.Restore(ctx, "acme", dave, removedAt.Add(time.Minute)); err != nil || won {
			t.Fatalf("restored another removal: %v %v", won, err)
		}
		if won, err := db.Staff.Restore(ctx, "acme", dave, removedAt); err != nil || !won {
			t.Fatalf("restore: %v %v", won, err)
		}
		if record, err = db.Staff.Get(ctx, "acme", dave); err != nil || !record.RemovedAt.IsZero() {
			t.Fatalf("restored record: %+v %v", record, err)
		}
	})
}
