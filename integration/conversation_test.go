package integration

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/routing"
)

// TestConversation walks one conversation through everything the rooms do, with an
// encrypted customer room on the other homeserver: offer and accept, every relay kind
// both ways with replies, edits, reactions and redactions landing on the right
// events, the side room's mirror and whispers, adding and removing an agent, the end,
// and a new conversation afterwards. Then the privacy scans.
func TestConversation(t *testing.T) {
	tm := newTeam(t, "sqlite", func(cfg *config.Config) { cfg.Metrics.Listen = "127.0.0.1:0" })
	d := tm.d
	ctx := context.Background()
	acme := businessUser(d)

	tm.say(t, tm.carol, acme, "!ready", bot.StatusNow(string(routing.Ready)))

	customer := newCustomer(t, d, true)
	room, err := customer.CreateDM(ctx, acme, true)
	if err != nil {
		t.Fatal(err)
	}
	waitEvent(t, customer, room, "the welcome", isWelcome(d))
	question, err := customer.SendText(ctx, room, "Hello, my card is blocked. I am "+customer.UserID.String())
	if err != nil {
		t.Fatal(err)
	}

	// Carol is offered the conversation and accepts it.
	waitEvent(t, tm.carol, tm.control[tm.carol.UserID], "the offer", bodyIs(acme, "Reply **accept**"))
	offered := openConversation(t, d, room)
	tm.say(t, tm.carol, acme, "accept", bot.OfferWon(offered.ID))
	conv := openConversation(t, d, room)
	if conv.Status != database.StatusAssigned || conv.Agent != tm.carol.UserID {
		t.Fatalf("conversation after accept: %+v", conv)
	}
	joinWhenInvited(t, tm.carol, conv.DeskRoom)
	joinWhenInvited(t, tm.carol, conv.SideRoom)
	joinWhenInvited(t, tm.sam, conv.SideRoom)

	// What the customer wrote before Carol came is in the desk room, from the ghost,
	// without the customer's Matrix ID.
	deskQuestion := waitEvent(t, tm.carol, conv.DeskRoom, "the question in the desk room", bodyIs(conv.Ghost, "my card is blocked"))
	if strings.Contains(deskQuestion.Content.AsMessage().Body, customer.UserID.String()) {
		t.Fatal("the customer's Matrix ID reached the desk room")
	}

	// The business identity now carries Carol's name in the customer room.
	eventually(t, welcomeTimeout, "the business identity renamed", func() (bool, error) {
		var member event.MemberEventContent
		err := customer.StateEvent(ctx, room, event.StateMember, acme.String(), &member)
		return err == nil && member.Displayname == bot.AgentAtBusiness("Carol", d.Config.Tenants[0].Name), nil
	})

	// Carol answers with formatting; the customer gets it from the business identity.
	answer := sendContent(t, tm.carol, conv.DeskRoom, event.EventMessage, &event.MessageEventContent{
		MsgType: event.MsgText, Body: "Hi, I am **Carol**", Format: event.FormatHTML, FormattedBody: "Hi, I am <b>Carol</b>"})
	customerAnswer := waitEvent(t, customer, room, "Carol's answer", bodyIs(acme, "Hi, I am"))
	if msg := customerAnswer.Content.AsMessage(); msg.FormattedBody != "Hi, I am <b>Carol</b>" || strings.Contains(msg.Body, "Carol:") {
		t.Fatalf("a single agent's message arrives as written: %+v", msg)
	}

	// The customer replies to it: the desk copy replies to Carol's original.
	reply := &event.MessageEventContent{MsgType: event.MsgText, Body: "Thanks! Here is my location"}
	reply.RelatesTo = (&event.RelatesTo{}).SetReplyTo(customerAnswer.ID)
	sendContent(t, customer, room, event.EventMessage, reply)
	deskReply := waitEvent(t, tm.carol, conv.DeskRoom, "the reply", bodyIs(conv.Ghost, "Here is my location"))
	if got := deskReply.Content.AsMessage().RelatesTo.GetReplyTo(); got != answer {
		t.Fatalf("the reply points at %s, want Carol's %s", got, answer)
	}

	// A location before consent is neither kept nor relayed; the customer is told.
	// After "all" (a text answer to the consent prompt, never relayed) it is both.
	waitEvent(t, customer, room, "the consent prompt", bodyIs(acme, "Reply with the numbers you allow"))
	sendContent(t, customer, room, event.EventMessage, &event.MessageEventContent{MsgType: event.MsgLocation, Body: "Porto", GeoURI: "geo:41.15,-8.61"})
	waitEvent(t, customer, room, "location refused", bodyIs(acme, "not allowed us to use your location"))
	sayIn(t, customer, room, acme, "all", "location: shared")
	receipt := waitEvent(t, customer, room, "the consent receipt", bodyIs(acme, "location: shared"))
	if records, _ := receipt.Content.Raw["fi.contactcenter.consent_receipt"].(map[string]any)["records"].([]any); len(records) != 3 {
		t.Fatalf("receipt records: %v", receipt.Content.Raw["fi.contactcenter.consent_receipt"])
	}
	sendContent(t, customer, room, event.EventMessage, &event.MessageEventContent{MsgType: event.MsgLocation, Body: "Lisbon", GeoURI: "geo:38.72,-9.14"})
	loc := waitEvent(t, tm.carol, conv.DeskRoom, "the location", bodyIs(conv.Ghost, "Lisbon"))
	if msg := loc.Content.AsMessage(); msg.MsgType != event.MsgLocation || msg.GeoURI != "geo:38.72,-9.14" {
		t.Fatalf("location relayed as %+v", msg)
	}
	// The context card in the side room, edited in place, now places the customer.
	waitEvent(t, tm.sam, conv.SideRoom, "the card with the region", func(evt *event.Event) bool {
		msg := evt.Content.AsMessage()
		return evt.Sender == acme && msg != nil && msg.NewContent != nil && strings.Contains(msg.NewContent.Body, "lisbon · local time")
	})
	sendContent(t, tm.carol, conv.DeskRoom, event.EventMessage, &event.MessageEventContent{MsgType: event.MsgEmote, Body: "checks your card"})
	if emote := waitEvent(t, customer, room, "the emote", bodyIs(acme, "checks your card")); emote.Content.AsMessage().MsgType != event.MsgEmote {
		t.Fatal("emote lost its type")
	}

	// A file from the customer is copied to the business homeserver, its name naming
	// the customer and its type claiming HTML: staff see neither (the privacy scan
	// below reads the copy's headers too).
	fileName := "statement of " + customer.UserID.String() + ".txt"
	upload, err := customer.UploadBytesWithName(ctx, []byte("statement contents"), "text/html", fileName)
	if err != nil {
		t.Fatal(err)
	}
	sendContent(t, customer, room, event.EventMessage, &event.MessageEventContent{MsgType: event.MsgFile, Body: fileName,
		URL: upload.ContentURI.CUString(), Info: &event.FileInfo{MimeType: "text/html"}})
	file := waitEvent(t, tm.carol, conv.DeskRoom, "the file", bodyIs(conv.Ghost, "statement of [hidden]"))
	fileURI, _ := file.Content.AsMessage().URL.Parse()
	if fileURI.Homeserver != d.Bed.Business.ServerName {
		t.Fatalf("the file's copy is on %s, want the business homeserver", fileURI.Homeserver)
	}
	copied, err := tm.carol.Download(ctx, fileURI)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(copied.Body)
	_ = copied.Body.Close()
	if err != nil || string(data) != "statement contents" {
		t.Fatalf("the copy reads %q, %v", data, err)
	}
	if got := copied.Header.Get("Content-Type"); !strings.HasPrefix(got, "text/plain") {
		t.Errorf("the copy is served as %q, want plain text", got)
	}
	// A file that cannot be fetched: the customer is told at once, staff see it did
	// not come.
	sendContent(t, customer, room, event.EventMessage, &event.MessageEventContent{MsgType: event.MsgFile, Body: "lost.pdf",
		URL: id.ContentURIString("mxc://" + d.Bed.Customer.ServerName + "/nosuchmedia")})
	waitEvent(t, customer, room, "the lost file told", bodyIs(acme, "could not be fetched"))
	waitEvent(t, tm.carol, conv.DeskRoom, "the lost file in the desk room", bodyIs(conv.Ghost, "lost.pdf: this file was not passed on"))

	// Carol edits her answer: the customer's copy is edited.
	edit := &event.MessageEventContent{MsgType: event.MsgText, Body: "* Hi, I am Carol from cards",
		NewContent: &event.MessageEventContent{MsgType: event.MsgText, Body: "Hi, I am Carol from cards"}}
	edit.RelatesTo = (&event.RelatesTo{}).SetReplace(answer)
	sendContent(t, tm.carol, conv.DeskRoom, event.EventMessage, edit)
	customerEdit := waitEvent(t, customer, room, "the edit", bodyIs(acme, "Carol from cards"))
	if rel := customerEdit.Content.AsMessage().RelatesTo; rel.GetReplaceID() != customerAnswer.ID {
		t.Fatalf("the edit replaces %v, want %s", rel, customerAnswer.ID)
	}

	// The customer reacts to Carol's answer: the ghost reacts to Carol's original.
	react := &event.ReactionEventContent{RelatesTo: event.RelatesTo{Type: event.RelAnnotation, EventID: customerAnswer.ID, Key: "👍"}}
	sendContent(t, customer, room, event.EventReaction, react)
	deskReaction := waitEvent(t, tm.carol, conv.DeskRoom, "the reaction", func(evt *event.Event) bool {
		return evt.Type == event.EventReaction && evt.Sender == conv.Ghost
	})
	if rel := deskReaction.Content.AsReaction().RelatesTo; rel.EventID != answer || rel.Key != "👍" {
		t.Fatalf("the reaction is %+v, want 👍 on %s", rel, answer)
	}

	// The customer deletes their question: its desk copy is redacted.
	if _, err = customer.RedactEvent(ctx, room, question); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, tm.carol, conv.DeskRoom, "the redaction", func(evt *event.Event) bool {
		return evt.Type == event.EventRedaction && evt.Sender == conv.Ghost && redacts(evt) == deskQuestion.ID
	})

	// The side room mirrors both directions, and staff talk there unseen.
	waitEvent(t, tm.sam, conv.SideRoom, "the customer's mirror", bodyIs(acme, "Visitor"))
	waitEvent(t, tm.sam, conv.SideRoom, "Carol's mirror", bodyIs(acme, "Carol: Hi, I am"))
	const whisper = "psst: offer the premium card"
	sendContent(t, tm.sam, conv.SideRoom, event.EventMessage, &event.MessageEventContent{MsgType: event.MsgText, Body: whisper})
	waitEvent(t, tm.carol, conv.SideRoom, "Sam's whisper", bodyIs(tm.sam.UserID, whisper))

	// Variant 1: Dave joins; with two agents, messages carry the agent's name.
	tm.say(t, tm.dave, acme, "!ready", bot.StatusNow(string(routing.Ready)))
	sayIn(t, tm.sam, conv.SideRoom, acme, "!invite Dave", bot.AgentAdded("Sam", "Dave"))
	joinWhenInvited(t, tm.dave, conv.DeskRoom)
	sendContent(t, tm.dave, conv.DeskRoom, event.EventMessage, &event.MessageEventContent{MsgType: event.MsgText, Body: "I can unblock it"})
	daveMsg := waitEvent(t, customer, room, "Dave's message", bodyIs(acme, "I can unblock it"))
	if msg := daveMsg.Content.AsMessage(); !strings.HasPrefix(msg.Body, "Dave: ") || msg.BeeperPerMessageProfile == nil || msg.BeeperPerMessageProfile.Displayname != "Dave" {
		t.Fatalf("Dave's message carries no name: %+v", msg)
	}
	sayIn(t, tm.carol, conv.SideRoom, acme, "!remove dave", bot.AgentRemoved("Carol", "Dave"))
	eventually(t, welcomeTimeout, "Dave out of the desk room", func() (bool, error) {
		members, err := tm.carol.JoinedMembers(ctx, conv.DeskRoom)
		_, in := members.Joined[tm.dave.UserID]
		return err == nil && !in, nil
	})

	// The end: closing message, read-only staff rooms, and a new conversation later.
	sayIn(t, tm.carol, conv.SideRoom, acme, "!end", bot.EndedBy("Carol"))
	waitEvent(t, customer, room, "the closing message", bodyIs(acme, "Thank you for contacting"))
	eventually(t, welcomeTimeout, "a read-only desk room", func() (bool, error) {
		var pl event.PowerLevelsEventContent
		err := tm.carol.StateEvent(ctx, conv.DeskRoom, event.StatePowerLevels, "", &pl)
		return err == nil && pl.EventsDefault == 100, nil
	})
	if _, err = tm.carol.SendText(ctx, conv.DeskRoom, "too late"); err == nil {
		t.Fatal("the desk room must be read-only after the end")
	}
	checkConversationLog(t, d.Service.DB, conv, tm.carol.UserID)
	checkConversationMetrics(t, d.Service, customer.UserID, room, conv)
	if _, err = customer.SendText(ctx, room, "One more thing"); err != nil {
		t.Fatal(err)
	}
	eventually(t, welcomeTimeout, "a second conversation", func() (bool, error) {
		return conversations(t, d, room) == 2, nil
	})
	eventually(t, welcomeTimeout, "the second welcome", func() (bool, error) {
		return countMatching(customer, room, isWelcome(d)) == 2, nil
	})

	if _, media := scanStaffRooms(t, d, customer.UserID, []*mxclientView{{tm.carol, []id.RoomID{conv.DeskRoom, conv.SideRoom}}, {tm.sam, []id.RoomID{conv.SideRoom}}},
		"Porto", "41.15"); media == 0 {
		t.Error("the privacy scan downloaded no media, though the customer sent a file")
	}
	scanCustomerRoom(t, customer, room, []string{whisper, "added **Dave**", "!remove", "!end", "Context card"})
}

// sendContent sends an event and returns its ID.
func sendContent(t *testing.T, c interface {
	SendMessageEvent(context.Context, id.RoomID, event.Type, any, ...mautrix.ReqSendEvent) (*mautrix.RespSendEvent, error)
}, roomID id.RoomID, evtType event.Type, content any) id.EventID {
	t.Helper()
	resp, err := c.SendMessageEvent(context.Background(), roomID, evtType, content)
	if err != nil {
		t.Fatal(err)
	}
	return resp.EventID
}

// redacts is the event a redaction redacts, wherever the room version puts it.
func redacts(evt *event.Event) id.EventID {
	if evt.Redacts != "" {
		return evt.Redacts
	}
	var content struct {
		Redacts id.EventID `json:"redacts"`
	}
	_ = json.Unmarshal(evt.Content.VeryRaw, &content)
	return content.Redacts
}
