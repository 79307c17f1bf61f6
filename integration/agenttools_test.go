package integration

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/internal/deploy"
	"github.com/contactcenter/contactcenter/reporting"
	"github.com/contactcenter/contactcenter/routing"
	"github.com/contactcenter/contactcenter/testclient/jsclient"
	"github.com/contactcenter/contactcenter/testclient/mxclient"
)

// TestStaffLeaves: Carol leaving the desk room of the conversation she serves alone
// puts it back in the queue (the side room told), and it goes to Dave, never to her
// again; Sam leaving the side room stops his monitoring.
func TestStaffLeaves(t *testing.T) {
	tm := newTeam(t, "sqlite")
	d, acme, ctx := tm.d, businessUser(tm.d), context.Background()
	_, _, conv := tm.assignedConversation(t, "my card was eaten")
	joinWhenInvited(t, tm.carol, conv.SideRoom)
	tm.say(t, tm.sam, acme, "!monitor "+strconv.FormatInt(conv.ID, 10), bot.MonitorInvited(conv.ID))
	joinWhenInvited(t, tm.sam, conv.SideRoom)
	offersToCarol := func() int {
		return countMatching(tm.carol, tm.control[tm.carol.UserID], bodyIs(acme, "Reply **accept**"))
	}
	before := offersToCarol()

	if _, err := tm.carol.LeaveRoom(ctx, conv.DeskRoom); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, tm.sam, conv.SideRoom, "the side room told", bodyIs(acme, bot.AgentLeftRequeued("Carol")))
	waitOutOf(t, tm.carol, conv.SideRoom)
	tm.say(t, tm.dave, acme, "!ready", bot.StatusNow(string(routing.Ready)))
	waitEvent(t, tm.dave, tm.control[tm.dave.UserID], "the offer to Dave", bodyIs(acme, "Reply **accept**"))
	tm.say(t, tm.dave, acme, "accept", bot.OfferWon(conv.ID))
	joinWhenInvited(t, tm.dave, conv.DeskRoom)

	// Sam leaves the side room: no longer a monitor.
	if _, err := tm.sam.LeaveRoom(ctx, conv.SideRoom); err != nil {
		t.Fatal(err)
	}
	eventually(t, welcomeTimeout, "Sam no longer monitoring", func() (bool, error) {
		participants, err := d.Service.DB.Participants.Current(ctx, conv.ID)
		if err != nil {
			return false, err
		}
		for _, p := range participants {
			if p.UserID == tm.sam.UserID || (p.UserID == tm.carol.UserID && p.Role == database.RoleAgent) {
				return false, nil
			}
		}
		return true, nil
	})
	got, err := d.Service.DB.Conversation.Get(ctx, conv.ID)
	if err != nil || got.Agent != tm.dave.UserID {
		t.Fatalf("after Carol left: %+v %v", got, err)
	}
	if n := offersToCarol(); n != before {
		t.Fatalf("Carol got %d more offers after leaving", n-before)
	}
}

// withAgentTools gives ACME canned replies and wrap-up codes, and Carol a wrap-up
// time long enough that only her code can end it within the test.
func withAgentTools(cfg *config.Config) {
	tools := &cfg.Tenants[0].AgentTools
	tools.CannedReplies = []config.CannedReply{
		{Name: "greeting", Text: "Hello {first_name}, I am {agent} from {business}. How can I help?"},
		{Name: "bye", Text: "Thank you, {name}!"},
	}
	tools.WrapUpCodes = []string{"Resolved", "Billing question", "Not for us"}
	for i := range cfg.Tenants[0].Staff {
		if strings.HasPrefix(cfg.Tenants[0].Staff[i].UserID, "@carol:") {
			cfg.Tenants[0].Staff[i].WrapUp = routing.Duration(10 * time.Minute)
		}
	}
}

