package database_test

import (
	"context"
	"testing"
	"time"

	"github.com/contactcenter/contactcenter/database"
)

// Events over the rate limit are stored settled, with the reason, in the same insert
// as the others; the rest stay pending with the decision in their source.
func TestInboxInsertManyWithLimitVerdicts(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		now := time.UnixMilli(1_700_000_000_000)
		events := []database.NewInboxEvent{
			{Key: "$plain", RoomID: "!r:x", Body: []byte(`{}`)},
			{Key: "$within", RoomID: "!r:x", Body: []byte(`{}`), Limit: database.WithinLimit},
			{Key: "$tell", RoomID: "!r:x", Body: []byte(`{}`), Limit: database.OverLimitTell},
			{Key: "$dropped", RoomID: "!r:x", Body: []byte(`{}`), Limit: database.OverLimitDropped},
		}
		if n, err := db.Inbox.InsertMany(ctx, database.SourceTransaction, events, now); err != nil || n != 4 {
			t.Fatalf("stored %d, %v; want 4", n, err)
		}
		heads, err := db.Inbox.Heads(ctx, "!r:x", 10)
		if err != nil {
			t.Fatal(err)
		}
		want := []database.InboxSource{database.SourceTransaction, database.SourceWithinLimit, database.SourceOverLimit}
		if len(heads) != len(want) {
			t.Fatalf("%d pending, want %d", len(heads), len(want))
		}
		for i, h := range heads {
			if h.Source != want[i] {
				t.Errorf("%s: source %s, want %s", h.Key, h.Source, want[i])
			}
		}
		var handledAt int64
		var reason string
		if err := db.QueryRow(ctx, `SELECT handled_at, last_error FROM inbox WHERE event_key = '$dropped'`).Scan(&handledAt, &reason); err != nil {
			t.Fatal(err)
		}
		if handledAt != now.UnixMilli() || reason != database.OverLimitReason {
			t.Fatalf("dropped event: handled at %d, reason %q", handledAt, reason)
		}
	})
}
