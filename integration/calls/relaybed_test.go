package calls

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/internal/deploy"
	"github.com/contactcenter/contactcenter/routing"
	"github.com/contactcenter/contactcenter/testclient/mxclient"
	"github.com/contactcenter/contactcenter/voice"
	"github.com/contactcenter/contactcenter/voice/voicetest"
)

// The service with calls on, its staff and its customers, for the relayed-call
// tests: everything on the test bed, media on loopback.

const waitLong = 90 * time.Second

// relayBed is a deployment with calls on and agents Carol and Dave (and Sam, a
// supervisor) on the business homeserver.
type relayBed struct {
	d    *deploy.Deployment
	acme id.UserID
}

// newRelayBed starts the homeservers, registers the staff (whose user IDs the
// config names) and starts the service with calls on; edits change the config
// first (more staff, tenant options).
func newRelayBed(t *testing.T, ring time.Duration, edits ...func(*config.Config)) *relayBed {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test")
	}
	ctx := context.Background()
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.DebugLevel).With().Timestamp().Logger()
	// The edits apply before the registration is written too (a tenant added there
	// needs its business identity in the appservice's namespaces): keep them idempotent.
	configure := func(cfg *config.Config) {
		for _, edit := range edits {
			edit(cfg)
		}
	}
	d, err := deploy.Start(ctx, deploy.Options{Dir: t.TempDir(), Database: "sqlite", NoService: true, Log: log, Configure: configure})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	err = d.EditConfig(func(cfg *config.Config) {
		domain := cfg.Homeserver.Domain
		cfg.Tenants[0].Staff = []routing.Staff{
			{UserID: "@carol:" + domain, Name: "Carol", Role: routing.RoleAgent},
			{UserID: "@dave:" + domain, Name: "Dave", Role: routing.RoleAgent},
			{UserID: "@sam:" + domain, Name: "Sam", Role: routing.RoleSupervisor},
		}
		cfg.Tenants[0].ConsentWait, cfg.Tenants[0].Workflow = 0, nil
		cfg.Voice.Enabled, cfg.Voice.LoopbackOnly, cfg.Voice.RingTimeout = true, true, ring
		for _, edit := range edits {
			edit(cfg)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range d.Config.Tenants[0].Staff {
		name := id.UserID(s.UserID).Localpart()
		if _, err := d.Bed.Business.Register(ctx, name, name+"-password", false); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.StartService(ctx); err != nil {
		t.Fatal(err)
	}
	return &relayBed{d: d, acme: d.Config.BusinessUserID(&d.Config.Tenants[0])}
}

// staff is a staff member's mautrix client that joins every room it is invited to,
// as an agent in Element would when a conversation is assigned to them; with
// away set it joins none (an agent away from their desk).
type staff struct {
	*mxclient.Client
	control id.RoomID
	away    atomic.Bool
}

func (rb *relayBed) staff(t *testing.T, localpart string) *staff {
	t.Helper()
	ctx := context.Background()
	c, err := mxclient.Login(ctx, mxclient.Options{HomeserverURL: rb.d.Bed.Business.URL,
		UserID: id.NewUserID(localpart, rb.d.Bed.Business.ServerName), Password: localpart + "-password", Dir: t.TempDir(), Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	s := &staff{Client: c}
	c.Syncer.(*mautrix.DefaultSyncer).OnEventType(event.StateMember, func(ctx context.Context, evt *event.Event) {
		if evt.GetStateKey() == c.UserID.String() && evt.Content.AsMember().Membership == event.MembershipInvite && !s.away.Load() {
			go func() {
				for range 20 {
					if _, err := c.JoinRoomByID(context.Background(), evt.RoomID); err == nil {
						return
					}
					time.Sleep(250 * time.Millisecond)
				}
			}()
		}
	})
	eventually(t, waitLong, "a control room for "+localpart, func() (bool, error) {
		record, err := rb.d.Service.DB.Staff.Get(ctx, rb.d.Config.Tenants[0].ID, c.UserID)
		if record != nil {
			s.control = record.ControlRoomID
		}
		return s.control != "", err
	})
	// The invite follows the room's record (through the outbox).
	eventually(t, waitLong, localpart+" joining the control room", func() (bool, error) {
		_, err := c.JoinRoomByID(ctx, s.control)
		return err == nil, nil
	})
	return s
}

// ready makes the staff member available.
func (rb *relayBed) ready(t *testing.T, s *staff) {
	t.Helper()
	sayIn(t, s.Client, s.control, rb.acme, "!ready", bot.StatusNow(string(routing.Ready)))
}

// customer is a customer on the customer homeserver (mautrix's client with
// encryption, cross-signed) with an encrypted DM open with the business, welcomed.
type customer struct {
	*mxclient.Client
	room id.RoomID
}

var customerCounter int

func (rb *relayBed) customer(t *testing.T) *customer {
	t.Helper()
	ctx := context.Background()
	customerCounter++
	name := fmt.Sprintf("caller%d", customerCounter)
	acct, err := rb.d.Bed.Customer.Register(ctx, name, name+"-password", false)
	if err != nil {
		t.Fatal(err)
	}
	c, err := mxclient.Login(ctx, mxclient.Options{HomeserverURL: rb.d.Bed.Customer.URL, UserID: id.UserID(acct.UserID),
		Password: name + "-password", Encryption: true, Dir: t.TempDir(), Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	room, err := c.CreateDM(ctx, rb.acme, true)
	if err != nil {
		t.Fatal(err)
	}
	waitEvent(t, c, room, "the welcome", func(evt *event.Event) bool {
		msg := evt.Content.AsMessage()
		return evt.Sender == rb.acme && msg != nil && strings.Contains(msg.Body, "Welcome")
	})
	return &customer{Client: c, room: room}
}

// conversation waits for the customer room's open conversation.
func (rb *relayBed) conversation(t *testing.T, room id.RoomID) *database.Conversation {
	t.Helper()
	var conv *database.Conversation
	eventually(t, waitLong, "a conversation", func() (ok bool, err error) {
		conv, err = rb.d.Service.DB.Conversation.Open(context.Background(), room)
		return conv != nil, err
	})
	return conv
}

// endedCall waits until the conversation's last call is recorded as ended.
func (rb *relayBed) endedCall(t *testing.T, convID int64, n int) *database.Call {
	t.Helper()
	var call *database.Call
	eventually(t, waitLong, "the call recorded as ended", func() (bool, error) {
		calls, err := rb.d.Service.DB.Calls().OfConversation(context.Background(), convID)
		if err != nil || len(calls) < n {
			return false, err
		}
		call = calls[n-1]
		return call.State == database.CallEnded, nil
	})
	return call
}

// roomPeer is a pion call peer (voicetest.Peer) whose signalling goes through a
// real room: what it sends is sent by the client (encrypted in an encrypted room),
// and the call events others send there reach it, one call at a time.
type roomPeer struct {
	*voicetest.Peer
	c    *mxclient.Client
	room id.RoomID

	mu     sync.Mutex
	callID string
	since  int64 // ms: events sent before the peer started are not its own
	out    chan voice.Message
	stop   chan struct{}
	wg     sync.WaitGroup
}

// newRoomPeer starts a peer on c's view of room; events already in the room are
// not its own.
func newRoomPeer(t *testing.T, c *mxclient.Client, room id.RoomID, name string) *roomPeer {
	t.Helper()
	return newRoomPeerWith(t, c, room, voicetest.PeerOptions{Name: name})
}

// newRoomPeerWith is newRoomPeer with the peer's options (video); Send is the room.
func newRoomPeerWith(t *testing.T, c *mxclient.Client, room id.RoomID, opts voicetest.PeerOptions) *roomPeer {
	t.Helper()
	api, err := voice.LoopbackConfig().API()
	if err != nil {
		t.Fatal(err)
	}
	name := opts.Name
	rp := &roomPeer{c: c, room: room, since: time.Now().UnixMilli(), out: make(chan voice.Message, 256), stop: make(chan struct{})}
	opts.Send = func(m voice.Message) {
		select {
		case rp.out <- m:
		case <-rp.stop:
		}
	}
	rp.Peer, err = voicetest.NewPeer(api, opts)
	if err != nil {
		t.Fatal(err)
	}
	seen := len(c.Events(room))
	rp.wg.Add(2)
	go func() {
		defer rp.wg.Done()
		for {
			select {
			case m := <-rp.out:
				typ, content, err := voice.Encode(m)
				if err == nil {
					_, err = c.SendMessageEvent(context.Background(), room, event.Type{Type: typ, Class: event.MessageEventType}, content)
				}
				if err != nil {
					t.Logf("%s: sending %s: %v", name, voice.CallID(m), err)
				}
			case <-rp.stop:
				return
			}
		}
	}()
	go func() {
		defer rp.wg.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-rp.stop:
				return
			case <-tick.C:
			}
			evs := c.Events(room)
			for _, evt := range evs[seen:] {
				rp.take(evt)
			}
			seen = len(evs)
		}
	}()
	t.Cleanup(rp.close)
	return rp
}

func (rp *roomPeer) close() {
	select {
	case <-rp.stop:
		return
	default:
	}
	close(rp.stop)
	rp.wg.Wait()
	rp.Peer.Close()
}

// take hands the peer an event of its call (or an invite for it, when it has none).
func (rp *roomPeer) take(evt *event.Event) {
	// A client that rejoins a room gets its timeline again, older calls' invites
	// included.
	if evt.Sender == rp.c.UserID || !strings.HasPrefix(evt.Type.Type, "m.call.") || evt.Timestamp < rp.since {
		return
	}
	msg, err := voice.Parse(evt.Type.Type, evt.Content.VeryRaw)
	if err != nil {
		return
	}
	rp.mu.Lock()
	mine := voice.CallID(msg) == rp.callID
	if inv, ok := msg.(*voice.Invite); ok && rp.callID == "" && inv.Invitee == rp.c.UserID.String() {
		rp.callID, mine = inv.CallID, true
	}
	rp.mu.Unlock()
	if mine {
		rp.Handle(msg)
	}
}

// call places a call to invitee.
func (rp *roomPeer) call(t *testing.T, invitee id.UserID) *voice.Invite {
	t.Helper()
	rp.mu.Lock()
	defer rp.mu.Unlock()
	inv, err := rp.Invite(invitee.String())
	if err != nil {
		t.Fatal(err)
	}
	rp.callID = inv.CallID
	return inv
}

// ringing waits for the invite the peer is rung with.
func (rp *roomPeer) ringing(t *testing.T, timeout time.Duration) *voice.Invite {
	t.Helper()
	select {
	case inv := <-rp.Invites:
		return inv
	case <-time.After(timeout):
		t.Fatalf("%s: no call rang within %s", rp.Name, timeout)
		return nil
	}
}

// ended waits for the other side's hangup and returns its reason.
func (rp *roomPeer) ended(t *testing.T, timeout time.Duration) voice.HangupReason {
	t.Helper()
	select {
	case r := <-rp.Ended:
		return r
	case <-time.After(timeout):
		t.Fatalf("%s: the call did not end within %s", rp.Name, timeout)
		return ""
	}
}

// connected waits for media.
func (rp *roomPeer) connected(t *testing.T, timeout time.Duration) {
	t.Helper()
	select {
	case <-rp.Connected:
	case <-time.After(timeout):
		t.Fatalf("%s: media did not connect within %s", rp.Name, timeout)
	}
}

// rawEvents reads a room's timeline and state as a member sees them (JSON).
func rawEvents(t *testing.T, c *mxclient.Client, room id.RoomID) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	resp, err := c.Messages(ctx, room, "", "", mautrix.DirectionBackward, nil, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, evt := range resp.Chunk {
		raw, _ := json.Marshal(evt)
		out = append(out, string(raw))
	}
	state, err := c.State(ctx, room)
	if err != nil {
		t.Fatal(err)
	}
	for _, byKey := range state {
		for _, evt := range byKey {
			raw, _ := json.Marshal(evt)
			out = append(out, string(raw))
		}
	}
	return out
}

// sayIn sends body in a room and waits for a notice from `from` containing want.
func sayIn(t *testing.T, c *mxclient.Client, room id.RoomID, from id.UserID, body, want string) {
	t.Helper()
	if _, err := c.SendText(context.Background(), room, body); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, c, room, "the answer to "+body, bodyIs(from, want))
}

func waitEvent(t *testing.T, c *mxclient.Client, room id.RoomID, what string, match func(*event.Event) bool) *event.Event {
	t.Helper()
	evt, err := c.WaitFor(context.Background(), room, waitLong, match)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return evt
}

func bodyIs(sender id.UserID, text string) func(*event.Event) bool {
	return func(evt *event.Event) bool {
		msg := evt.Content.AsMessage()
		return evt.Sender == sender && evt.Type == event.EventMessage && msg != nil && strings.Contains(msg.Body, text)
	}
}

func eventually(t *testing.T, timeout time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
