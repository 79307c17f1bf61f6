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

	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/internal/deploy"
	"github.com/contactcenter/contactcenter/testclient/mxclient"
)

// TestRoomRules: the service talks in direct chats only (anyone else in the room would
// read what agents say), and leaves when the customer leaves.
func TestRoomRules(t *testing.T) {
	d := newDeployment(t, "sqlite", nil)
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
		roomID, err := customer.CreateDM(ctx, business, false)
		if err != nil {
			t.Fatal(err)
		}
		if _, err = customer.WaitFor(ctx, roomID, welcomeTimeout, isWelcome(d)); err != nil {
			t.Fatal(err)
		}
		if _, err = customer.InviteUser(ctx, roomID, &mautrix.ReqInviteUser{UserID: bystander.UserID}); err != nil {
			t.Fatal(err)
		}
		expectRefusal(t, d, customer, roomID)
	})

	t.Run("customer leaves", func(t *testing.T) {
		customer := newCustomer(t, d, false)
		roomID, err := customer.CreateDM(ctx, business, false)
		if err != nil {
			t.Fatal(err)
		}
		if _, err = customer.WaitFor(ctx, roomID, welcomeTimeout, isWelcome(d)); err != nil {
			t.Fatal(err)
		}
		if _, err = customer.LeaveRoom(ctx, roomID); err != nil {
			t.Fatal(err)
		}
		waitBusinessLeft(t, d, roomID)
		conv, err := d.Service.DB.Conversation.Open(ctx, roomID)
		if err != nil || conv != nil {
			t.Fatalf("the conversation must be closed when the customer leaves: %+v %v", conv, err)
		}
	})
}

// expectRefusal waits for the "direct chats only" notice and the business identity's
// leave, and checks that no conversation stays open.
func expectRefusal(t *testing.T, d *deploy.Deployment, customer *mxclient.Client, roomID id.RoomID) {
	t.Helper()
	if _, err := customer.WaitFor(context.Background(), roomID, welcomeTimeout, func(evt *event.Event) bool {
		return evt.Sender == businessUser(d) && strings.Contains(evt.Content.AsMessage().Body, "only talk in direct chats")
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
	client := d.Service.TenantByID(d.Config.Tenants[0].ID).Client
	eventually(t, welcomeTimeout, fmt.Sprintf("the business identity to leave %s", roomID), func() (bool, error) {
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
		return evt.Sender == businessUser(d) && strings.Contains(evt.Content.AsMessage().Body, "cannot read encrypted messages")
	}); err != nil {
		t.Fatal(err)
	}
	waitBusinessLeft(t, d, roomID)
}
