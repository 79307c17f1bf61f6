package integration

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/internal/deploy"
	"github.com/contactcenter/contactcenter/testclient/mxclient"
)

// mxclientView is a staff member's client and the staff rooms to scan through it.
type mxclientView struct {
	c     *mxclient.Client
	rooms []id.RoomID
}

// scanStaffRooms reads every event of the timeline and every state event of each staff
// room, as the homeserver serves them to staff, and fails on any trace of the
// customer's Matrix ID or homeserver name, or of anything else withheld (context the
// customer did not share). It returns how many events it read, so a scan that read
// nothing cannot pass unnoticed.
func scanStaffRooms(t *testing.T, d *deploy.Deployment, customer id.UserID, views []*mxclientView, withheld ...string) int {
	t.Helper()
	ctx := context.Background()
	secrets := append([]string{customer.String(), customer.Homeserver(), d.Bed.Customer.ServerName}, withheld...)
	read := 0
	for _, v := range views {
		for _, roomID := range v.rooms {
			events := roomEvents(t, ctx, v.c, roomID)
			if len(events) < 5 {
				t.Fatalf("privacy scan of %s read only %d events", roomID, len(events))
			}
			for _, raw := range events {
				read++
				for _, secret := range secrets {
					if strings.Contains(string(raw), secret) {
						t.Errorf("a staff room event names the customer (%s): %s", secret, raw)
					}
				}
			}
		}
	}
	return read
}

// roomEvents returns the raw JSON of a room's whole timeline and current state.
func roomEvents(t *testing.T, ctx context.Context, c *mxclient.Client, roomID id.RoomID) []json.RawMessage {
	t.Helper()
	var out []json.RawMessage
	from := ""
	for {
		resp, err := c.Messages(ctx, roomID, from, "", mautrix.DirectionBackward, nil, 500)
		if err != nil {
			t.Fatalf("reading %s: %v", roomID, err)
		}
		for _, evt := range resp.Chunk {
			raw, _ := json.Marshal(evt)
			out = append(out, raw)
		}
		// The last page is short; Dendrite keeps handing out an end token.
		if resp.End == "" || resp.End == from || len(resp.Chunk) < 500 {
			break
		}
		from = resp.End
	}
	state, err := c.State(ctx, roomID)
	if err != nil {
		t.Fatalf("reading the state of %s: %v", roomID, err)
	}
	for _, byKey := range state {
		for _, evt := range byKey {
			raw, _ := json.Marshal(evt)
			out = append(out, raw)
		}
	}
	return out
}

// scanCustomerRoom fails if anything written in a side room shows up in the customer
// room, decrypted, as the customer's client saw it.
func scanCustomerRoom(t *testing.T, customer *mxclient.Client, roomID id.RoomID, sideTexts []string) {
	t.Helper()
	events := customer.Events(roomID)
	if len(events) < 5 {
		t.Fatalf("privacy scan of the customer room read only %d events", len(events))
	}
	for _, evt := range events {
		raw, _ := json.Marshal(evt.Content.Raw)
		if evt.Content.Raw == nil {
			raw = evt.Content.VeryRaw
		}
		for _, text := range sideTexts {
			if strings.Contains(string(raw), text) {
				t.Errorf("side-room text %q reached the customer: %s", text, raw)
			}
		}
		if evt.Type == event.EventMessage && evt.Sender != customer.UserID && strings.Contains(evt.Content.AsMessage().Body, "side room") {
			t.Errorf("a side-room notice reached the customer: %s", raw)
		}
	}
}
