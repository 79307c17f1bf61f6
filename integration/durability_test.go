package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bridge"
	"github.com/contactcenter/contactcenter/internal/deploy"
)

// putTransaction sends a transaction to the service as the homeserver would.
func putTransaction(t *testing.T, d *deploy.Deployment, txnID, token string, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, fmt.Sprintf("http://%s/_matrix/app/v1/transactions/%s", d.Service.Addr(), txnID), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		ErrCode string `json:"errcode"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out.ErrCode
}

// roomInbox returns the raw events the service stored for a room.
func roomInbox(t *testing.T, d *deploy.Deployment, roomID id.RoomID) []json.RawMessage {
	t.Helper()
	rows, err := d.Service.DB.Query(context.Background(), `SELECT body FROM inbox WHERE room_id = $1 ORDER BY seq`, roomID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []json.RawMessage
	for rows.Next() {
		var body string
		if err = rows.Scan(&body); err != nil {
			t.Fatal(err)
		}
		out = append(out, json.RawMessage(body))
	}
	return out
}

func inboxCount(t *testing.T, d *deploy.Deployment, where string, args ...any) int {
	t.Helper()
	var n int
	if err := d.Service.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM inbox `+where, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRepeatedTransaction: the homeserver may send a transaction again (same ID, or
// the same events under a new ID, as after its own restart). The customer is greeted
// once and the conversation recorded once.
func TestRepeatedTransaction(t *testing.T) {
	for _, db := range databases {
		t.Run(db, func(t *testing.T) {
			d := newDeployment(t, db, nil)
			ctx := context.Background()
			customer := newCustomer(t, d, false)
			roomID, err := customer.CreateDM(ctx, businessUser(d), false)
			if err != nil {
				t.Fatal(err)
			}
			if _, err = customer.WaitFor(ctx, roomID, welcomeTimeout, isWelcome(d)); err != nil {
				t.Fatal(err)
			}
			msgID, err := customer.SendText(ctx, roomID, "first message")
			if err != nil {
				t.Fatal(err)
			}
			assertHandled(t, d, msgID)

			events := roomInbox(t, d, roomID)
			// An invite seen by /sync has no event ID; give the replay one, as a
			// homeserver that pushes invites would.
			for i, raw := range events {
				var m map[string]any
				_ = json.Unmarshal(raw, &m)
				if m["event_id"] == nil || m["event_id"] == "" {
					m["event_id"] = fmt.Sprintf("$replayed-%d", i)
					events[i], _ = json.Marshal(m)
				}
			}
			body, _ := json.Marshal(map[string]any{"events": events})
			before := inboxCount(t, d, "")
			token := d.Config.Appservice.HSToken
			for _, txnID := range []string{"replay-1", "replay-1", "replay-2"} {
				if code, errcode := putTransaction(t, d, txnID, token, body); code != http.StatusOK {
					t.Fatalf("replay %s: HTTP %d %s", txnID, code, errcode)
				}
			}
			if added := inboxCount(t, d, "") - before; added > len(events) {
				t.Fatalf("replays added %d inbox rows; at most the %d re-keyed invites may be new", added, len(events))
			}
			eventually(t, welcomeTimeout, "replayed events to be handled", func() (bool, error) {
				return inboxCount(t, d, "WHERE handled_at IS NULL") == 0, nil
			})
			assertOneWelcomeOneConversation(t, d, roomID, func() int { return countMatching(customer, roomID, isWelcome(d)) })
		})
	}
}

// TestRestartBetweenReceivingAndHandling: the service stores an event, then stops
// before handling it (as in a crash). After a restart it handles it, once.
func TestRestartBetweenReceivingAndHandling(t *testing.T) {
	for _, db := range databases {
		t.Run(db, func(t *testing.T) {
			d := newDeployment(t, db, nil)
			ctx := context.Background()
			hold := func(b *bridge.Bridge) { b.HoldInbox = true }
			restartHolding := func() {
				d.StopService()
				if err := d.StartService(ctx, hold); err != nil {
					t.Fatal(err)
				}
			}
			restart := func() {
				d.StopService()
				if err := d.StartService(ctx); err != nil {
					t.Fatal(err)
				}
			}

			// The invite (seen by /sync) is received, then the service stops.
			restartHolding()
			customer := newCustomer(t, d, true)
			roomID, err := customer.CreateDM(ctx, businessUser(d), true)
			if err != nil {
				t.Fatal(err)
			}
			eventually(t, welcomeTimeout, "the invite to be stored", func() (bool, error) {
				return inboxCount(t, d, "WHERE room_id = $1 AND handled_at IS NULL", roomID) > 0, nil
			})
			time.Sleep(300 * time.Millisecond) // a held inbox must stay untouched
			if n := countMatching(customer, roomID, isWelcome(d)); n != 0 {
				t.Fatal("a held inbox must not greet")
			}
			restart()
			if _, err = customer.WaitFor(ctx, roomID, welcomeTimeout, isWelcome(d)); err != nil {
				t.Fatal(err)
			}

			// An encrypted message (pushed in a transaction) is received, then the
			// service stops; after the restart it is decrypted and handled.
			restartHolding()
			msgID, err := customer.SendText(ctx, roomID, "sent while the service was restarting")
			if err != nil {
				t.Fatal(err)
			}
			eventually(t, welcomeTimeout, "the message to be stored", func() (bool, error) {
				return inboxCount(t, d, "WHERE event_key = $1", msgID.String()) == 1, nil
			})
			restart()
			assertHandled(t, d, msgID)
			assertOneWelcomeOneConversation(t, d, roomID, func() int { return countMatching(customer, roomID, isWelcome(d)) })
		})
	}
}
