package integration

import (
	"context"
	"net/http"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/routing"
	"github.com/contactcenter/contactcenter/testclient/mxclient"
)

// TestPresenceMovesAgents: with the tenant's presence_availability, an agent whose
// client says "unavailable" goes from ready to away and one whose client says
// "offline" goes offline, each told in their control room, and gets no offer
// afterwards; presence never makes them ready (their !ready does). An agent whose
// account is deactivated is offline.
func TestPresenceMovesAgents(t *testing.T) {
	tm := newTeam(t, "sqlite", func(cfg *config.Config) { cfg.Tenants[0].PresenceAvailability = true })
	d, carol, dave := tm.d, tm.carol, tm.dave
	ctx := context.Background()
	acme := businessUser(d)
	status := func(c *mxclient.Client) routing.Status {
		record, err := d.Service.DB.Staff.Get(ctx, d.Config.Tenants[0].ID, c.UserID)
		if err != nil || record == nil {
			t.Fatalf("%s's record: %v", c.UserID, err)
		}
		return record.Status
	}

	// Dave deactivates his account (the homeserver takes him out of every room).
	tm.say(t, dave, acme, "!ready", bot.StatusNow(string(routing.Ready)))
	deactivate := map[string]any{"auth": map[string]any{"type": mautrix.AuthTypePassword, "password": "dave-password",
		"identifier": mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: dave.UserID.String()}}}
	if _, err := dave.MakeRequest(ctx, http.MethodPost, dave.BuildClientURL("v3", "account", "deactivate"), deactivate, nil); err != nil {
		t.Fatalf("deactivating Dave: %v", err)
	}
	eventually(t, welcomeTimeout, "Dave offline", func() (bool, error) { return status(dave) == routing.Offline, nil })

	tm.say(t, carol, acme, "!ready", bot.StatusNow(string(routing.Ready)))
	setPresence := func(p event.Presence, status string) {
		t.Helper()
		if err := carol.SetPresence(ctx, mautrix.ReqPresence{Presence: p}); err != nil {
			t.Fatal(err)
		}
		waitEvent(t, carol, tm.control[carol.UserID], "the notice of "+string(p), bodyIs(acme, bot.PresenceMoved(string(p), status, false)))
	}
	setPresence(event.PresenceUnavailable, string(routing.Away))
	if got := status(carol); got != routing.Away {
		t.Fatalf("unavailable: Carol is %s, want away", got)
	}
	// Back by her own decision while her client still says unavailable.
	tm.say(t, carol, acme, "!ready", bot.StatusNow(string(routing.Ready)))
	setPresence(event.PresenceOffline, string(routing.Offline))
	if got := status(carol); got != routing.Offline {
		t.Fatalf("offline: Carol is %s", got)
	}

	// A customer writes: nobody is offered the conversation while Carol is offline,
	// and she is once she says she is ready, whatever her presence says.
	customer := newCustomer(t, d, false)
	room, err := customer.CreateDM(ctx, acme, false)
	if err != nil {
		t.Fatal(err)
	}
	waitEvent(t, customer, room, "the welcome", isWelcome(d))
	if _, err = customer.SendText(ctx, room, "Is anyone there?"); err != nil {
		t.Fatal(err)
	}
	conv := openConversation(t, d, room)
	time.Sleep(5 * time.Second)
	if conv, err = d.Service.DB.Conversation.Get(ctx, conv.ID); err != nil || conv.OfferedTo != "" || conv.Status != database.StatusNew {
		t.Fatalf("the conversation while everyone is offline: %+v %v", conv, err)
	}
	if n := countMatching(carol, tm.control[carol.UserID], bodyIs(acme, "Reply **accept**")); n != 0 {
		t.Fatalf("Carol got %d offers while offline", n)
	}
	if got := status(carol); got != routing.Offline {
		t.Fatalf("Carol became %s without saying so", got)
	}
	tm.say(t, carol, acme, "!ready", bot.StatusNow(string(routing.Ready)))
	waitEvent(t, carol, tm.control[carol.UserID], "the offer once ready", bodyIs(acme, "Reply **accept**"))
}