// TestCannedReplies: !canned lists the replies; !c sends one to the customer as the
// agent's message. Its {first_name} is empty for a customer linked to an account who
// did not share identity — their name appears nowhere — and filled for one who did,
// in their copy only. Answered consent prompts and offers are edited to show the
// answer.
func TestCannedReplies(t *testing.T) {
	keys := map[string]string{}
	tm := newTeam(t, "sqlite", withAgentTools, withAPIKeys(keys))
	d, acme, ctx := tm.d, businessUser(tm.d), context.Background()
	tm.say(t, tm.carol, acme, "!ready", bot.StatusNow(string(routing.Ready)))

	serve := func(customer *mxclient.Client, name, answer string) (id.RoomID, *database.Conversation) {
		t.Helper()
		mustAPI(t, d, keys["acme"], http.MethodPut, "customers/"+name, map[string]any{"name": name + " Liddell",
			"matrix_ids": []string{customer.UserID.String()}})
		earlier := map[id.EventID]bool{}
		for _, evt := range tm.carol.Events(tm.control[tm.carol.UserID]) {
			earlier[evt.ID] = true
		}
		room, err := customer.CreateDM(ctx, acme, false)
		if err != nil {
			t.Fatal(err)
		}
		prompt := waitEvent(t, customer, room, "the consent prompt", bodyIs(acme, "**contact** —"))
		if _, err = customer.SendText(ctx, room, answer); err != nil {
			t.Fatal(err)
		}
		waitEvent(t, customer, room, "the receipt", bodyIs(acme, "identity:"))
		// The answered prompt is edited to say what is shared.
		waitEvent(t, customer, room, "the prompt edited", func(evt *event.Event) bool {
			rel, _ := evt.Content.Raw["m.relates_to"].(map[string]any)
			return evt.Sender == acme && rel["rel_type"] == "m.replace" && rel["event_id"] == prompt.ID.String()
		})
		offer := waitEvent(t, tm.carol, tm.control[tm.carol.UserID], "the offer", func(evt *event.Event) bool {
			return bodyIs(acme, "Reply **accept**")(evt) && !earlier[evt.ID]
		})
		conv := openConversation(t, d, room)
		tm.say(t, tm.carol, acme, "accept", bot.OfferWon(conv.ID))
		waitEvent(t, tm.carol, tm.control[tm.carol.UserID], "the offer edited", func(evt *event.Event) bool {
			rel, _ := evt.Content.Raw["m.relates_to"].(map[string]any)
			return evt.Sender == acme && rel["rel_type"] == "m.replace" && rel["event_id"] == offer.ID.String()
		})
		joinWhenInvited(t, tm.carol, conv.DeskRoom)
		joinWhenInvited(t, tm.carol, conv.SideRoom)
		return room, conv
	}

	// Alice refuses everything: her name stays out of the reply.
	alice := newCustomer(t, d, false)
	room, conv := serve(alice, "Alice", "none")
	sayIn(t, tm.carol, conv.SideRoom, acme, "!canned", "**greeting**: Hello {first_name}")
	if _, err := tm.carol.SendText(ctx, conv.DeskRoom, "!c greeting"); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, alice, room, "the canned reply", bodyIs(acme, "Hello, I am Carol from ACME. How can I help?"))
	waitEvent(t, tm.carol, conv.SideRoom, "the mirror", bodyIs(acme, "Carol: Hello, I am Carol from ACME."))
	if _, err := tm.carol.SendText(ctx, conv.DeskRoom, "!c nothing"); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, tm.carol, conv.SideRoom, "the answer in the side room", bodyIs(acme, "There is no canned reply **nothing**"))
	sayIn(t, tm.carol, conv.SideRoom, acme, "!c greeting", bot.CommandNotHere(bot.CmdCannedSend))
	for _, c := range []struct {
		who  *mxclient.Client
		room id.RoomID
	}{{alice, room}, {tm.carol, conv.DeskRoom}, {tm.carol, conv.SideRoom}} {
		for _, evt := range c.who.Events(c.room) {
			if msg := evt.Content.AsMessage(); msg != nil && strings.Contains(msg.Body, "Alice") {
				t.Errorf("%s shows her name without consent: %q", c.room, msg.Body)
			}
		}
	}
	if first, err := d.Service.DB.ContactLog.Summary(ctx, "acme", todayQuery(), reportSettings(t, d)); err != nil || first.Total.FirstResponse == nil {
		t.Fatalf("the canned reply is not the first response: %+v %v", first.Total, err)
	}

	// Bob shares identity (1): his first name goes into the reply, and only into
	// his copy.
	bob := newCustomer(t, d, false)
	bobRoom, bobConv := serve(bob, "Bob", "1")
	if _, err := tm.carol.SendText(ctx, bobConv.DeskRoom, "!c greeting"); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, bob, bobRoom, "the named reply", bodyIs(acme, "Hello Bob, I am Carol from ACME."))
	waitEvent(t, tm.carol, bobConv.SideRoom, "the mirror without his name", bodyIs(acme, "Carol: Hello, I am Carol from ACME."))
	for _, evt := range tm.carol.Events(bobConv.SideRoom) {
		if msg := evt.Content.AsMessage(); msg != nil && strings.Contains(msg.Body, "Hello Bob") {
			t.Errorf("the side room shows his name: %q", msg.Body)
		}
	}
	scanStaffRooms(t, d, alice.UserID, []*mxclientView{{tm.carol, []id.RoomID{conv.DeskRoom, conv.SideRoom}}})
	scanStaffRooms(t, d, bob.UserID, []*mxclientView{{tm.carol, []id.RoomID{bobConv.DeskRoom, bobConv.SideRoom}}})
}

