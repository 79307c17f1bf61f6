package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/internal/deploy"
	"github.com/contactcenter/contactcenter/routing"
	"github.com/contactcenter/contactcenter/testclient/mxclient"
)

// newStaff registers a staff member on the business homeserver and logs them in.
func newStaff(t *testing.T, d *deploy.Deployment, localpart string) *mxclient.Client {
	t.Helper()
	ctx := context.Background()
	acct, err := d.Bed.Business.Register(ctx, localpart, localpart+"-password", false)
	if err != nil {
		t.Fatal(err)
	}
	c, err := mxclient.Login(ctx, mxclient.Options{
		HomeserverURL: d.Bed.Business.URL, UserID: id.UserID(acct.UserID), Password: localpart + "-password",
		Dir: t.TempDir(), Log: zerolog.Nop(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// joinControlRoom joins the first tenant's control room of a staff member.
func joinControlRoom(t *testing.T, d *deploy.Deployment, staff *mxclient.Client) id.RoomID {
	t.Helper()
	return joinTenantControlRoom(t, d, d.Config.Tenants[0].ID, staff)
}

// command sends a command and waits for the business identity's reply containing want.
func command(t *testing.T, d *deploy.Deployment, staff *mxclient.Client, roomID id.RoomID, body, want string) {
	t.Helper()
	sayIn(t, staff, roomID, businessUser(d), body, want)
}

// TestControlRooms: every configured agent and supervisor gets a control room with the
// business identity (created even if their account appears after the service
// started); their commands set and report their availability. The room is the
// service's: staff write and react there, but cannot invite, kick, ban or change it.
func TestControlRooms(t *testing.T) {
	d := newDeployment(t, "sqlite", nil)
	ctx := context.Background()
	carol := newStaff(t, d, "carol")
	sam := newStaff(t, d, "sam")
	d.StopService()
	if err := d.EditConfig(func(cfg *config.Config) {
		cfg.Tenants[0].Staff = []routing.Staff{
			{UserID: carol.UserID.String(), Name: "Carol", Role: routing.RoleAgent, Skills: map[string]int{"cards": 4}},
			{UserID: sam.UserID.String(), Name: "Sam", Role: routing.RoleSupervisor},
			// Dave's account does not exist yet when the service starts.
			{UserID: "@dave:" + d.Config.Homeserver.Domain, Name: "Dave", Role: routing.RoleAgent},
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := d.StartService(ctx); err != nil {
		t.Fatal(err)
	}

	room := joinControlRoom(t, d, carol)
	if _, err := carol.WaitFor(ctx, room, welcomeTimeout, func(evt *event.Event) bool {
		return evt.Sender == businessUser(d) && strings.Contains(evt.Content.AsMessage().Body, bot.Status(string(routing.Offline), time.Time{}))
	}); err != nil {
		t.Fatalf("no greeting in the control room: %v", err)
	}
	command(t, d, carol, room, "!ready", bot.StatusNow(string(routing.Ready)))
	readyAt, err := d.Service.DB.Staff.Get(ctx, d.Config.Tenants[0].ID, carol.UserID)
	if err != nil {
		t.Fatal(err)
	}
	command(t, d, carol, room, "status", bot.Status(string(routing.Ready), readyAt.StatusChangedAt))
	command(t, d, carol, room, "!away", bot.StatusNow(string(routing.Away)))
	command(t, d, carol, room, "!dance", bot.UnknownCommand("dance"))
	command(t, d, carol, room, "!help", "!offline")
	assertControlRoomReserved(t, d, carol, room, sam.UserID)
	record, err := d.Service.DB.Staff.Get(ctx, d.Config.Tenants[0].ID, carol.UserID)
	if err != nil || record.Status != routing.Away || time.Since(record.StatusChangedAt) > time.Minute {
		t.Fatalf("stored status: %+v %v", record, err)
	}

	samRoom := joinControlRoom(t, d, sam)
	if samRoom == room {
		t.Fatal("each staff member needs a control room of their own")
	}
	command(t, d, sam, samRoom, "!status", strings.TrimSuffix(bot.Status(string(routing.Offline), time.Time{}), "."))
	// A control room whose powers are looser (made before they were reserved, here
	// loosened by hand) is put right at the next start.
	loosenPowers(t, d, samRoom)

	// Restarting keeps the rooms and the status; no second room is made.
	d.StopService()
	if err = d.StartService(ctx); err != nil {
		t.Fatal(err)
	}
	command(t, d, carol, room, "!status", bot.Status(string(routing.Away), record.StatusChangedAt))
	eventually(t, welcomeTimeout, "Sam's control room reserved again", func() (bool, error) {
		pl := &event.PowerLevelsEventContent{}
		err := sam.StateEvent(ctx, samRoom, event.StatePowerLevels, "", pl)
		return err == nil && pl.Invite() == 100, err
	})
	assertControlRoomReserved(t, d, sam, samRoom, carol.UserID)

	// Dave's account appears: his control room follows within the retry interval.
	dave := newStaff(t, d, "dave")
	daveRoom := joinControlRoom(t, d, dave)
	command(t, d, dave, daveRoom, "!ready", bot.StatusNow(string(routing.Ready)))
	staff, err := d.Service.DB.Staff.OfTenant(ctx, d.Config.Tenants[0].ID)
	if err != nil || len(staff) != 3 {
		t.Fatalf("staff records: %d %v", len(staff), err)
	}
}

// assertControlRoomReserved checks a control room's power levels as the homeserver
// enforces them: the staff member cannot bring anyone in (offers and the tenant's
// conversations are posted there) nor change the room; the business identity alone
// can.
func assertControlRoomReserved(t *testing.T, d *deploy.Deployment, staff *mxclient.Client, room id.RoomID, other id.UserID) {
	t.Helper()
	ctx := context.Background()
	if _, err := staff.InviteUser(ctx, room, &mautrix.ReqInviteUser{UserID: other}); err == nil {
		t.Fatalf("%s invited %s into their control room", staff.UserID, other)
	}
	if _, err := staff.SendStateEvent(ctx, room, event.StateTopic, "", &event.TopicEventContent{Topic: "mine"}); err == nil {
		t.Fatalf("%s changed their control room's topic", staff.UserID)
	}
	pl := &event.PowerLevelsEventContent{}
	if err := staff.StateEvent(ctx, room, event.StatePowerLevels, "", pl); err != nil {
		t.Fatal(err)
	}
	business := businessUser(d)
	if pl.Invite() != 100 || pl.Kick() != 100 || pl.Ban() != 100 || pl.StateDefault() != 100 || pl.GetUserLevel(business) != 100 {
		t.Fatalf("control room powers not reserved to the business identity: %+v", pl)
	}
	if level := pl.GetUserLevel(staff.UserID); level != 0 || pl.GetEventLevel(event.EventMessage) > level || pl.GetEventLevel(event.EventReaction) > level {
		t.Fatalf("the staff member (level %d) must write and react and nothing more: %+v", level, pl)
	}
}

// loosenPowers lets every member of a room invite, as the business identity, and
// waits until the service has taken the change in.
func loosenPowers(t *testing.T, d *deploy.Deployment, room id.RoomID) {
	t.Helper()
	ctx := context.Background()
	loose := &event.PowerLevelsEventContent{Users: map[id.UserID]int{businessUser(d): 100}}
	zero := 0
	loose.InvitePtr = &zero
	if _, err := d.Service.TenantByID(d.Config.Tenants[0].ID).Client.SendStateEvent(ctx, room, event.StatePowerLevels, "", loose); err != nil {
		t.Fatal(err)
	}
	eventually(t, welcomeTimeout, "the service to see the looser powers", func() (bool, error) {
		pl, err := d.Service.StateStore.GetPowerLevels(ctx, room)
		return err == nil && pl != nil && pl.Invite() == 0, err
	})
}
