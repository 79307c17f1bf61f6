package integration

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/routing"
	"github.com/contactcenter/contactcenter/testclient/jsclient"
	"github.com/contactcenter/contactcenter/testclient/mxclient"
)

// TestTypingAndReceipts: a customer on matrix-js-sdk (encrypted DM) and an agent on
// mautrix's client see each other type and read, on Dendrite, which pushes no
// ephemeral event to appservices: the customer's typing shows as the ghost's in the
// desk room, the agent's as the business identity's in the customer room; a receipt
// lands on the event that stands for the one read. Private receipts cross neither
// way, the side room gets no typing or receipt, and staff rooms still never name
// the customer.
func TestTypingAndReceipts(t *testing.T) {
	tm := newTeam(t, "sqlite")
	d, carol := tm.d, tm.carol
	ctx := context.Background()
	acme := businessUser(d)
	tm.say(t, carol, acme, "!ready", bot.StatusNow(string(routing.Ready)))

	customer := newJSCustomer(t, d, acme)
	js, room := customer.js, customer.room.String()
	jsWait := func(what, contains string) *jsclient.Event {
		t.Helper()
		evt, err := js.WaitForMessage(ctx, room, jsclient.MessageFilter{Sender: acme.String(), Contains: contains}, welcomeTimeout)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return evt
	}
	jsSay := func(body string) id.EventID {
		t.Helper()
		evtID, err := js.SendText(ctx, room, body)
		if err != nil {
			t.Fatal(err)
		}
		return id.EventID(evtID)
	}
	jsWait("the welcome", "ACME Support")
	jsSay("Hello, I lost my card")
	waitEvent(t, carol, tm.control[carol.UserID], "the offer", bodyIs(acme, "Reply **accept**"))
	tm.say(t, carol, acme, "accept", "is yours")
	conv := openConversation(t, d, customer.room)
	joinWhenInvited(t, carol, conv.DeskRoom)
	joinWhenInvited(t, carol, conv.SideRoom)
	waitEvent(t, carol, conv.DeskRoom, "the first message", bodyIs(conv.Ghost, "lost my card"))

	// The customer types, then stops: the ghost does the same in the desk room.
	if err := js.SendTyping(ctx, room, true); err != nil {
		t.Fatal(err)
	}
	waitTypingIn(t, carol, conv.DeskRoom, conv.Ghost, true)
	if err := js.SendTyping(ctx, room, false); err != nil {
		t.Fatal(err)
	}
	waitTypingIn(t, carol, conv.DeskRoom, conv.Ghost, false)

	// Carol types: the customer sees ACME typing; she sends and stops, as Element does.
	if _, err := carol.UserTyping(ctx, conv.DeskRoom, true, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := js.WaitTyping(ctx, room, acme.String(), true, welcomeTimeout); err != nil {
		t.Fatalf("the customer never saw ACME typing: %v", err)
	}
	first := sendContent(t, carol, conv.DeskRoom, event.EventMessage, &event.MessageEventContent{MsgType: event.MsgText, Body: "Hi, Carol here"})
	if _, err := carol.UserTyping(ctx, conv.DeskRoom, false, 0); err != nil {
		t.Fatal(err)
	}
	firstCopy := jsWait("Carol's first message", "Carol here")
	if err := js.WaitTyping(ctx, room, acme.String(), false, welcomeTimeout); err != nil {
		t.Fatalf("ACME still typing after the message: %v", err)
	}

	// The customer reads it privately (not relayed), then reads the next one publicly:
	// the ghost's receipt in the desk room is on Carol's second message, and only there.
	if err := js.SendReceipt(ctx, room, firstCopy.EventID, true); err != nil {
		t.Fatal(err)
	}
	second := sendContent(t, carol, conv.DeskRoom, event.EventMessage, &event.MessageEventContent{MsgType: event.MsgText, Body: "Which card was it?"})
	secondCopy := jsWait("Carol's second message", "Which card")
	if err := js.SendReceipt(ctx, room, secondCopy.EventID, false); err != nil {
		t.Fatal(err)
	}
	if _, err := carol.WaitEphemeral(ctx, conv.DeskRoom, welcomeTimeout, readBy(conv.Ghost, second)); err != nil {
		t.Fatalf("Carol never saw the customer's receipt on her message: %v", err)
	}
	if countEphemeral(carol, conv.DeskRoom, readBy(conv.Ghost, first)) != 0 {
		t.Fatal("the customer's private receipt was relayed")
	}

	// Carol reads the customer's next message privately, then the one after publicly:
	// the customer sees ACME's receipt on their own third message, not on the second.
	secondQuestion := jsSay("The blue one")
	deskSecond := waitEvent(t, carol, conv.DeskRoom, "the customer's second message", bodyIs(conv.Ghost, "blue one"))
	if err := carol.SendReceipt(ctx, conv.DeskRoom, deskSecond.ID, event.ReceiptTypeReadPrivate, nil); err != nil {
		t.Fatal(err)
	}
	third := jsSay("It ends in 42")
	deskThird := waitEvent(t, carol, conv.DeskRoom, "the customer's third message", bodyIs(conv.Ghost, "ends in 42"))
	if err := carol.SendReceipt(ctx, conv.DeskRoom, deskThird.ID, event.ReceiptTypeRead, nil); err != nil {
		t.Fatal(err)
	}
	if err := js.WaitReceipt(ctx, room, acme.String(), third.String(), welcomeTimeout); err != nil {
		t.Fatalf("the customer never saw ACME read their message: %v", err)
	}
	seen, err := js.Ephemeral(ctx, room)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range seen.Receipts {
		if r.UserID == acme.String() && r.EventID == secondQuestion.String() {
			t.Fatal("Carol's private receipt was relayed to the customer")
		}
	}

	// The side room saw no typing and no receipt of the service's users.
	for _, evt := range carol.Ephemeral(conv.SideRoom) {
		raw, _ := json.Marshal(evt.Content.Raw)
		if strings.Contains(string(raw), acme.String()) || strings.Contains(string(raw), conv.Ghost.String()) {
			t.Fatalf("the side room got %s: %s", evt.Type.Type, raw)
		}
	}
	// Staff rooms, their typing notifications and receipts included, never name the
	// customer.
	scanStaffRooms(t, d, customer.userID, []*mxclientView{{carol, []id.RoomID{conv.DeskRoom, conv.SideRoom}}})
	for _, r := range []id.RoomID{conv.DeskRoom, conv.SideRoom} {
		for _, evt := range carol.Ephemeral(r) {
			raw, _ := json.Marshal(evt)
			if strings.Contains(string(raw), customer.userID.String()) || strings.Contains(string(raw), d.Bed.Customer.ServerName) {
				t.Fatalf("a typing notification or receipt names the customer: %s", raw)
			}
		}
	}
}

// waitTypingIn waits until the client's latest typing notification of a room shows
// user typing (or not).
func waitTypingIn(t *testing.T, c *mxclient.Client, room id.RoomID, user id.UserID, typing bool) {
	t.Helper()
	eventually(t, welcomeTimeout, user.String()+" typing="+map[bool]string{true: "on", false: "off"}[typing], func() (bool, error) {
		var last *event.TypingEventContent
		for _, evt := range c.Ephemeral(room) {
			if evt.Type == event.EphemeralEventTyping {
				last = evt.Content.AsTyping()
			}
		}
		return last != nil && slices.Contains(last.UserIDs, user) == typing, nil
	})
}

// readBy matches a receipt event carrying user's public receipt on evt.
func readBy(user id.UserID, evt id.EventID) func(*event.Event) bool {
	return func(e *event.Event) bool {
		if e.Type != event.EphemeralEventReceipt {
			return false
		}
		receipts := e.Content.AsReceipt()
		_, ok := (*receipts)[evt][event.ReceiptTypeRead][user]
		return ok
	}
}

// countEphemeral counts a room's typing notifications and receipts that match.
func countEphemeral(c *mxclient.Client, room id.RoomID, match func(*event.Event) bool) int {
	n := 0
	for _, evt := range c.Ephemeral(room) {
		if match(evt) {
			n++
		}
	}
	return n
}
