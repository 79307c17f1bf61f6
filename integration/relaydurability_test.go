package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/testclient/mxclient"
)

// TestRelayDurability: messages in flight both ways while the service restarts, and
// while the business homeserver is down for 30 s. Every message arrives on the other
// side exactly once and in order.
func TestRelayDurability(t *testing.T) {
	tm := newTeam(t, "sqlite")
	d := tm.d
	ctx := context.Background()
	acme := businessUser(d)
	customer, room, conv := tm.assignedConversation(t, "from-customer 000")
	send := func(c *mxclient.Client, roomID id.RoomID, prefix string, from, to int) {
		t.Helper()
		sendNumbered(t, c, roomID, prefix, from, to)
	}

	// A restart with messages in flight both ways.
	send(customer, room, "from-customer", 1, 6)
	send(tm.carol, conv.DeskRoom, "from-agent", 0, 5)
	d.StopService()
	send(customer, room, "from-customer", 6, 11)
	send(tm.carol, conv.DeskRoom, "from-agent", 5, 10)
	if err := d.StartService(ctx); err != nil {
		t.Fatal(err)
	}
	send(customer, room, "from-customer", 11, 15)

	// The business homeserver away for 30 s: the customer's homeserver keeps their
	// messages and delivers them when it is back; the service retries its sends.
	waitRelayed(t, tm.carol, conv.DeskRoom, conv.Ghost, "from-customer", 15)
	if err := d.Bed.Business.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	send(customer, room, "from-customer", 15, 20)
	time.Sleep(30 * time.Second)
	if err := d.Bed.Business.Start(ctx); err != nil {
		t.Fatal(err)
	}
	send(tm.carol, conv.DeskRoom, "from-agent", 10, 15)
	send(customer, room, "from-customer", 20, 25)

	waitRelayed(t, tm.carol, conv.DeskRoom, conv.Ghost, "from-customer", 25)
	waitRelayed(t, customer, room, acme, "from-agent", 15)
}

// sendNumbered sends "<prefix> 000"… for the numbers from..to-1, one at a time.
func sendNumbered(t *testing.T, c *mxclient.Client, roomID id.RoomID, prefix string, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if _, err := c.SendText(context.Background(), roomID, fmt.Sprintf("%s %03d", prefix, i)); err != nil {
			t.Fatalf("%s %d: %v", prefix, i, err)
		}
	}
}

// waitRelayed waits until the room's history (as the server has it: a client's sync
// after an outage may skip a gap) holds n messages with a prefix from sender, then
// checks they are exactly 0..n-1, each once, in order.
func waitRelayed(t *testing.T, c *mxclient.Client, roomID id.RoomID, sender id.UserID, prefix string, n int) {
	t.Helper()
	var got []string
	collect := func() []string {
		var bodies []string
		resp, err := c.Messages(context.Background(), roomID, "", "", mautrix.DirectionBackward, nil, 1000)
		if err != nil {
			return nil
		}
		for i := len(resp.Chunk) - 1; i >= 0; i-- {
			evt := resp.Chunk[i]
			_ = evt.Content.ParseRaw(evt.Type)
			if msg := evt.Content.AsMessage(); evt.Sender == sender && evt.Type == event.EventMessage && msg != nil && strings.HasPrefix(msg.Body, prefix) {
				bodies = append(bodies, msg.Body)
			}
		}
		return bodies
	}
	deadline := time.Now().Add(90 * time.Second)
	for got = collect(); len(got) < n && time.Now().Before(deadline); got = collect() {
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(time.Second) // anything doubled would arrive right behind
	got = collect()
	if len(got) != n {
		t.Fatalf("%s: %d messages arrived, want %d: %v", prefix, len(got), n, got)
	}
	for i, body := range got {
		if want := fmt.Sprintf("%s %03d", prefix, i); body != want {
			t.Fatalf("%s: message %d is %q, want %q (order or duplicates): %v", prefix, i, body, want, got)
		}
	}
}
