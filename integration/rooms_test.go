package integration

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/bridge"
	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/internal/deploy"
	"github.com/contactcenter/contactcenter/testclient/mxclient"
)

// TestRoomRules: the service talks in direct chats only (anyone else in the room would
// read what agents say), and leaves when the customer leaves. A customer room serves
// one customer and one business: another business asked into it declines. Nothing
// the customer writes behind a refusal opens a conversation.
func TestRoomRules(t *testing.T) {
	d := newDeployment(t, "sqlite", withGlobex)
	ctx := context.Background()
	business := businessUser(d)

	// A third person is either already there when the business identity is invited,
	// or joins later. (Invited in the same createRoom call, the business homeserver may
	// not learn of the third invite until the next event from the customer's server:
	// federation is eventually consistent.)
	t.Run("group room refused at intake", func(t *testing.T) {
		customer := newCustomer(t, d, false)
		bystander := newCustomer(t, d, false)
		resp, err := customer.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "private_chat", Invite: []id.UserID{bystander.UserID}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err = bystander.JoinRoomByID(ctx, resp.RoomID); err != nil {
			t.Fatal(err)
		}
		if _, err = customer.InviteUser(ctx, resp.RoomID, &mautrix.ReqInviteUser{UserID: business}); err != nil {
			t.Fatal(err)
		}
		expectRefusal(t, d, customer, resp.RoomID)
	})

	t.Run("third person invited later", func(t *testing.T) {
		customer := newCustomer(t, d, false)
		bystander := newCustomer(t, d, false)
		roomID := welcomedDM(t, d, customer)
		if _, err := customer.InviteUser(ctx, roomID, &mautrix.ReqInviteUser{UserID: bystander.UserID}); err != nil {
			t.Fatal(err)
		}
		expectRefusal(t, d, customer, roomID)
	})

	t.Run("customer leaves", func(t *testing.T) {
		customer := newCustomer(t, d, false)
		roomID := welcomedDM(t, d, customer)
		if _, err := customer.LeaveRoom(ctx, roomID); err != nil {
			t.Fatal(err)
		}
		waitBusinessLeft(t, d, roomID)
		conv, err := d.Service.DB.Conversation.Open(ctx, roomID)
		if err != nil || conv != nil {
			t.Fatalf("the conversation must be closed when the customer leaves: %+v %v", conv, err)
		}
	})

	// The customer shows ACME out of their DM and asks Globex into the same room: Globex
	// must not serve a room recorded for ACME (its consent, card and routing would be
	// ACME's), so it says why and leaves. ACME, asked back, serves it again.
	t.Run("room of another tenant", func(t *testing.T) {
		customer := newCustomer(t, d, false)
		resp, err := customer.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "private_chat", IsDirect: true, Invite: []id.UserID{business}})
		if err != nil {
			t.Fatal(err)
		}
		roomID := resp.RoomID
		if _, err = customer.WaitFor(ctx, roomID, welcomeTimeout, isWelcome(d)); err != nil {
			t.Fatal(err)
		}
		// Once ACME has said all it says at the start (what it queued for a room it was
		// shown out of would hold up the room's later sends).
		eventually(t, welcomeTimeout, "ACME's first words to be sent", func() (bool, error) {
			var pending int
			err := d.Service.DB.QueryRow(ctx, `SELECT COUNT(*) FROM outbox WHERE room_id = $1 AND sent_at IS NULL`, roomID).Scan(&pending)
			return pending == 0, err
		})
		if _, err = customer.KickUser(ctx, roomID, &mautrix.ReqKickUser{UserID: business}); err != nil {
			t.Fatal(err)
		}
		waitBusinessLeft(t, d, roomID)
		eventually(t, welcomeTimeout, "ACME's conversation to end", func() (bool, error) {
			conv, err := d.Service.DB.Conversation.Open(ctx, roomID)
			return conv == nil, err
		})

		globex := d.Service.TenantByID("globex")
		if _, err = customer.InviteUser(ctx, roomID, &mautrix.ReqInviteUser{UserID: globex.UserID}); err != nil {
			t.Fatal(err)
		}
		if _, err = customer.WaitFor(ctx, roomID, welcomeTimeout, func(evt *event.Event) bool {
			msg := evt.Content.AsMessage()
			return evt.Sender == globex.UserID && msg != nil && msg.Body == bot.RoomOfAnotherConversation
		}); err != nil {
			t.Fatalf("Globex must decline ACME's room: %v", err)
		}
		waitLeft(t, globex.Client, roomID)
		room, err := d.Service.DB.CustomerRoom.Get(ctx, roomID)
		if err != nil || room == nil || room.TenantID != "acme" || room.Customer != customer.UserID || room.LeftAt.IsZero() {
			t.Fatalf("the room's record must stay ACME's and left: %+v %v", room, err)
		}
		if conv, err := d.Service.DB.Conversation.Open(ctx, roomID); err != nil || conv != nil {
			t.Fatalf("Globex opened a conversation in ACME's room: %+v %v", conv, err)
		}
		if n := conversations(t, d, roomID); n != 1 {
			t.Fatalf("%d conversations in the room, want ACME's one", n)
		}

		if _, err = customer.InviteUser(ctx, roomID, &mautrix.ReqInviteUser{UserID: business}); err != nil {
			t.Fatal(err)
		}
		eventually(t, welcomeTimeout, "ACME's second welcome", func() (bool, error) {
			return countMatching(customer, roomID, isWelcome(d)) == 2, nil
		})
		if conv := openConversation(t, d, roomID); conv.TenantID != "acme" {
			t.Fatalf("the conversation after ACME's return is %s's", conv.TenantID)
		}
	})

	// Globex asked into a DM ACME still serves: Globex declines, and to ACME it is a
	// third person, so ACME refuses the room too.
	t.Run("another tenant asked into a served room", func(t *testing.T) {
		customer := newCustomer(t, d, false)
		roomID := welcomedDM(t, d, customer)
		globex := d.Service.TenantByID("globex")
		if _, err := customer.InviteUser(ctx, roomID, &mautrix.ReqInviteUser{UserID: globex.UserID}); err != nil {
			t.Fatal(err)
		}
		expectRefusal(t, d, customer, roomID)
		if _, err := customer.WaitFor(ctx, roomID, welcomeTimeout, func(evt *event.Event) bool {
			msg := evt.Content.AsMessage()
			return evt.Sender == globex.UserID && msg != nil && msg.Body == bot.RoomOfAnotherConversation
		}); err != nil {
			t.Fatalf("Globex must decline ACME's room: %v", err)
		}
		waitLeft(t, globex.Client, roomID)
		if n := conversations(t, d, roomID); n != 1 {
			t.Fatalf("%d conversations in the room, want ACME's one", n)
		}
	})

	// A bystander joins and the customer writes at once: the refusal marks the room
	// left, and the message handled right behind it must not open a conversation in a
	// room the service is leaving (one that would never close).
	t.Run("customer writes right behind a third person", func(t *testing.T) {
		customer := newCustomer(t, d, false)
		bystander := newCustomer(t, d, false)
		roomID := welcomedDM(t, d, customer)
		// Held, the service stores both events and handles them one after the other
		// once it runs again, as if they had come in one transaction.
		d.StopService()
		if err := d.StartService(ctx, func(b *bridge.Bridge) { b.HoldInbox = true }); err != nil {
			t.Fatal(err)
		}
		if _, err := customer.InviteUser(ctx, roomID, &mautrix.ReqInviteUser{UserID: bystander.UserID}); err != nil {
			t.Fatal(err)
		}
		if _, err := bystander.JoinRoomByID(ctx, roomID); err != nil {
			t.Fatal(err)
		}
		msgID, err := customer.SendText(ctx, roomID, "are you still there?")
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, welcomeTimeout, "the message to be stored", func() (bool, error) {
			return inboxCount(t, d, "WHERE event_key = $1", msgID.String()) == 1, nil
		})
		d.StopService()
		if err = d.StartService(ctx); err != nil {
			t.Fatal(err)
		}
		expectRefusal(t, d, customer, roomID)
		assertHandled(t, d, msgID)
		if n := conversations(t, d, roomID); n != 1 {
			t.Fatalf("%d conversations in the room, want the first one only", n)
		}
		if conv, err := d.Service.DB.Conversation.Open(ctx, roomID); err != nil || conv != nil {
			t.Fatalf("a conversation stays open in a room the service left: %+v %v", conv, err)
		}
	})
}

