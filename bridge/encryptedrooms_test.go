package bridge

import (
	"context"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"
)

// A room's encryption is asked once: a positive answer for good, a negative one for
// notEncryptedFor, or until an encryption event of the room is handled.
func TestEncryptedRoomsCache(t *testing.T) {
	ctx := context.Background()
	var e encryptedRooms
	asked := map[id.RoomID]int{}
	encrypted := map[id.RoomID]bool{"!enc:x": true}
	ask := func(_ context.Context, room id.RoomID) (bool, error) {
		asked[room]++
		return encrypted[room], nil
	}
	now := time.UnixMilli(1_700_000_000_000)
	check := func(room id.RoomID, at time.Time, want bool, wantAsked int) {
		t.Helper()
		got, err := e.isEncrypted(ctx, room, at, ask)
		if err != nil || got != want || asked[room] != wantAsked {
			t.Fatalf("%s: encrypted %v (err %v), asked %d times; want %v, %d", room, got, err, asked[room], want, wantAsked)
		}
	}
	check("!enc:x", now, true, 1)
	check("!enc:x", now.Add(time.Hour), true, 1)
	check("!plain:x", now, false, 1)
	check("!plain:x", now.Add(notEncryptedFor/2), false, 1)
	check("!plain:x", now.Add(notEncryptedFor), false, 2)
	// The room is encrypted now: the event forgets the negative answer at once.
	encrypted["!plain:x"] = true
	e.forget("!plain:x")
	check("!plain:x", now.Add(notEncryptedFor), true, 3)
	check("!plain:x", now.Add(2*notEncryptedFor), true, 3)
}
