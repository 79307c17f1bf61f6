package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"

	"github.com/contactcenter/contactcenter/config"
)

// TestBadInput: wrong credentials and broken transactions get clear errors and change
// nothing; events the service does not know are stored and ignored without harm.
func TestBadInput(t *testing.T) {
	d := newDeployment(t, "sqlite", nil)
	ctx := context.Background()
	customer := newCustomer(t, d, false)
	roomID, err := customer.CreateDM(ctx, businessUser(d), false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err = customer.WaitFor(ctx, roomID, welcomeTimeout, isWelcome(d)); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/_matrix/mau/live", "/_matrix/mau/ready"} {
		resp, err := http.Get("http://" + d.Service.Addr() + path)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s after start-up: %v %v", path, resp, err)
		}
		resp.Body.Close()
	}
	token := d.Config.Appservice.HSToken
	valid, _ := json.Marshal(map[string]any{"events": []any{map[string]any{
		"event_id": "$bad-input-1", "room_id": roomID, "type": "m.room.message", "sender": customer.UserID,
		"origin_server_ts": time.Now().UnixMilli(), "content": map[string]any{"msgtype": "m.text", "body": "forged"},
	}}})
	// Only the forged event counts: the service's own rooms keep bringing events.
	forged := func() int { return inboxCount(t, d, "WHERE event_key = $1", "$bad-input-1") }

	cases := []struct {
		name, token string
		body        []byte
		status      int
		errcode     string
	}{
		{"wrong token", wrongToken(token), valid, http.StatusUnauthorized, "M_UNKNOWN_TOKEN"},
		{"as_token instead of hs_token", d.Config.Appservice.ASToken, valid, http.StatusUnauthorized, "M_UNKNOWN_TOKEN"},
		{"no token", "", valid, http.StatusUnauthorized, "M_MISSING_TOKEN"},
		{"malformed JSON", token, []byte(`{"events": [`), http.StatusBadRequest, "M_NOT_JSON"},
		{"events not a list", token, []byte(`{"events": {"a": 1}}`), http.StatusBadRequest, "M_NOT_JSON"},
		{"too large", token, bytes.Repeat([]byte(" "), 17<<20), http.StatusRequestEntityTooLarge, "M_TOO_LARGE"},
	}
	for i, c := range cases {
		status, errcode := putTransaction(t, d, "bad-"+string(rune('a'+i)), c.token, c.body)
		if status != c.status || errcode != c.errcode {
			t.Errorf("%s: got %d %s, want %d %s", c.name, status, errcode, c.status, c.errcode)
		}
	}
	if n := forged(); n != 0 {
		t.Fatalf("rejected transactions stored %d events", n)
	}

	// Unknown types, events missing their ID, and content that does not fit its type:
	// the transaction is accepted, the odd events are handled or dropped, nothing stalls.
	odd, _ := json.Marshal(map[string]any{"events": []any{
		map[string]any{"event_id": "$unknown-type", "room_id": roomID, "type": "com.example.unknown", "sender": customer.UserID, "content": map[string]any{"x": 1}},
		map[string]any{"room_id": roomID, "type": "m.room.message", "sender": customer.UserID, "content": map[string]any{}},
		map[string]any{"event_id": "$bad-content", "room_id": roomID, "type": "m.room.member", "state_key": customer.UserID, "sender": customer.UserID, "content": map[string]any{"membership": 5}},
	}})
	if status, errcode := putTransaction(t, d, "odd", token, odd); status != http.StatusOK {
		t.Fatalf("odd events: HTTP %d %s", status, errcode)
	}
	eventually(t, welcomeTimeout, "odd events to be dealt with", func() (bool, error) {
		return inboxCount(t, d, "WHERE handled_at IS NULL") == 0, nil
	})
	if n := inboxCount(t, d, "WHERE event_key IN ('$unknown-type', '$bad-content')"); n != 2 {
		t.Fatalf("want both odd events stored, got %d", n)
	}
	if handled, lastErr := inboxState(t, d, "$bad-content"); !handled || lastErr == "" {
		t.Errorf("content not matching its type must be given up with a reason (handled=%v, error=%q)", handled, lastErr)
	}
	// An encrypted event the service cannot decrypt (here: an olm payload where only
	// megolm belongs) is given up at once, and the customer is asked to resend.
	undecryptable, _ := json.Marshal(map[string]any{"events": []any{map[string]any{
		"event_id": "$undecryptable", "room_id": roomID, "type": "m.room.encrypted", "sender": customer.UserID,
		"origin_server_ts": time.Now().UnixMilli(),
		"content":          map[string]any{"algorithm": "m.olm.v1.curve25519-aes-sha2", "sender_key": "x", "ciphertext": map[string]any{}},
	}}})
	if status, errcode := putTransaction(t, d, "undecryptable", token, undecryptable); status != http.StatusOK {
		t.Fatalf("undecryptable: HTTP %d %s", status, errcode)
	}
	if _, err = customer.WaitFor(ctx, roomID, welcomeTimeout, func(evt *event.Event) bool {
		return evt.Sender == businessUser(d) && strings.Contains(evt.Content.AsMessage().Body, "could not read one of your messages")
	}); err != nil {
		t.Fatal(err)
	}
	// The room still works after all that.
	msgID, err := customer.SendText(ctx, roomID, "still there?")
	if err != nil {
		t.Fatal(err)
	}
	assertHandled(t, d, msgID)
}

// wrongToken differs from token in its last character only (the hardest case for a
// comparison that stops early).
func wrongToken(token string) string {
	last := "x"
	if strings.HasSuffix(token, "x") {
		last = "y"
	}
	return token[:len(token)-1] + last
}

// TestBannedServer: an invite from a server on the banned list is refused; nothing is
// recorded and nobody is greeted.
func TestBannedServer(t *testing.T) {
	d := newDeployment(t, "sqlite", nil)
	ctx := context.Background()
	d.StopService()
	err := d.EditConfig(func(cfg *config.Config) { cfg.Federation.BannedServers = []string{d.Bed.Customer.ServerName} })
	if err == nil {
		err = d.StartService(ctx)
	}
	if err != nil {
		t.Fatal(err)
	}
	customer := newCustomer(t, d, false)
	roomID, err := customer.CreateDM(ctx, businessUser(d), false)
	if err != nil {
		t.Fatal(err)
	}
	// The service handles the invite by rejecting it. (Whether the customer's server
	// hears of the rejection is up to the homeservers: Dendrite rejects locally and
	// answers 200 when the federated rejection fails, about 1 time in 6 here.)
	eventually(t, welcomeTimeout, "the invite to be handled", func() (bool, error) {
		return inboxCount(t, d, "WHERE room_id = $1", roomID) > 0 &&
			inboxCount(t, d, "WHERE room_id = $1 AND handled_at IS NULL", roomID) == 0, nil
	})
	waitBusinessLeft(t, d, roomID)
	time.Sleep(500 * time.Millisecond)
	if n := countMatching(customer, roomID, isWelcome(d)); n != 0 {
		t.Fatalf("banned customer was greeted %d times", n)
	}
	if room, err := d.Service.DB.CustomerRoom.Get(ctx, roomID); err != nil || room != nil {
		t.Fatalf("banned room recorded: %+v %v", room, err)
	}
}
