package integration

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/bridge"
	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/internal/deploy"
	"github.com/contactcenter/contactcenter/routing"
)

// firstWordsStaff is how many fresh staff members get a control room at once.
const firstWordsStaff = 50

// TestFirstWordsInNewRooms: a staff member whose client joins every invite at once and
// speaks straight away is heard in every room the service creates. 50 agents are
// logged in while the service sets the tenant up; each joins their fresh control room
// the moment the invite arrives and sends !ready: every one is ready and gets the
// answer. A supervisor does the same in the side rooms of new conversations: every
// first command there is answered.
func TestFirstWordsInNewRooms(t *testing.T) {
	ctx := context.Background()
	d := newHomeserversOnly(t, testLog(t).Level(zerolog.InfoLevel))
	var err error
	var agents []*eagerStaff
	for i := range firstWordsStaff {
		agents = append(agents, newEagerStaff(t, d, fmt.Sprintf("eager%02d", i), "!ready"))
	}
	sam := newEagerStaff(t, d, "eagersam", "!help")
	if err = d.EditConfig(func(cfg *config.Config) {
		cfg.Tenants[0].Staff = nil
		for _, a := range agents {
			cfg.Tenants[0].Staff = append(cfg.Tenants[0].Staff, routing.Staff{UserID: a.UserID.String(), Name: a.UserID.Localpart(), Role: routing.RoleAgent})
		}
		cfg.Tenants[0].Staff = append(cfg.Tenants[0].Staff, routing.Staff{UserID: sam.UserID.String(), Name: "Sam", Role: routing.RoleSupervisor})
		// Conversations wait in the queue: no agent takes them during this test.
		cfg.Tenants[0].ConsentWait, cfg.Tenants[0].Workflow = 0, nil
	}); err != nil {
		t.Fatal(err)
	}
	// As if the database were slow: each new room exists on the homeserver for a
	// moment before the service has recorded it.
	if err = d.StartService(ctx, func(b *bridge.Bridge) { b.RecordDelay = 300 * time.Millisecond }); err != nil {
		t.Fatal(err)
	}

	for _, a := range agents {
		room := a.controlRoom(t, d)
		a.waitAnswer(t, room, bot.StatusNow(string(routing.Ready)))
		record, err := d.Service.DB.Staff.Get(ctx, d.Config.Tenants[0].ID, a.UserID)
		if err != nil || record == nil || record.Status != routing.Ready {
			t.Fatalf("%s: status %+v (%v), want ready", a.UserID, record, err)
		}
	}

	const conversations = 10
	sideRooms := make([]id.RoomID, 0, conversations)
	for range conversations {
		customer := newCustomer(t, d, false)
		room, err := customer.CreateDM(ctx, businessUser(d), false)
		if err != nil {
			t.Fatal(err)
		}
		sideRooms = append(sideRooms, openConversation(t, d, room).SideRoom)
	}
	for _, side := range sideRooms {
		sam.waitAnswer(t, side, firstLine(bot.SideHelp))
	}

	// Taken off the staff, an agent's command in the old control room (one that
	// used to crash the service) is answered, not dropped. It is sent before the
	// start that takes them out of the room; the answer may land after the kick, so
	// it is looked for in what the service sent.
	gone := agents[0]
	room := gone.controlRoom(t, d)
	d.StopService()
	if err = d.EditConfig(func(cfg *config.Config) { cfg.Tenants[0].Staff = cfg.Tenants[0].Staff[1:] }); err != nil {
		t.Fatal(err)
	}
	sent, err := gone.SendText(ctx, room, "!monitor 1")
	if err != nil {
		t.Fatal(err)
	}
	if err = d.StartService(ctx); err != nil {
		t.Fatal(err)
	}
	want := bot.NotStaffAnyMore(d.Config.Tenants[0].Name)
	eventually(t, welcomeTimeout, "the answer to the former agent's command", func() (bool, error) {
		var content string
		var sentAt *int64
		err := d.Service.DB.QueryRow(ctx, `SELECT content, sent_at FROM outbox WHERE dedupe_key = $1`, "reply|"+sent.EventID.String()).Scan(&content, &sentAt)
		if errors.Is(err, sql.ErrNoRows) {
			return false, nil
		}
		return err == nil && sentAt != nil && strings.Contains(content, want), err
	})
}