// withGlobex adds a second tenant, Globex, without staff.
func withGlobex(cfg *config.Config) {
	globex := cfg.Tenants[0]
	globex.ID, globex.Name, globex.BusinessLocalpart, globex.DisplayName = "globex", "Globex", "globex", "Globex Insurance"
	globex.Welcome = "Welcome to **Globex Insurance**."
	globex.Staff, globex.APIKeys = nil, nil
	cfg.Tenants = append(cfg.Tenants, globex)
}

// expectRefusal waits for the "direct chats only" notice and the business identity's
// leave, and checks that no conversation stays open.
func expectRefusal(t *testing.T, d *deploy.Deployment, customer *mxclient.Client, roomID id.RoomID) {
	t.Helper()
	if _, err := customer.WaitFor(context.Background(), roomID, welcomeTimeout, func(evt *event.Event) bool {
		return evt.Sender == businessUser(d) && strings.Contains(evt.Content.AsMessage().Body, bot.DirectChatsOnly)
	}); err != nil {
		t.Fatal(err)
	}
	waitBusinessLeft(t, d, roomID)
	if conv, err := d.Service.DB.Conversation.Open(context.Background(), roomID); err != nil || conv != nil {
		t.Fatalf("no conversation may stay open in a group room: %+v %v", conv, err)
	}
}

