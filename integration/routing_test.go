package integration

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/routing"
	"github.com/contactcenter/contactcenter/testclient/mxclient"
)

// routingWorkflow: the account manager for 6 s, then an agent of the customer's region
// for 6 s, then anyone; offers wait 7 s; two unanswered offers in a row set an agent
// away.
const routingWorkflow = `
steps:
  - {account_manager: true, timeout: 6s}
  - {expression: 'region == task.region', timeout: 6s}
  - {queue: everyone}
offer_timeout: 7s
rona_after: 2
`

// TestRouting: Alice reaches her account manager (Dave) while he is ready and, when
// he is away, someone else after the account-manager step's timeout; an anonymous
// customer is routed by the queue step; an offer nobody answers passes to the next
// agent, and a second one in a row sets the agent away; customers hear their place
// in the queue; every decision is explained in the side room.
func TestRouting(t *testing.T) {
	keys := map[string]string{}
	tm := newTeam(t, "sqlite", withAPIKeys(keys), func(cfg *config.Config) {
		var wf routing.Workflow
		if err := yaml.Unmarshal([]byte(routingWorkflow), &wf); err != nil {
			t.Fatal(err)
		}
		cfg.Tenants[0].Workflow, cfg.Tenants[0].ConsentWait = &wf, 15*time.Second
		cfg.Tenants[0].Staff[0].Regions = []string{"lisbon"} // Carol
	})
	d := tm.d
	ctx := context.Background()
	acme := businessUser(d)
	alice := newCustomer(t, d, false)
	mustAPI(t, d, keys["acme"], http.MethodPut, "customers/A-1", map[string]any{"name": "Alice Liddell", "tier": "gold",
		"account_manager": tm.dave.UserID.String(), "matrix_ids": []string{alice.UserID.String()}})
	tm.say(t, tm.carol, acme, "!ready", "You are now **ready**")
	tm.say(t, tm.dave, acme, "!ready", "You are now **ready**")

	// start opens a conversation for a customer and answers its consent prompt.
	start := func(c *mxclient.Client, room id.RoomID, answer string) {
		t.Helper()
		waitEvent(t, c, room, "the consent prompt", bodyIs(acme, "**contact** —"))
		sayIn(t, c, room, acme, answer, "Your privacy choices")
	}
	offerTo := func(agent *mxclient.Client, want string) *event.Event {
		t.Helper()
		return waitEvent(t, agent, tm.control[agent.UserID], "an offer to "+agent.UserID.String(), func(evt *event.Event) bool {
			return bodyIs(acme, "Reply **accept**")(evt) && strings.Contains(evt.Content.AsMessage().Body, want)
		})
	}
	// Offers and routing's notices are counted in the room's history on the server.
	offers := func(agent *mxclient.Client) int {
		return len(serverEvents(t, agent, tm.control[agent.UserID], bodyIs(acme, "Reply **accept**")))
	}
	controlSays := func(agent *mxclient.Client, what, text string) {
		t.Helper()
		eventually(t, welcomeTimeout, what, func() (bool, error) {
			return len(serverEvents(t, agent, tm.control[agent.UserID], bodyIs(acme, text))) > 0, nil
		})
	}

	// 1. Alice shares everything: her account manager Dave gets the offer, and why.
	aliceRoom, err := alice.CreateDM(ctx, acme, false)
	if err != nil {
		t.Fatal(err)
	}
	start(alice, aliceRoom, "all")
	// He accepts with the ✅ the service put under the offer.
	offer := offerTo(tm.dave, "Routed to Dave: account manager, ready")
	sendContent(t, tm.dave, tm.control[tm.dave.UserID], event.EventReaction, &event.ReactionEventContent{RelatesTo: event.RelatesTo{
		Type: event.RelAnnotation, EventID: offer.ID, Key: "✅"}})
	waitEvent(t, tm.dave, tm.control[tm.dave.UserID], "the reaction's answer", bodyIs(acme, "is yours"))
	first := openConversation(t, d, aliceRoom)
	joinWhenInvited(t, tm.dave, first.SideRoom)
	waitEvent(t, tm.dave, first.SideRoom, "the explanation", bodyIs(acme, "Routed to Dave: account manager, ready, idle"))
	if n := offers(tm.carol); n != 0 {
		t.Fatalf("Carol got %d offers for Alice", n)
	}

	// 2. Bob, anonymous, shares nothing: the queue step; Carol (idle longest) lets
	// the offer lapse, so it goes to Dave. Bob heard his place in the queue.
	bob := newCustomer(t, d, false)
	bobRoom, err := bob.CreateDM(ctx, acme, false)
	if err != nil {
		t.Fatal(err)
	}
	start(bob, bobRoom, "none")
	offerTo(tm.carol, "queue everyone")
	controlSays(tm.carol, "the lapsed offer", "went to someone else: no answer within 7s")
	// He accepts this one by voting in the offer's poll.
	var poll *event.Event
	eventually(t, welcomeTimeout, "Bob's offer and its poll, to Dave", func() (bool, error) {
		polls := serverEvents(t, tm.dave, tm.control[tm.dave.UserID], func(evt *event.Event) bool { return evt.Type == event.EventUnstablePollStart })
		if len(polls) == 2 {
			poll = polls[1]
		}
		return poll != nil, nil
	})
	t.Logf("voting in poll %s at %s", poll.ID, time.Now().UTC().Format("15:04:05.000"))
	sendContent(t, tm.dave, tm.control[tm.dave.UserID], event.EventUnstablePollResponse, map[string]any{
		"m.relates_to":                     map[string]any{"rel_type": "m.reference", "event_id": poll.ID},
		"org.matrix.msc3381.poll.response": map[string]any{"answers": []string{"accept"}},
	})
	eventually(t, welcomeTimeout, "the vote's answer", func() (bool, error) {
		return len(serverEvents(t, tm.dave, tm.control[tm.dave.UserID], bodyIs(acme, "is yours"))) == 2, nil
	})

	// 3. Another anonymous customer: Carol lets a second offer lapse and is set away;
	// Dave, under his capacity of 3, takes it.
	third := newCustomer(t, d, false)
	thirdRoom, err := third.CreateDM(ctx, acme, false)
	if err != nil {
		t.Fatal(err)
	}
	start(third, thirdRoom, "none")
	eventually(t, welcomeTimeout, "the second offer to Carol", func() (bool, error) { return offers(tm.carol) == 2, nil })
	controlSays(tm.carol, "RONA", "you are now **away**")
	eventually(t, welcomeTimeout, "the third offer to Dave", func() (bool, error) { return offers(tm.dave) == 3, nil })
	tm.say(t, tm.dave, acme, "accept", "is yours")

	// 4. Alice's next conversation while Dave is away: the account-manager step waits
	// its 6 s, then the queue step finds Carol.
	sayIn(t, tm.dave, first.SideRoom, acme, "!end", "ended")
	tm.say(t, tm.dave, acme, "!away", "You are now **away**")
	tm.say(t, tm.carol, acme, "!ready", "You are now **ready**")
	carolOffers := offers(tm.carol)
	before := time.Now()
	sayIn(t, alice, aliceRoom, acme, "Hello again", "asks to see")
	start(alice, aliceRoom, "all")
	// While the account manager's step is waited out, she waits, and hears her place.
	eventually(t, welcomeTimeout, "her place in the queue", func() (bool, error) {
		return len(serverEvents(t, alice, aliceRoom, bodyIs(acme, "You are number **1** in the queue"))) > 0, nil
	})
	eventually(t, welcomeTimeout, "Alice's offer to Carol", func() (bool, error) { return offers(tm.carol) == carolOffers+1, nil })
	if last := serverEvents(t, tm.carol, tm.control[tm.carol.UserID], bodyIs(acme, "Reply **accept**")); !strings.Contains(last[len(last)-1].Content.AsMessage().Body, "step 3 of 3") {
		t.Fatalf("Alice's offer to Carol: %s", last[len(last)-1].Content.AsMessage().Body)
	}
	if waited := time.Since(before); waited < 5*time.Second {
		t.Fatalf("the account manager's step was not waited out (%s)", waited)
	}
	if n := offers(tm.dave); n != 3 {
		t.Fatalf("Dave, away, got offer %d", n)
	}
	tm.say(t, tm.carol, acme, "accept", "is yours")

	// 5. Erin, anonymous, shares only her location (a 1️⃣ reaction keeps the prompt
	// open, so routing waits for it): the region step finds Carol, the one agent of
	// Lisbon, and says so.
	erin := newCustomer(t, d, false)
	erinRoom, err := erin.CreateDM(ctx, acme, false)
	if err != nil {
		t.Fatal(err)
	}
	prompt := waitEvent(t, erin, erinRoom, "Erin's prompt", bodyIs(acme, "**contact** —"))
	sendContent(t, erin, erinRoom, event.EventReaction, &event.ReactionEventContent{RelatesTo: event.RelatesTo{
		Type: event.RelAnnotation, EventID: prompt.ID, Key: "1\ufe0f\u20e3"}})
	waitEvent(t, erin, erinRoom, "location granted", bodyIs(acme, "location: shared"))
	sendContent(t, erin, erinRoom, event.EventMessage, &event.MessageEventContent{MsgType: event.MsgLocation, Body: "Baixa", GeoURI: "geo:38.71,-9.14"})
	erinConv := openConversation(t, d, erinRoom)
	checkTask(t, d, erinConv.ID, "Erin's region", func(task routing.Task) bool { return task.Region == "lisbon" })
	carolOffers = offers(tm.carol)
	sayIn(t, erin, erinRoom, acme, "1", "browsing: not shared")
	eventually(t, welcomeTimeout, "Erin's offer to Carol", func() (bool, error) { return offers(tm.carol) == carolOffers+1, nil })
	if last := serverEvents(t, tm.carol, tm.control[tm.carol.UserID], bodyIs(acme, "Reply **accept**")); !strings.Contains(last[len(last)-1].Content.AsMessage().Body, "step 2 of 3") {
		t.Fatalf("Erin's offer to Carol: %s", last[len(last)-1].Content.AsMessage().Body)
	}
}

// serverEvents are the events of a room that match, oldest first, as the homeserver
// serves them (/messages), not as the client's sync has delivered them so far.
func serverEvents(t *testing.T, c *mxclient.Client, roomID id.RoomID, match func(*event.Event) bool) []*event.Event {
	t.Helper()
	resp, err := c.Messages(context.Background(), roomID, "", "", mautrix.DirectionBackward, nil, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []*event.Event
	for i := len(resp.Chunk) - 1; i >= 0; i-- {
		evt := resp.Chunk[i]
		_ = evt.Content.ParseRaw(evt.Type)
		if match(evt) {
			out = append(out, evt)
		}
	}
	return out
}