// eagerStaff is a staff member's client that joins every invite the moment it
// arrives and at once sends its first words, as a quick person or a bot would.
type eagerStaff struct {
	*mautrix.Client
	say string

	mu      sync.Mutex
	sent    map[id.RoomID]id.EventID     // the first words, by room
	answers map[id.RoomID][]*event.Event // what others said after them
	changed chan struct{}
}

func newEagerStaff(t *testing.T, d *deploy.Deployment, localpart, say string) *eagerStaff {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	acct, err := d.Bed.Business.Register(ctx, localpart, localpart+"-password", false)
	if err != nil {
		t.Fatal(err)
	}
	cli, err := mautrix.NewClient(d.Bed.Business.URL, id.UserID(acct.UserID), acct.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	cli.DeviceID = id.DeviceID(acct.DeviceID)
	s := &eagerStaff{Client: cli, say: say, sent: map[id.RoomID]id.EventID{}, answers: map[id.RoomID][]*event.Event{}, changed: make(chan struct{})}
	syncer := cli.Syncer.(*mautrix.DefaultSyncer)
	syncer.OnEventType(event.StateMember, s.onMember)
	syncer.OnEventType(event.EventMessage, s.onMessage)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			if err := cli.SyncWithContext(ctx); err != nil && ctx.Err() == nil {
				time.Sleep(100 * time.Millisecond)
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return s
}

// onMember joins on an invite and speaks at once. Rooms that refuse messages (the
// tenant's space) just refuse them.
func (s *eagerStaff) onMember(ctx context.Context, evt *event.Event) {
	if evt.GetStateKey() != s.UserID.String() || evt.Content.AsMember().Membership != event.MembershipInvite {
		return
	}
	if _, err := s.JoinRoomByID(ctx, evt.RoomID); err != nil {
		return
	}
	resp, err := s.SendText(ctx, evt.RoomID, s.say)
	if err != nil {
		return
	}
	s.mu.Lock()
	s.sent[evt.RoomID] = resp.EventID
	s.mu.Unlock()
}

func (s *eagerStaff) onMessage(_ context.Context, evt *event.Event) {
	if evt.Sender == s.UserID {
		return
	}
	s.mu.Lock()
	s.answers[evt.RoomID] = append(s.answers[evt.RoomID], evt)
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

// controlRoom waits for the staff member's recorded control room.
func (s *eagerStaff) controlRoom(t *testing.T, d *deploy.Deployment) id.RoomID {
	t.Helper()
	var room id.RoomID
	eventually(t, welcomeTimeout, "a control room for "+s.UserID.String(), func() (bool, error) {
		record, err := d.Service.DB.Staff.Get(context.Background(), d.Config.Tenants[0].ID, s.UserID)
		if record != nil {
			room = record.ControlRoomID
		}
		return room != "", err
	})
	return room
}

// waitAnswer waits until the first words were sent in the room and a message
// containing want came back.
func (s *eagerStaff) waitAnswer(t *testing.T, room id.RoomID, want string) {
	t.Helper()
	deadline := time.After(welcomeTimeout)
	for {
		s.mu.Lock()
		_, spoke := s.sent[room]
		answered := false
		for _, evt := range s.answers[room] {
			if msg := evt.Content.AsMessage(); msg != nil && strings.Contains(msg.Body, want) {
				answered = true
			}
		}
		changed := s.changed
		s.mu.Unlock()
		if spoke && answered {
			return
		}
		select {
		case <-changed:
		case <-time.After(200 * time.Millisecond):
		case <-deadline:
			t.Fatalf("%s in %s: spoke first = %v, no answer containing %q", s.UserID, room, spoke, want)
		}
	}
}

// firstLine is the first line of a text, to recognise a long answer by.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