// waitBusinessLeft waits until the business identity is no longer in the room, as its
// own homeserver sees it.
func waitBusinessLeft(t *testing.T, d *deploy.Deployment, roomID id.RoomID) {
	t.Helper()
	waitLeft(t, d.Service.TenantByID(d.Config.Tenants[0].ID).Client, roomID)
}

// waitLeft waits until a user is no longer in the room, as their homeserver sees it.
func waitLeft(t *testing.T, client *mautrix.Client, roomID id.RoomID) {
	t.Helper()
	eventually(t, welcomeTimeout, fmt.Sprintf("%s to leave %s", client.UserID, roomID), func() (bool, error) {
		resp, err := client.JoinedRooms(context.Background())
		if err != nil {
			return false, err
		}
		return !slices.Contains(resp.JoinedRooms, roomID), nil
	})
	time.Sleep(100 * time.Millisecond)
}

// TestEncryptionOff: with encryption disabled the service still greets plain DMs, and
// tells a customer who opened an encrypted DM (in plain text, the only thing it can
// send) that it cannot read them, then leaves.
func TestEncryptionOff(t *testing.T) {
	d := newDeployment(t, "sqlite", func(cfg *config.Config) { cfg.Encryption.Enabled = false })
	ctx := context.Background()
	plain := newCustomer(t, d, false)
	roomID, err := plain.CreateDM(ctx, businessUser(d), false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err = plain.WaitFor(ctx, roomID, welcomeTimeout, isWelcome(d)); err != nil {
		t.Fatal(err)
	}

	encrypted := newCustomer(t, d, true)
	roomID, err = encrypted.CreateDM(ctx, businessUser(d), true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err = encrypted.WaitFor(ctx, roomID, welcomeTimeout, func(evt *event.Event) bool {
		return evt.Sender == businessUser(d) && strings.Contains(evt.Content.AsMessage().Body, bot.EncryptionUnsupported)
	}); err != nil {
		t.Fatal(err)
	}
	waitBusinessLeft(t, d, roomID)
}

// welcomedDM opens a plain DM of the customer with the first tenant and waits for the
// welcome.
func welcomedDM(t *testing.T, d *deploy.Deployment, customer *mxclient.Client) id.RoomID {
	t.Helper()
	ctx := context.Background()
	roomID, err := customer.CreateDM(ctx, businessUser(d), false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err = customer.WaitFor(ctx, roomID, welcomeTimeout, isWelcome(d)); err != nil {
		t.Fatal(err)
	}
	return roomID
}