func todayQuery() reporting.Query {
	now := time.Now()
	return reporting.Query{From: now.Add(-24 * time.Hour), To: now.Add(time.Hour), Now: now, GroupBy: reporting.ByDay}
}

func reportSettings(t *testing.T, d *deploy.Deployment) reporting.Settings {
	t.Helper()
	s, err := d.Config.Tenants[0].ReportSettings()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestWrapUpAndSurvey: at !end Carol is asked for a wrap-up code and the customer
// for a rating. A js-sdk customer rates by poll and Carol answers by poll: wrap-up
// ends at once (her 10-minute wrap-up no longer holds her back: the next
// conversation is offered to her), the rating shows in the side room and the
// question is edited. A mautrix customer rates by text and Carol answers by text
// with a note. A rating given twice counts once and no second survey comes; a
// customer who left gets none. Reports count the codes and the ratings.
func TestWrapUpAndSurvey(t *testing.T) {
	tm := newTeam(t, "sqlite", withAgentTools)
	d, acme, ctx := tm.d, businessUser(tm.d), context.Background()
	control := tm.control[tm.carol.UserID]
	tm.say(t, tm.carol, acme, "!ready", bot.StatusNow(string(routing.Ready)))

	// 1: the js-sdk customer, answered by polls.
	js := newJSCustomer(t, d, acme)
	roomStr := js.room.String()
	jsWait := func(what string, f jsclient.MessageFilter) *jsclient.Event {
		t.Helper()
		f.Sender = acme.String()
		evt, err := js.js.WaitForMessage(ctx, roomStr, f, welcomeTimeout)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return evt
	}
	jsWait("the welcome", jsclient.MessageFilter{Contains: "ACME Support"})
	if _, err := js.js.SendText(ctx, roomStr, "hello there"); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, tm.carol, control, "the offer", bodyIs(acme, "Reply **accept**"))
	conv := openConversation(t, d, js.room)
	tm.say(t, tm.carol, acme, "accept", bot.OfferWon(conv.ID))
	joinWhenInvited(t, tm.carol, conv.DeskRoom)
	joinWhenInvited(t, tm.carol, conv.SideRoom)
	sayIn(t, tm.carol, conv.SideRoom, acme, "!end", bot.EndedBy("Carol"))

	poll := jsWait("the survey poll", jsclient.MessageFilter{Type: "org.matrix.msc3381.poll.start", Contains: bot.DefaultSurveyQuestion})
	jsWait("the survey text", jsclient.MessageFilter{Contains: "from **1** (poor) to **5**"})
	if _, err := js.js.SendEvent(ctx, roomStr, "org.matrix.msc3381.poll.response", map[string]any{
		"m.relates_to":                     map[string]any{"rel_type": "m.reference", "event_id": poll.EventID},
		"org.matrix.msc3381.poll.response": map[string]any{"answers": []string{"rating4"}},
	}); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, tm.carol, conv.SideRoom, "the rating in the side room", bodyIs(acme, bot.SurveySide(4)))
	jsWait("the survey edited", jsclient.MessageFilter{Contains: "You rated it **4** of 5"})

	wrapPoll := waitEvent(t, tm.carol, control, "the wrap-up poll", func(evt *event.Event) bool {
		body, _ := evt.Content.Raw["body"].(string)
		return evt.Sender == acme && evt.Type == event.EventUnstablePollStart && strings.HasPrefix(body, "Wrap-up code for conversation")
	})
	wrapText := waitEvent(t, tm.carol, control, "the wrap-up question", bodyIs(acme, "How did it end?"))
	sendContent(t, tm.carol, control, event.EventUnstablePollResponse, map[string]any{
		"m.relates_to":                     map[string]any{"rel_type": "m.reference", "event_id": wrapPoll.ID},
		"org.matrix.msc3381.poll.response": map[string]any{"answers": []string{"code1"}},
	})
	waitEvent(t, tm.carol, control, "the code recorded", bodyIs(acme, bot.WrapUpRecorded(conv.ID, "Resolved", false)))
	waitEvent(t, tm.carol, control, "the question edited", func(evt *event.Event) bool {
		rel, _ := evt.Content.Raw["m.relates_to"].(map[string]any)
		return evt.Sender == acme && rel["rel_type"] == "m.replace" && rel["event_id"] == wrapText.ID.String()
	})
	waitEvent(t, tm.carol, conv.SideRoom, "the code in the side room", bodyIs(acme, bot.WrapUpSide("Carol", "Resolved")))

	// 2: a mautrix customer, answered by text; offered to Carol although her own
	// wrap-up time has not run out.
	customer := newCustomer(t, d, false)
	room, err := customer.CreateDM(ctx, acme, false)
	if err != nil {
		t.Fatal(err)
	}
	waitEvent(t, customer, room, "the welcome", isWelcome(d))
	conv2 := openConversation(t, d, room)
	waitEvent(t, tm.carol, control, "the second offer", bodyIs(acme, "**"+strconv.FormatInt(conv2.ID, 10)+"**"))
	tm.say(t, tm.carol, acme, "accept", bot.OfferWon(conv2.ID))
	joinWhenInvited(t, tm.carol, conv2.SideRoom)
	sayIn(t, tm.carol, conv2.SideRoom, acme, "!end", bot.EndedBy("Carol"))
	waitEvent(t, customer, room, "the survey", bodyIs(acme, "from **1** (poor) to **5**"))
	sayIn(t, customer, room, acme, "5", "You rated it **5** of 5")
	waitEvent(t, tm.carol, conv2.SideRoom, "the rating", bodyIs(acme, bot.SurveySide(5)))
	waitEvent(t, tm.carol, control, "the second wrap-up question", bodyIs(acme, "Conversation **"+strconv.FormatInt(conv2.ID, 10)+"** with"))
	sayIn(t, tm.carol, control, acme, "2 asked about fees", bot.WrapUpRecorded(conv2.ID, "Billing question", true))
	sayIn(t, tm.carol, control, acme, "!note will call back on Monday", bot.NoteAdded(conv2.ID))
	w, err := d.Service.DB.WrapUps().Get(ctx, conv2.ID)
	if err != nil || w.Code != "Billing question" || w.Note != "asked about fees\nwill call back on Monday" || w.SettledBy != database.WrapUpByText {
		t.Fatalf("the second wrap-up: %+v %v", w, err)
	}

	// Rating again is talking again: a new conversation, no second survey. When the
	// customer leaves it, no survey is sent at all.
	surveys := func() int {
		return countMatching(customer, room, func(evt *event.Event) bool {
			body, _ := evt.Content.Raw["body"].(string)
			return evt.Sender == acme && evt.Type == event.EventUnstablePollStart && strings.Contains(body, bot.DefaultSurveyQuestion)
		})
	}
	if _, err = customer.SendText(ctx, room, "5"); err != nil {
		t.Fatal(err)
	}
	var conv3 *database.Conversation
	eventually(t, welcomeTimeout, "a third conversation", func() (ok bool, err error) {
		conv3, err = d.Service.DB.Conversation.Open(ctx, room)
		return conv3 != nil && conv3.ID != conv2.ID, err
	})
	waitEvent(t, tm.carol, control, "the third offer", bodyIs(acme, "**"+strconv.FormatInt(conv3.ID, 10)+"**"))
	tm.say(t, tm.carol, acme, "accept", bot.OfferWon(conv3.ID))
	if s, err := d.Service.DB.Surveys().Get(ctx, conv2.ID); err != nil || s.Rating != 5 || s.Method != "text" {
		t.Fatalf("the second survey: %+v %v", s, err)
	}
	if _, err = customer.LeaveRoom(ctx, room); err != nil {
		t.Fatal(err)
	}
	eventually(t, welcomeTimeout, "the third conversation closed", func() (bool, error) {
		c, err := d.Service.DB.Conversation.Get(ctx, conv3.ID)
		return err == nil && c.Status == database.StatusClosed, err
	})
	if s, err := d.Service.DB.Surveys().Get(ctx, conv3.ID); err != nil || s != nil {
		t.Fatalf("a survey for a customer who left: %+v %v", s, err)
	}
	if n := surveys(); n != 1 {
		t.Fatalf("%d survey polls in the second customer's room, want 1", n)
	}

	counts := logCounts(ctx, t, d.Service.DB, "acme")
	if counts[reporting.WrapUpCode] != 2 || counts[reporting.SurveyAnswered] != 2 {
		t.Fatalf("contact log: %v", counts)
	}
	summary, err := d.Service.DB.ContactLog.Summary(ctx, "acme", todayQuery(), reportSettings(t, d))
	if err != nil {
		t.Fatal(err)
	}
	total := summary.Total
	if total.Dispositions["Resolved"] != 1 || total.Dispositions["Billing question"] != 1 || total.Surveys.Answered != 2 ||
		total.Surveys.Mean == nil || *total.Surveys.Mean != 4.5 {
		t.Fatalf("summary: dispositions %v surveys %+v", total.Dispositions, total.Surveys)
	}
}

// isConsentPoll matches the service's polls but the satisfaction survey's.
func isConsentPoll(evt *event.Event) bool {
	body, _ := evt.Content.Raw["body"].(string)
	return evt.Type == event.EventUnstablePollStart && !strings.Contains(body, bot.DefaultSurveyQuestion)
}
