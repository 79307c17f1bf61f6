package integration

import (
	"context"
	"strings"
	"testing"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/internal/deploy"
	"github.com/contactcenter/contactcenter/routing"
	"github.com/contactcenter/contactcenter/testclient/mxclient"
)

// team is a deployment with two tenants and their staff, logged in with mautrix's
// client: ACME has agents Carol and Dave and supervisor Sam; Globex has agent Gina and
// supervisor Hank.
type team struct {
	d                            *deploy.Deployment
	carol, dave, sam, gina, hank *mxclient.Client
	control                      map[id.UserID]id.RoomID
}

func newTeam(t *testing.T, db string, configure ...func(*config.Config)) *team {
	t.Helper()
	d := newDeployment(t, db, func(cfg *config.Config) {
		staff := func(localpart, name string, role routing.Role) routing.Staff {
			return routing.Staff{UserID: "@" + localpart + ":" + cfg.Homeserver.Domain, Name: name, Role: role}
		}
		cfg.Tenants[0].Staff = []routing.Staff{
			staff("carol", "Carol", routing.RoleAgent), staff("dave", "Dave", routing.RoleAgent),
			staff("sam", "Sam", routing.RoleSupervisor),
		}
		globex := cfg.Tenants[0]
		globex.ID, globex.Name, globex.BusinessLocalpart, globex.DisplayName = "globex", "Globex", "globex", "Globex Insurance"
		globex.Welcome = "Welcome to **Globex Insurance**."
		globex.Staff = []routing.Staff{staff("gina", "Gina", routing.RoleAgent), staff("hank", "Hank", routing.RoleSupervisor)}
		cfg.Tenants = append(cfg.Tenants, globex)
		// The room tests route at once; routing tests set their own workflow.
		for i := range cfg.Tenants {
			cfg.Tenants[i].ConsentWait, cfg.Tenants[i].Workflow = 0, nil
		}
		for _, fn := range configure {
			fn(cfg)
		}
	})
	tm := &team{d: d, control: map[id.UserID]id.RoomID{}}
	for _, s := range []struct {
		c      **mxclient.Client
		name   string
		tenant string
	}{{&tm.carol, "carol", "acme"}, {&tm.dave, "dave", "acme"}, {&tm.sam, "sam", "acme"}, {&tm.gina, "gina", "globex"}, {&tm.hank, "hank", "globex"}} {
		*s.c = newStaff(t, d, s.name)
		tm.control[(*s.c).UserID] = joinTenantControlRoom(t, d, s.tenant, *s.c)
	}
	return tm
}

// joinTenantControlRoom is joinControlRoom for any tenant.
func joinTenantControlRoom(t *testing.T, d *deploy.Deployment, tenantID string, staff *mxclient.Client) id.RoomID {
	t.Helper()
	ctx := context.Background()
	var roomID id.RoomID
	eventually(t, welcomeTimeout, "a control room for "+staff.UserID.String(), func() (bool, error) {
		record, err := d.Service.DB.Staff.Get(ctx, tenantID, staff.UserID)
		if err != nil || record == nil {
			return false, err
		}
		roomID = record.ControlRoomID
		return roomID != "", nil
	})
	// The invite follows the room's record (through the outbox).
	joinWhenInvited(t, staff, roomID)
	return roomID
}

// say sends a command in the staff member's control room and waits for the reply.
func (tm *team) say(t *testing.T, staff *mxclient.Client, business id.UserID, body, want string) {
	t.Helper()
	sayIn(t, staff, tm.control[staff.UserID], business, body, want)
}

// sayIn sends body in a room and waits for a notice from `from` containing want.
func sayIn(t *testing.T, staff *mxclient.Client, roomID id.RoomID, from id.UserID, body, want string) {
	t.Helper()
	ctx := context.Background()
	sent, err := staff.SendText(ctx, roomID, body)
	if err != nil {
		t.Fatal(err)
	}
	seenSent := false
	if _, err = staff.WaitFor(ctx, roomID, welcomeTimeout, func(evt *event.Event) bool {
		if evt.ID == sent {
			seenSent = true
			return false
		}
		msg := evt.Content.AsMessage()
		return seenSent && evt.Sender == from && msg != nil && strings.Contains(msg.Body, want)
	}); err != nil {
		t.Fatalf("%s: no reply containing %q: %v", body, want, err)
	}
}

// joinWhenInvited joins a room as soon as the invite has arrived.
func joinWhenInvited(t *testing.T, c *mxclient.Client, roomID id.RoomID) {
	t.Helper()
	eventually(t, welcomeTimeout, c.UserID.String()+" joining "+roomID.String(), func() (bool, error) {
		_, err := c.JoinRoomByID(context.Background(), roomID)
		return err == nil, nil
	})
}

// openConversation waits for the room's open conversation.
func openConversation(t *testing.T, d *deploy.Deployment, roomID id.RoomID) *database.Conversation {
	t.Helper()
	var conv *database.Conversation
	eventually(t, welcomeTimeout, "a conversation in "+roomID.String(), func() (ok bool, err error) {
		conv, err = d.Service.DB.Conversation.Open(context.Background(), roomID)
		return conv != nil, err
	})
	return conv
}

// waitEvent waits for an event in a client's view of a room.
func waitEvent(t *testing.T, c *mxclient.Client, roomID id.RoomID, what string, match func(*event.Event) bool) *event.Event {
	t.Helper()
	evt, err := c.WaitFor(context.Background(), roomID, welcomeTimeout, match)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return evt
}

// bodyIs matches messages from sender whose body contains text.
func bodyIs(sender id.UserID, text string) func(*event.Event) bool {
	return func(evt *event.Event) bool {
		msg := evt.Content.AsMessage()
		return evt.Sender == sender && evt.Type == event.EventMessage && msg != nil && strings.Contains(msg.Body, text)
	}
}

// assignedConversation opens a conversation of a new plain customer that Carol has
// accepted and joined: the customer's first message (body) has reached her desk room.
func (tm *team) assignedConversation(t *testing.T, body string) (*mxclient.Client, id.RoomID, *database.Conversation) {
	t.Helper()
	ctx := context.Background()
	d, acme := tm.d, businessUser(tm.d)
	tm.say(t, tm.carol, acme, "!ready", bot.StatusNow(string(routing.Ready)))
	customer := newCustomer(t, d, false)
	room, err := customer.CreateDM(ctx, acme, false)
	if err != nil {
		t.Fatal(err)
	}
	waitEvent(t, customer, room, "the welcome", isWelcome(d))
	if _, err = customer.SendText(ctx, room, body); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, tm.carol, tm.control[tm.carol.UserID], "the offer", bodyIs(acme, "Reply **accept**"))
	tm.say(t, tm.carol, acme, "accept", "is yours")
	conv := openConversation(t, d, room)
	joinWhenInvited(t, tm.carol, conv.DeskRoom)
	waitEvent(t, tm.carol, conv.DeskRoom, "the first message", bodyIs(conv.Ghost, body))
	return customer, room, conv
}
