package integration

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/consent"
	"github.com/contactcenter/contactcenter/internal/deploy"
	"github.com/contactcenter/contactcenter/routing"
	"github.com/contactcenter/contactcenter/testclient/jsclient"
)

// TestConsentAnonymous is variant 3: Bob, anonymous, on matrix-js-sdk (encrypted, on
// PostgreSQL), is asked only for what an anonymous customer can share (location,
// browsing, contact). He shares location and browsing: his location places him in a
// region, the visitor code he types brings his pages; then a link code identifies him
// mid-conversation, identity is asked, and once given his ghost takes his name. A
// customer at another tenant who never answers is told the prompt counted as refused.
func TestConsentAnonymous(t *testing.T) {
	keys := map[string]string{}
	tm := newTeam(t, "postgres", withAPIKeys(keys), func(cfg *config.Config) {
		cfg.Tenants[1].ConsentTimeout = 5 * time.Second
	})
	d := tm.d
	ctx := context.Background()
	acme := businessUser(d)
	globex := d.Config.BusinessUserID(&d.Config.Tenants[1])
	tm.say(t, tm.carol, acme, "!ready", "You are now **ready**")

	visitor := mustAPI(t, d, keys["acme"], http.MethodPost, "visitorcodes", map[string]any{})["code"].(string)
	mustAPI(t, d, keys["acme"], http.MethodPost, "pageviews", map[string]any{"views": []any{
		map[string]any{"visitor_code": visitor, "url": "https://acme.test/cards/lost", "title": "Lost card"}}})
	if status, _ := callAPI(t, d, keys["globex"], http.MethodPost, "pageviews", map[string]any{"views": []any{
		map[string]any{"visitor_code": visitor, "url": "https://globex.test/x"}}}); status != http.StatusUnprocessableEntity {
		t.Fatalf("another tenant's visitor code: %d", status)
	}
	mustAPI(t, d, keys["acme"], http.MethodPut, "customers/B-7", map[string]any{"name": "Bob Builder", "tier": "silver"})
	link := mustAPI(t, d, keys["acme"], http.MethodPost, "linkcodes", map[string]any{"account_id": "B-7"})["code"].(string)

	customer := newJSCustomer(t, d, acme)
	js, bob, room := customer.js, customer.userID, customer.room
	roomStr := room.String()
	var err error
	jsWait := func(what, contains string) *jsclient.Event {
		t.Helper()
		evt, err := js.WaitForMessage(ctx, roomStr, jsclient.MessageFilter{Sender: acme.String(), Contains: contains}, welcomeTimeout)
		if err != nil {
			events, _ := js.Messages(ctx, roomStr)
			for _, e := range events {
				t.Logf("%s %s %q", e.Sender, e.Type, e.Body())
			}
			t.Fatalf("%s: %v", what, err)
		}
		return evt
	}
	jsSay := func(body string) {
		t.Helper()
		if _, err := js.SendText(ctx, roomStr, body); err != nil {
			t.Fatal(err)
		}
	}

	// Anonymous: 1 location, 2 browsing, 3 contact; identity and account mean nothing.
	prompt := jsWait("the text prompt", "**contact** —")
	if strings.Contains(prompt.Body(), "identity") || !strings.Contains(prompt.Body(), "**location** —") || !strings.Contains(prompt.Body(), "3️⃣") {
		t.Fatalf("an anonymous customer's prompt: %s", prompt.Body())
	}
	jsSay("1 2")
	jsWait("the receipt", "contact: not shared")

	waitEvent(t, tm.carol, tm.control[tm.carol.UserID], "the offer", bodyIs(acme, "Reply **accept**"))
	tm.say(t, tm.carol, acme, "accept", "is yours")
	conv := openConversation(t, d, room)
	joinWhenInvited(t, tm.carol, conv.DeskRoom)
	joinWhenInvited(t, tm.carol, conv.SideRoom)
	firstCard := waitEvent(t, tm.carol, conv.SideRoom, "the context card", bodyIs(acme, "Context card"))
	cardNow := func(what, want string) *event.Event {
		t.Helper()
		return waitEvent(t, tm.carol, conv.SideRoom, what, func(evt *event.Event) bool {
			text, ok := cardText(evt, acme)
			return ok && evt.ID != firstCard.ID && strings.Contains(text, want)
		})
	}

	// Location, granted: relayed, stored, and mapped to the tenant's region.
	if _, err = js.SendEvent(ctx, roomStr, "m.room.message", map[string]any{"msgtype": "m.location", "body": "Here", "geo_uri": "geo:38.72,-9.14;u=30"}); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, tm.carol, conv.DeskRoom, "the location", bodyIs(conv.Ghost, "Here"))
	cardNow("the card with his region", "lisbon · local time")

	// The visitor code brings his browsing (granted already): a topic on the card.
	jsSay("my code is " + strings.ToLower(visitor))
	jsWait("the visitor code taken", "browsing on our website is linked")
	anonymousCard, _ := cardText(cardNow("the card with his topic", "Recent topics:** cards"), acme)
	sideBeforeLink := len(tm.carol.Events(conv.SideRoom))

	// A link code identifies him; identity and account are asked. He first refuses
	// both (❌): staff must not learn that he has an account. Asked again, ✅ on the
	// prompt grants both, and the desk room shows his name.
	jsSay("!identify")
	jsWait("how to identify", "get a **link code** there")
	jsSay(link)
	jsWait("the link code taken", "linked to your account")
	react := func(target, key string) {
		t.Helper()
		if _, err = js.SendEvent(ctx, roomStr, "m.reaction", map[string]any{"m.relates_to": map[string]any{
			"rel_type": "m.annotation", "event_id": target, "key": key}}); err != nil {
			t.Fatal(err)
		}
	}
	react(jsWait("the identity prompt", "**account** —").EventID, "❌")
	jsWait("the refusal receipt", "identity: not shared")
	identify, err := js.SendText(ctx, roomStr, "!identify")
	if err != nil {
		t.Fatal(err)
	}
	again, err := js.WaitForMessage(ctx, roomStr, jsclient.MessageFilter{Sender: acme.String(), Contains: "**account** —", AfterEventID: identify}, welcomeTimeout)
	if err != nil {
		t.Fatal(err)
	}
	react(again.EventID, "✅")
	jsWait("the identity receipt", "identity: shared")
	namedCard := cardNow("the card with his name", "Bob Builder (account B-7)")
	// Until he shared his identity, the side room looked as for any anonymous customer.
	withoutLocation := func(card string) string {
		lines := strings.Split(card, "\n")
		return strings.Join(slices.DeleteFunc(lines, func(line string) bool { return strings.HasPrefix(line, "- **Location:**") }), "\n")
	}
	for _, evt := range tm.carol.Events(conv.SideRoom)[sideBeforeLink:] {
		msg := evt.Content.AsMessage()
		if evt.ID == namedCard.ID || (msg != nil && strings.Contains(msg.Body, "shared **identity**")) {
			break
		}
		if evt.Sender == acme && msg != nil && strings.Contains(msg.Body, "account") && !strings.Contains(msg.Body, "Context card") {
			t.Errorf("staff were told of his account before he shared his identity: %s", msg.Body)
		}
		if text, ok := cardText(evt, acme); ok && withoutLocation(text) != withoutLocation(anonymousCard) {
			t.Errorf("the card changed before he shared his identity:\n%s\nwas:\n%s", text, anonymousCard)
		}
	}
	eventually(t, welcomeTimeout, "the ghost named Bob in the desk room", func() (bool, error) {
		var member event.MemberEventContent
		err := tm.carol.StateEvent(ctx, conv.DeskRoom, event.StateMember, conv.Ghost.String(), &member)
		return err == nil && member.Displayname == "Bob Builder", nil
	})

	// Routing's attributes hold what he shared, from the same read as the card.
	checkTask(t, d, conv.ID, "Bob's shared context", func(task routing.Task) bool {
		return task.Tier == "silver" && task.Region == "lisbon" && task.Language == "pt" && !task.Anonymous && slices.Contains(task.Topics, "cards")
	})

	// Withdrawing location takes back what showed it: the relayed location and the
	// card's versions with his region.
	privacy, err := js.SendText(ctx, roomStr, "!privacy")
	if err != nil {
		t.Fatal(err)
	}
	if _, err = js.WaitForMessage(ctx, roomStr, jsclient.MessageFilter{Sender: acme.String(), Contains: "**contact** —", AfterEventID: privacy}, welcomeTimeout); err != nil {
		t.Fatal(err)
	}
	jsSay("1 2 4")
	jsWait("the location withdrawn", "location: withdrawn")
	waitWithdrawn(t, tm.carol, []id.RoomID{conv.DeskRoom, conv.SideRoom}, "38.72", "lisbon · local time")

	checkReceiptsAndAccessLog(t, d, consent.Subject{Tenant: "acme", UserID: bob.String()}, func() []map[string]any {
		events, _ := js.Messages(ctx, roomStr)
		var contents []map[string]any
		for _, evt := range events {
			contents = append(contents, evt.Content)
		}
		return contents
	})
	// The codes were not relayed: they are secrets between the customer and the tenant.
	scanStaffRooms(t, d, bob, []*mxclientView{{tm.carol, []id.RoomID{conv.DeskRoom, conv.SideRoom}}}, visitor, link)

	// Nobody answers Globex's prompt: after its 5 s it counts as refused.
	quiet := newCustomer(t, d, false)
	quietRoom, err := quiet.CreateDM(ctx, globex, false)
	if err != nil {
		t.Fatal(err)
	}
	waitEvent(t, quiet, quietRoom, "the unanswered notice", bodyIs(globex, "You did not answer"))
	waitEvent(t, quiet, quietRoom, "the refusal receipt", bodyIs(globex, "location: not shared"))
}

// checkTask waits until the conversation's routing attributes satisfy ok.
func checkTask(t *testing.T, d *deploy.Deployment, convID int64, what string, ok func(routing.Task) bool) {
	t.Helper()
	var task routing.Task
	eventually(t, welcomeTimeout, "routing attributes: "+what, func() (bool, error) {
		c, err := d.Service.DB.Conversation.Get(context.Background(), convID)
		if err != nil || c == nil {
			return false, err
		}
		task = routing.Task{}
		return json.Unmarshal([]byte(c.Task), &task) == nil && ok(task), nil
	})
}
