package bridge

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"

	"github.com/contactcenter/contactcenter/database"
)

// What is filed in the inbox is handled as soon as the bridge hands its room to the
// queue, not at the transport's next safety poll (seconds later, which every message
// would pay).
func TestHandReachesTheTransport(t *testing.T) {
	bed := newInputBed(t)
	ctx, cancel := context.WithCancel(zerolog.New(zerolog.NewTestWriter(t)).WithContext(context.Background()))
	done := make(chan struct{})
	go func() { defer close(done); bed.b.queues().Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	time.Sleep(300 * time.Millisecond) // the transport's first poll has found nothing

	body, _ := json.Marshal(map[string]any{"type": event.EventMessage.Type, "event_id": "$woken", "room_id": bedCustomerRoom,
		"sender": bedCustomer, "origin_server_ts": time.Now().UnixMilli(), "content": map[string]any{"msgtype": "m.text", "body": "hi"}})
	if _, err := bed.b.DB.Inbox.Insert(ctx, "$woken", bedCustomerRoom, database.SourceTransaction, body, time.Now()); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	bed.b.handInbox(bedCustomerRoom)
	for {
		if done, _ := bed.handled(t, "$woken"); done {
			break
		}
		if time.Since(start) > time.Second {
			t.Fatal("the event waited for the transport's poll: the hand-over did not reach it")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
