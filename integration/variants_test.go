package integration

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/routing"
	"github.com/contactcenter/contactcenter/testclient/jsclient"
)

// TestConversationVariants: an anonymous customer on matrix-js-sdk (Element's SDK,
// encrypted DM) on PostgreSQL. The first offer is declined and goes to the next agent;
// another tenant's supervisor cannot monitor the conversation nor enter its rooms, the
// tenant's own supervisor can; an agent's redaction reaches the customer; transfers to
// an agent and to the queue hand the conversation over; a supervisor ends it.
func TestConversationVariants(t *testing.T) {
	tm := newTeam(t, "postgres")
	d := tm.d
	ctx := context.Background()
	acme := businessUser(d)
	globex := d.Config.BusinessUserID(&d.Config.Tenants[1])
	tm.say(t, tm.carol, acme, "!ready", bot.StatusNow(string(routing.Ready)))
	tm.say(t, tm.dave, acme, "!ready", bot.StatusNow(string(routing.Ready)))

	customer := newJSCustomer(t, d, acme)
	js, bob, room := customer.js, customer.userID, customer.room
	roomStr := room.String()
	var err error
	jsWait := func(what string, f jsclient.MessageFilter) *jsclient.Event {
		t.Helper()
		evt, err := js.WaitForMessage(ctx, roomStr, f, welcomeTimeout)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return evt
	}
	jsWait("the welcome", jsclient.MessageFilter{Sender: acme.String(), Contains: "ACME Support"})
	if _, err = js.SendText(ctx, roomStr, "Hi, a question about my mortgage"); err != nil {
		t.Fatal(err)
	}

	// Carol comes first; she declines, and the offer goes to Dave.
	waitEvent(t, tm.carol, tm.control[tm.carol.UserID], "Carol's offer", bodyIs(acme, "Reply **accept**"))
	offered := openConversation(t, d, room)
	tm.say(t, tm.carol, acme, "decline", bot.OfferDeclined(offered.ID))
	waitEvent(t, tm.dave, tm.control[tm.dave.UserID], "Dave's offer", bodyIs(acme, "Reply **accept**"))
	tm.say(t, tm.dave, acme, "accept", bot.OfferWon(offered.ID))
	conv := openConversation(t, d, room)
	if conv.Agent != tm.dave.UserID {
		t.Fatalf("assigned to %s, want Dave", conv.Agent)
	}
	joinWhenInvited(t, tm.dave, conv.DeskRoom)
	joinWhenInvited(t, tm.dave, conv.SideRoom)
	number := strconv.FormatInt(conv.ID, 10)

	// Tenants are isolated: Globex's supervisor cannot find or enter ACME's rooms.
	tm.say(t, tm.hank, globex, "!monitor "+number, bot.NoOpenConversation(number))
	for _, r := range []id.RoomID{conv.DeskRoom, conv.SideRoom} {
		if _, err := tm.hank.JoinRoomByID(ctx, r); err == nil {
			t.Fatalf("Globex's supervisor joined ACME's room %s", r)
		}
		if _, err := tm.gina.JoinRoomByID(ctx, r); err == nil {
			t.Fatalf("Globex's agent joined ACME's room %s", r)
		}
	}
	tm.say(t, tm.carol, acme, "!monitor "+number, bot.CommandNotForYou(bot.CmdMonitor))
	// ACME's own supervisor can; an outsider's commands in the side room are not heard.
	tm.say(t, tm.sam, acme, "!monitor "+number, bot.MonitorInvited(conv.ID))
	joinWhenInvited(t, tm.sam, conv.SideRoom)
	tm.say(t, tm.sam, acme, "!conversations", bot.ConversationWith("Dave"))

	// Dave writes, then takes it back: the customer's copy is redacted too.
	oops := sendContent(t, tm.dave, conv.DeskRoom, event.EventMessage, &event.MessageEventContent{MsgType: event.MsgText, Body: "wrong customer, sorry"})
	copyOfOops := jsWait("Dave's message", jsclient.MessageFilter{Sender: acme.String(), Contains: "wrong customer"})
	waitEvent(t, tm.sam, conv.SideRoom, "the mirror for Sam", bodyIs(acme, "Dave: wrong customer"))
	if _, err = tm.dave.RedactEvent(ctx, conv.DeskRoom, oops); err != nil {
		t.Fatal(err)
	}
	jsWait("the redaction", jsclient.MessageFilter{Sender: acme.String(), Type: "m.room.redaction", AfterEventID: copyOfOops.EventID})

	// Sam hands the conversation to Carol: she is in, Dave is out, the customer sees her name.
	sayIn(t, tm.sam, conv.SideRoom, acme, "!transfer Carol", bot.HandedOver("Sam", "Carol"))
	joinWhenInvited(t, tm.carol, conv.DeskRoom)
	joinWhenInvited(t, tm.carol, conv.SideRoom)
	eventually(t, welcomeTimeout, "the customer sees Carol's name", func() (bool, error) {
		state, err := js.RoomState(ctx, roomStr)
		if err != nil {
			return false, err
		}
		m := state.Member(acme.String())
		return m != nil && m.DisplayName == bot.AgentAtBusiness("Carol", d.Config.Tenants[0].Name), nil
	})
	if _, err = tm.dave.SendText(ctx, conv.DeskRoom, "still here?"); err == nil {
		t.Fatal("Dave was transferred away but can still write in the desk room")
	}
	sendContent(t, tm.carol, conv.DeskRoom, event.EventMessage, &event.MessageEventContent{MsgType: event.MsgText, Body: "Carol here, I know mortgages"})
	jsWait("Carol's message", jsclient.MessageFilter{Sender: acme.String(), Contains: "Carol here"})
	if reply, err := js.SendText(ctx, roomStr, "Great, thanks Carol"); err != nil || reply == "" {
		t.Fatal(err)
	}
	waitEvent(t, tm.carol, conv.DeskRoom, "the customer's answer", bodyIs(conv.Ghost, "Great, thanks Carol"))

	// Back to the queue: it is not offered to Carol again, but to Dave.
	daveOffers := countMatching(tm.dave, tm.control[tm.dave.UserID], bodyIs(acme, "Reply **accept**"))
	if _, err = tm.carol.SendText(ctx, conv.SideRoom, "!transfer queue"); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, tm.sam, conv.SideRoom, "the notice of the transfer", bodyIs(acme, bot.Requeued("Carol")))
	eventually(t, welcomeTimeout, "a second offer to Dave", func() (bool, error) {
		return countMatching(tm.dave, tm.control[tm.dave.UserID], bodyIs(acme, "Reply **accept**")) > daveOffers, nil
	})
	if got, _ := d.Service.DB.Conversation.Get(ctx, conv.ID); got.Status != database.StatusOffered || got.OfferedTo != tm.dave.UserID {
		t.Fatalf("after the transfer to the queue: %+v", got)
	}

	// The supervisor ends it; the customer gets the closing message.
	sayIn(t, tm.sam, conv.SideRoom, acme, "!end", bot.EndedBy("Sam"))
	jsWait("the closing message", jsclient.MessageFilter{Sender: acme.String(), Contains: "Thank you for contacting"})

	// Privacy: nothing of Bob's identity in any staff room; nothing of the side room
	// in what Bob's client shows.
	scanStaffRooms(t, d, bob, []*mxclientView{{tm.sam, []id.RoomID{conv.SideRoom}}, {tm.carol, []id.RoomID{conv.DeskRoom}}})
	events, err := js.Messages(ctx, roomStr)
	if err != nil {
		t.Fatal(err)
	}
	for _, evt := range events {
		for _, secret := range []string{"Dave: wrong customer", "!transfer", "!monitor", "handed the conversation", "side room"} {
			if strings.Contains(fmt.Sprint(evt.Content), secret) {
				t.Errorf("side-room text %q reached the customer: %v", secret, evt.Content)
			}
		}
	}
}
