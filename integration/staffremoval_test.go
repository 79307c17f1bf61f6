package integration

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/routing"
	"github.com/contactcenter/contactcenter/testclient/mxclient"
)

// TestStaffRemoval: staff come from the config, which may change between starts.
// Someone taken off a tenant's staff loses at the next start what the role gave them:
// the desk and side rooms of open conversations, the tenant's space and their control
// room (where conversations are listed and offered). A conversation they served alone
// goes back to the queue, and to the next ready agent. Put back on the staff, they
// are invited into their control room again.
func TestStaffRemoval(t *testing.T) {
	tm := newTeam(t, "sqlite")
	d := tm.d
	ctx := context.Background()
	acme := businessUser(d)
	tm.say(t, tm.dave, acme, "!ready", bot.StatusNow(string(routing.Ready)))

	customer := newCustomer(t, d, false)
	room, err := customer.CreateDM(ctx, acme, false)
	if err != nil {
		t.Fatal(err)
	}
	waitEvent(t, tm.dave, tm.control[tm.dave.UserID], "Dave's offer", bodyIs(acme, "Reply **accept**"))
	conv := openConversation(t, d, room)
	tm.say(t, tm.dave, acme, "accept", bot.OfferWon(conv.ID))
	joinWhenInvited(t, tm.dave, conv.DeskRoom)
	joinWhenInvited(t, tm.dave, conv.SideRoom)
	tm.say(t, tm.sam, acme, "!monitor "+strconv.FormatInt(conv.ID, 10), bot.MonitorInvited(conv.ID))
	joinWhenInvited(t, tm.sam, conv.SideRoom)
	spaceRow, err := d.Service.DB.TenantSpace.Get(ctx, "acme")
	if err != nil || spaceRow == nil {
		t.Fatalf("the tenant's space: %v %v", spaceRow, err)
	}
	space := spaceRow.RoomID
	joinWhenInvited(t, tm.dave, space)
	joinWhenInvited(t, tm.sam, space)
	tm.say(t, tm.carol, acme, "!ready", bot.StatusNow(string(routing.Ready)))

	// Dave (the conversation's only agent) and Sam (watching it) leave the staff.
	var everyone []routing.Staff
	restart := func(edit func(*config.Config)) {
		t.Helper()
		d.StopService()
		if err := d.EditConfig(edit); err != nil {
			t.Fatal(err)
		}
		if err := d.StartService(ctx); err != nil {
			t.Fatal(err)
		}
	}
	restart(func(cfg *config.Config) {
		everyone = cfg.Tenants[0].Staff
		cfg.Tenants[0].Staff = everyone[:1:1] // Carol
	})

	waitOutOf(t, tm.dave, tm.control[tm.dave.UserID], conv.DeskRoom, conv.SideRoom, space)
	waitOutOf(t, tm.sam, tm.control[tm.sam.UserID], conv.SideRoom, space)
	if _, err = tm.dave.SendText(ctx, tm.control[tm.dave.UserID], "!conversations"); err == nil {
		t.Fatal("Dave can still ask for the tenant's conversations")
	}
	waitEvent(t, tm.carol, tm.control[tm.carol.UserID], "the conversation offered to Carol", bodyIs(acme, "Reply **accept**"))
	got, err := d.Service.DB.Conversation.Get(ctx, conv.ID)
	if err != nil || got.Status != database.StatusOffered || got.OfferedTo != tm.carol.UserID {
		t.Fatalf("after Dave left the staff: %+v %v", got, err)
	}
	participants, err := d.Service.DB.Participants.Current(ctx, conv.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range participants {
		if p.UserID == tm.dave.UserID || p.UserID == tm.sam.UserID {
			t.Fatalf("%s still takes part in the conversation as %s", p.UserID, p.Role)
		}
	}

	// Back on the staff, Dave gets his control room back.
	restart(func(cfg *config.Config) { cfg.Tenants[0].Staff = everyone })
	joinWhenInvited(t, tm.dave, tm.control[tm.dave.UserID])
	tm.say(t, tm.dave, acme, "!status", strings.TrimSuffix(bot.Status(string(routing.Offline), time.Time{}), "."))
}

// waitOutOf waits until the client's user is in none of the rooms.
func waitOutOf(t *testing.T, c *mxclient.Client, rooms ...id.RoomID) {
	t.Helper()
	eventually(t, welcomeTimeout, c.UserID.String()+" out of their staff rooms", func() (bool, error) {
		resp, err := c.JoinedRooms(context.Background())
		if err != nil {
			return false, err
		}
		return !slices.ContainsFunc(rooms, func(r id.RoomID) bool { return slices.Contains(resp.JoinedRooms, r) }), nil
	})
}
