package integration

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bridge"
	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/internal/deploy"
	"github.com/contactcenter/contactcenter/routing"
)

// untilStopped holds every new room unrecorded until the service stops, as if it
// crashed between creating a room and recording it.
const untilStopped = time.Hour

// TestNoOrphanRoomsAfterCrash: the service stopped between creating rooms and
// recording them (the tenant's space; then a control room and a conversation's desk
// and side rooms) leaves, after its next start, no room its users are joined to that
// it does not record, and the creations it then retries work.
func TestNoOrphanRoomsAfterCrash(t *testing.T) {
	ctx := context.Background()
	d := newHomeserversOnly(t, testLog(t).Level(zerolog.InfoLevel))
	var err error
	business := businessUser(d)
	holdRecords := func(b *bridge.Bridge) { b.RecordDelay = untilStopped }

	// The tenant's space is created, then the service dies before recording it.
	if err = d.StartService(ctx, holdRecords); err != nil {
		t.Fatal(err)
	}
	orphanSpace := waitUnrecorded(t, d, business, 1, nil)[0]
	d.StopService()

	if err = d.StartService(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, welcomeTimeout, "the tenant's space recorded", func() (bool, error) {
		space, err := d.Service.DB.TenantSpace.Get(ctx, d.Config.Tenants[0].ID)
		return space != nil && space.RoomID != orphanSpace, err
	})
	eventually(t, welcomeTimeout, "the unrecorded space left", func() (bool, error) {
		return !joinedTo(t, d, business, orphanSpace), nil
	})

	// A new staff member's control room and a new conversation's rooms are created,
	// then the service dies before recording them.
	d.StopService()
	acct, err := d.Bed.Business.Register(ctx, "orphanora", "orphanora-password", false)
	if err != nil {
		t.Fatal(err)
	}
	if err = d.EditConfig(func(cfg *config.Config) {
		cfg.Tenants[0].Staff = []routing.Staff{{UserID: acct.UserID, Name: "Ora", Role: routing.RoleAgent}}
		cfg.Tenants[0].ConsentWait, cfg.Tenants[0].Workflow = 0, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err = d.StartService(ctx, holdRecords); err != nil {
		t.Fatal(err)
	}
	customer := newCustomer(t, d, false)
	customerRoom, err := customer.CreateDM(ctx, business, false)
	if err != nil {
		t.Fatal(err)
	}
	// The control room and the side room (created after the desk room); the customer
	// room is not recorded either until the conversation is.
	orphans := waitUnrecorded(t, d, business, 2, []id.RoomID{customerRoom})
	d.StopService()

	if err = d.StartService(ctx); err != nil {
		t.Fatal(err)
	}
	conv := openConversation(t, d, customerRoom)
	eventually(t, welcomeTimeout, "a recorded control room", func() (bool, error) {
		record, err := d.Service.DB.Staff.Get(ctx, d.Config.Tenants[0].ID, id.UserID(acct.UserID))
		return record != nil && record.ControlRoomID != "", err
	})
	for _, user := range []id.UserID{business, conv.Ghost} {
		eventually(t, welcomeTimeout, "only recorded rooms joined by "+user.String(), func() (bool, error) {
			return len(unrecordedRooms(t, d, user, nil)) == 0, nil
		})
	}
	for _, room := range orphans {
		if joinedTo(t, d, business, room) {
			t.Errorf("the business identity is still in the unrecorded room %s", room)
		}
	}
}

// waitUnrecorded waits until user is joined to at least n rooms that the service does
// not record (apart from those in except), and returns them.
func waitUnrecorded(t *testing.T, d *deploy.Deployment, user id.UserID, n int, except []id.RoomID) []id.RoomID {
	t.Helper()
	var rooms []id.RoomID
	eventually(t, welcomeTimeout, "new rooms of "+user.String(), func() (bool, error) {
		rooms = unrecordedRooms(t, d, user, except)
		return len(rooms) >= n, nil
	})
	return rooms
}

// unrecordedRooms lists the rooms user is joined to that no table of the service
// names, apart from those in except.
func unrecordedRooms(t *testing.T, d *deploy.Deployment, user id.UserID, except []id.RoomID) []id.RoomID {
	t.Helper()
	var out []id.RoomID
rooms:
	for _, room := range joinedRooms(t, d, user) {
		for _, skip := range except {
			if room == skip {
				continue rooms
			}
		}
		var recorded bool
		err := d.Service.DB.QueryRow(context.Background(), `
			SELECT EXISTS (SELECT 1 FROM customer_room WHERE room_id = $1)
				OR EXISTS (SELECT 1 FROM conversation WHERE desk_room_id = $1 OR side_room_id = $1)
				OR EXISTS (SELECT 1 FROM staff WHERE control_room_id = $1)
				OR EXISTS (SELECT 1 FROM tenant_space WHERE room_id = $1)`, room).Scan(&recorded)
		if err != nil {
			t.Fatal(err)
		}
		if !recorded {
			out = append(out, room)
		}
	}
	return out
}

func joinedTo(t *testing.T, d *deploy.Deployment, user id.UserID, room id.RoomID) bool {
	t.Helper()
	for _, joined := range joinedRooms(t, d, user) {
		if joined == room {
			return true
		}
	}
	return false
}

// joinedRooms asks the business homeserver, with the appservice's token, which rooms
// one of the service's users is joined to.
func joinedRooms(t *testing.T, d *deploy.Deployment, user id.UserID) []id.RoomID {
	t.Helper()
	cli, err := mautrix.NewClient(d.Bed.Business.URL, user, d.Config.Appservice.ASToken)
	if err != nil {
		t.Fatal(err)
	}
	cli.SetAppServiceUserID = true
	resp, err := cli.JoinedRooms(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return resp.JoinedRooms
}
