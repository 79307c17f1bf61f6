package bridge

import (
	"context"
	"testing"

	"maunium.net/go/mautrix/id"
)

// A room classified once is read again from its own table only; a room whose record
// went is found to be no room of ours, and classified from the start the next time.
func TestRoomClassifiedFromItsKind(t *testing.T) {
	bed := newInputBed(t)
	ctx := context.Background()
	reads := countQueries(bed, "")
	classify := func(name string, roomID id.RoomID, want roomKind, wantReads int32) {
		t.Helper()
		reads.n.Store(0)
		role, err := bed.b.classifyRoom(ctx, roomID)
		if err != nil || role.kind != want {
			t.Fatalf("%s: kind %v, %v; want %v", name, role.kind, err, want)
		}
		if n := reads.n.Load(); n != wantReads {
			t.Errorf("%s: %d reads, want %d", name, n, wantReads)
		}
	}
	classify("a desk room, first", bed.conv.DeskRoom, staffRoom, 3)
	classify("the desk room again", bed.conv.DeskRoom, staffRoom, 1)
	classify("the side room, first", bed.conv.SideRoom, staffRoom, 3)
	classify("the customer room", bedCustomerRoom, customerRoom, 1)
	classify("the customer room again", bedCustomerRoom, customerRoom, 1)
	classify("a room not ours", "!elsewhere:home.example", notOurRoom, 3)
	classify("a room not ours again", "!elsewhere:home.example", notOurRoom, 3)

	// The conversation's record goes (as after its retention).
	if _, err := bed.b.DB.Exec(ctx, `DELETE FROM conversation WHERE id = $1`, bed.conv.ID); err != nil {
		t.Fatal(err)
	}
	classify("the desk room after its conversation went", bed.conv.DeskRoom, notOurRoom, 4)
	classify("the desk room once more", bed.conv.DeskRoom, notOurRoom, 3)
}
