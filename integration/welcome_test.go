package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/internal/deploy"
	"github.com/contactcenter/contactcenter/testclient/jsclient"
)

const welcomeTimeout = 30 * time.Second

// TestWelcome: a customer on another homeserver DMs the business identity and gets the
// tenant's welcome, with mautrix's client (plain and encrypted) and matrix-js-sdk
// (encrypted, as Element does), on SQLite and on PostgreSQL. Encrypted rooms must work
// both ways: the welcome arrives encrypted, and the service decrypts what the customer
// says.
func TestWelcome(t *testing.T) {
	for _, db := range databases {
		t.Run(db, func(t *testing.T) {
			d := newDeployment(t, db, nil)
			t.Run("mautrix-plain", func(t *testing.T) { welcomeWithMautrix(t, d, false) })
			t.Run("mautrix-encrypted", func(t *testing.T) { welcomeWithMautrix(t, d, true) })
			t.Run("js-sdk-encrypted", func(t *testing.T) { welcomeWithJSSDK(t, d) })
		})
	}
}

func welcomeWithMautrix(t *testing.T, d *deploy.Deployment, encrypted bool) {
	ctx := context.Background()
	customer := newCustomer(t, d, encrypted)
	roomID, err := customer.CreateDM(ctx, businessUser(d), encrypted)
	if err != nil {
		t.Fatal(err)
	}
	welcome, err := customer.WaitFor(ctx, roomID, welcomeTimeout, isWelcome(d))
	if err != nil {
		t.Fatal(err)
	}
	if got := welcome.Mautrix.EventSource&event.SourceDecrypted != 0; got != encrypted {
		t.Fatalf("welcome encrypted = %v, want %v", got, encrypted)
	}
	if welcome.Content.AsMessage().MsgType != event.MsgNotice {
		t.Errorf("welcome should be a notice, got %s", welcome.Content.AsMessage().MsgType)
	}
	eventID, err := customer.SendText(ctx, roomID, "Hello, I need help with my card")
	if err != nil {
		t.Fatal(err)
	}
	assertHandled(t, d, eventID)
	assertOneWelcomeOneConversation(t, d, roomID, func() int { return countMatching(customer, roomID, isWelcome(d)) })
}

func welcomeWithJSSDK(t *testing.T, d *deploy.Deployment) {
	ctx := context.Background()
	customer := newJSCustomer(t, d, businessUser(d))
	js, roomID := customer.js, customer.room.String()
	welcome, err := js.WaitForMessage(ctx, roomID, jsclient.MessageFilter{Sender: businessUser(d).String(), Contains: "ACME Support"}, welcomeTimeout)
	if err != nil {
		t.Fatal(err)
	}
	if !welcome.Encrypted {
		t.Fatal("the welcome in an encrypted DM must be encrypted")
	}
	eventID, err := js.SendText(ctx, roomID, "Hello from matrix-js-sdk")
	if err != nil {
		t.Fatal(err)
	}
	assertHandled(t, d, id.EventID(eventID))
	assertOneWelcomeOneConversation(t, d, id.RoomID(roomID), func() int {
		msgs, err := js.Messages(ctx, roomID)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, m := range msgs {
			if m.Sender == businessUser(d).String() && strings.Contains(m.Body(), "ACME Support") {
				n++
			}
		}
		return n
	})
}

// assertHandled waits until the service handled the customer's event without error
// (for an encrypted event: decrypted it).
func assertHandled(t *testing.T, d *deploy.Deployment, eventID id.EventID) {
	t.Helper()
	eventually(t, welcomeTimeout, "the service to handle the customer's message", func() (bool, error) {
		handled, lastErr := inboxState(t, d, eventID)
		if handled && lastErr != "" {
			t.Fatalf("the service gave up on the customer's message: %s", lastErr)
		}
		return handled, nil
	})
}

// assertOneWelcomeOneConversation waits a moment for any duplicate to show up, then
// checks there is exactly one welcome and one conversation.
func assertOneWelcomeOneConversation(t *testing.T, d *deploy.Deployment, roomID id.RoomID, welcomes func() int) {
	t.Helper()
	time.Sleep(time.Second)
	if n := welcomes(); n != 1 {
		t.Errorf("customer saw %d welcomes, want 1", n)
	}
	if n := conversations(t, d, roomID); n != 1 {
		t.Errorf("%d conversations recorded, want 1", n)
	}
}
