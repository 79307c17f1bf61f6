package integration

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/consent"
	"github.com/contactcenter/contactcenter/internal/deploy"
	"github.com/contactcenter/contactcenter/routing"
	"github.com/contactcenter/contactcenter/testclient/mxclient"
)

// TestConsentIdentified: Alice, whom the tenant's CRM linked to her account through
// the context API, in an encrypted room with mautrix's client. Nothing of her context
// shows before she answers; a poll vote, a reaction and a text answer each decide;
// withdrawing identity takes her name off the card and the desk room at once; a
// remembered choice skips the prompt in her next conversation; every receipt matches
// the records, and the access log never shows a read without a grant.
func TestConsentIdentified(t *testing.T) {
	keys := map[string]string{}
	tm := newTeam(t, "sqlite", withAPIKeys(keys))
	d := tm.d
	ctx := context.Background()
	acme := businessUser(d)
	alice := newCustomer(t, d, true)

	// The API refuses what it should and stores what it is given, per tenant.
	if status, _ := callAPI(t, d, "cc_wrong", http.MethodPut, "customers/A-1", map[string]any{"name": "Mallory"}); status != http.StatusUnauthorized {
		t.Fatalf("wrong key: %d", status)
	}
	if status, answer := callAPI(t, d, keys["acme"], http.MethodPut, "customers/A-1", map[string]any{"name": "x", "nickname": "y"}); status != http.StatusBadRequest {
		t.Fatalf("unknown field: %d %v", status, answer)
	}
	if status, _ := callAPI(t, d, keys["acme"], http.MethodPost, "pageviews", `{"views": [`); status != http.StatusBadRequest {
		t.Fatalf("malformed JSON: %d", status)
	}
	if status, _ := callAPI(t, d, keys["acme"], http.MethodPost, "pageviews", map[string]any{"views": []any{
		map[string]any{"account_id": "A-1", "url": "https://acme.test/cards/stolen", "title": "Stolen card"},
		map[string]any{"account_id": "A-1", "url": "ftp://nope"},
	}}); status != http.StatusUnprocessableEntity {
		t.Fatalf("batch with a bad view: %d", status)
	}
	// Globex's key writes Globex's record only: ACME never sees "Mallory".
	mustAPI(t, d, keys["globex"], http.MethodPut, "customers/A-1", map[string]any{"name": "Mallory", "matrix_ids": []string{alice.UserID.String()}})
	mustAPI(t, d, keys["acme"], http.MethodPut, "customers/A-1", map[string]any{"name": "Alice Liddell", "tier": "gold",
		"products": []string{"mortgage"}, "account_manager": tm.carol.UserID.String(), "matrix_ids": []string{alice.UserID.String()}})
	mustAPI(t, d, keys["acme"], http.MethodPost, "pageviews", map[string]any{"views": []any{
		map[string]any{"account_id": "A-1", "url": "https://acme.test/mortgages/fixed", "title": "Fixed-rate mortgages"}}})

	tm.say(t, tm.carol, acme, "!ready", "You are now **ready**")
	room, err := alice.CreateDM(ctx, acme, true)
	if err != nil {
		t.Fatal(err)
	}
	// Identified, so identity and account are asked too: 1 identity, 2 account,
	// 3 location, 4 browsing, 5 contact.
	poll := waitEvent(t, alice, room, "the consent poll", func(evt *event.Event) bool {
		return evt.Sender == acme && evt.Type == event.EventUnstablePollStart
	})
	waitEvent(t, alice, room, "the text prompt", bodyIs(acme, "**contact** —"))
	waitEvent(t, tm.carol, tm.control[tm.carol.UserID], "the offer", bodyIs(acme, "Reply **accept**"))
	tm.say(t, tm.carol, acme, "accept", "is yours")
	conv := openConversation(t, d, room)
	joinWhenInvited(t, tm.carol, conv.DeskRoom)
	joinWhenInvited(t, tm.carol, conv.SideRoom)
	joinWhenInvited(t, tm.sam, conv.SideRoom)

	// Before any answer the card shows nothing of her.
	card := waitEvent(t, tm.sam, conv.SideRoom, "the context card", bodyIs(acme, "Context card"))
	for _, secret := range []string{"Alice Liddell", "gold", "mortgage", "Mallory"} {
		if strings.Contains(card.Content.AsMessage().Body, secret) {
			t.Fatalf("the card shows %q before consent: %s", secret, card.Content.AsMessage().Body)
		}
	}
	cardNow := func(what, want string) {
		t.Helper()
		waitEvent(t, tm.sam, conv.SideRoom, what, func(evt *event.Event) bool {
			text, ok := cardText(evt, acme)
			return ok && evt.ID != card.ID && strings.Contains(text, want)
		})
	}

	// A poll vote for identity (Element votes one answer): identity shared, the rest
	// refused, the poll ended; her name on the card and in the desk room.
	sendContent(t, alice, room, event.EventUnstablePollResponse, map[string]any{
		"m.relates_to":                     map[string]any{"rel_type": "m.reference", "event_id": poll.ID},
		"org.matrix.msc3381.poll.response": map[string]any{"answers": []string{"identity"}},
	})
	waitEvent(t, alice, room, "the receipt of the vote", bodyIs(acme, "identity: shared"))
	waitEvent(t, alice, room, "the poll's end", func(evt *event.Event) bool {
		return evt.Type == event.EventUnstablePollEnd && evt.Sender == acme
	})
	cardNow("the card with her name", "Alice Liddell (account A-1)")
	waitEvent(t, tm.sam, conv.SideRoom, "staff told", bodyIs(acme, "The customer shared **identity**"))
	eventually(t, welcomeTimeout, "the ghost named Alice in the desk room", func() (bool, error) {
		var member event.MemberEventContent
		err := tm.carol.StateEvent(ctx, conv.DeskRoom, event.StateMember, conv.Ghost.String(), &member)
		return err == nil && member.Displayname == "Alice Liddell", nil
	})

	// !privacy asks again; a reaction on the text prompt grants browsing.
	sayIn(t, alice, room, acme, "!privacy", "What ACME may see now")
	eventually(t, welcomeTimeout, "the second prompt", func() (bool, error) {
		return countMatching(alice, room, bodyIs(acme, "**contact** —")) == 2, nil
	})
	prompt := lastMatching(alice, room, bodyIs(acme, "**contact** —"))
	reaction := sendContent(t, alice, room, event.EventReaction, &event.ReactionEventContent{RelatesTo: event.RelatesTo{
		Type: event.RelAnnotation, EventID: prompt.ID, Key: "4\ufe0f\u20e3"}})
	waitEvent(t, alice, room, "the receipt of the reaction", bodyIs(acme, "browsing: shared"))
	cardNow("the card with her topics", "mortgage")

	// Taking the reaction back withdraws browsing, like any other withdrawal.
	if _, err = alice.RedactEvent(ctx, room, reaction); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, alice, room, "the receipt of the removed reaction", bodyIs(acme, "browsing: withdrawn"))
	waitEvent(t, tm.sam, conv.SideRoom, "staff told of the removed reaction", bodyIs(acme, "withdrew **browsing**"))

	// A text answer to the same prompt withdraws identity (only 4 is shared again).
	sayIn(t, alice, room, acme, "4", "identity: withdrawn")
	cardNow("the card without her name", "**Customer:** Visitor")
	waitEvent(t, tm.sam, conv.SideRoom, "staff told of the withdrawal", bodyIs(acme, "withdrew **identity**"))
	checkTask(t, d, conv.ID, "identity withdrawn, account never shared", func(task routing.Task) bool {
		return task.Anonymous && task.Tier == "" && task.AccountManager == "" && slices.Contains(task.Topics, "mortgage")
	})
	eventually(t, welcomeTimeout, "the ghost back to its pseudonym", func() (bool, error) {
		var member event.MemberEventContent
		err := tm.carol.StateEvent(ctx, conv.DeskRoom, event.StateMember, conv.Ghost.String(), &member)
		return err == nil && strings.HasPrefix(member.Displayname, "Visitor "), nil
	})
	// What showed her name is taken back too: the card's earlier versions, the desk
	// room's member and name events.
	waitWithdrawn(t, tm.carol, []id.RoomID{conv.DeskRoom, conv.SideRoom}, "Alice Liddell", "account A-1")

	// "remember": location only, from now on. The next conversation does not ask.
	sayIn(t, alice, room, acme, "!privacy", "What ACME may see now")
	eventually(t, welcomeTimeout, "the third prompt", func() (bool, error) {
		return countMatching(alice, room, bodyIs(acme, "**contact** —")) == 3, nil
	})
	sayIn(t, alice, room, acme, "3 remember", "location: shared")
	sayIn(t, tm.carol, conv.SideRoom, acme, "!end", "ended")
	waitEvent(t, alice, room, "the closing", bodyIs(acme, "Thank you for contacting ACME"))
	polls := countMatching(alice, room, isConsentPoll)
	sayIn(t, alice, room, acme, "Hello again", "location: shared")
	second := openConversation(t, d, room)
	if second.ID == conv.ID {
		t.Fatal("no new conversation")
	}
	if n := countMatching(alice, room, isConsentPoll); n != polls {
		t.Fatalf("remembered choices were asked again: %d polls, had %d", n, polls)
	}

	checkReceiptsAndAccessLog(t, d, consent.Subject{Tenant: "acme", UserID: alice.UserID.String()}, func() []map[string]any {
		var contents []map[string]any
		for _, evt := range alice.Events(room) {
			contents = append(contents, evt.Content.Raw)
		}
		return contents
	})
	scanStaffRooms(t, d, alice.UserID, []*mxclientView{{tm.carol, []id.RoomID{conv.DeskRoom, conv.SideRoom}}}, "Mallory")
}

// cardText is what a version of the context card shows (a card's body, or an edit's
// new content); false for any other event.
func cardText(evt *event.Event, business id.UserID) (string, bool) {
	msg := evt.Content.AsMessage()
	if evt.Sender != business || evt.Type != event.EventMessage || msg == nil {
		return "", false
	}
	if msg.NewContent != nil {
		msg = msg.NewContent
	}
	return msg.Body, strings.HasPrefix(msg.Body, "**Context card**")
}

// waitWithdrawn waits until no event of the rooms, as the homeserver serves them to
// staff (whole timeline and state), shows any of texts: what a withdrawal took back.
func waitWithdrawn(t *testing.T, c *mxclient.Client, rooms []id.RoomID, texts ...string) {
	t.Helper()
	deadline := time.Now().Add(welcomeTimeout)
	for {
		var shown []string
		for _, roomID := range rooms {
			for _, raw := range roomEvents(t, context.Background(), c, roomID) {
				if slices.ContainsFunc(texts, func(text string) bool { return strings.Contains(string(raw), text) }) {
					shown = append(shown, string(raw))
				}
			}
		}
		if len(shown) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d staff-room events still show what was withdrawn:\n%s", len(shown), strings.Join(shown, "\n"))
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// lastMatching is the newest event of a room that matches.
func lastMatching(c *mxclient.Client, roomID id.RoomID, match func(*event.Event) bool) *event.Event {
	var last *event.Event
	for _, evt := range c.Events(roomID) {
		if match(evt) {
			last = evt
		}
	}
	return last
}

// checkReceiptsAndAccessLog compares what the customer's client received with the
// service's records: every record has its receipt in the room, with the same fields,
// and no receipt lacks a record; every read the gate let through was of a category
// granted in that conversation when it was read.
func checkReceiptsAndAccessLog(t *testing.T, d *deploy.Deployment, s consent.Subject, contents func() []map[string]any) {
	t.Helper()
	ctx := context.Background()
	records, err := d.Service.Consent.Records(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	received := map[string]map[string]any{}
	eventually(t, welcomeTimeout, "every receipt", func() (bool, error) {
		for _, content := range contents() {
			receipt, _ := content["fi.contactcenter.consent_receipt"].(map[string]any)
			list, _ := receipt["records"].([]any)
			for _, item := range list {
				if m, ok := item.(map[string]any); ok {
					id, _ := m["receipt_id"].(string)
					received[id] = m
				}
			}
		}
		return len(received) >= len(records), nil
	})
	if len(records) < 3 || len(received) != len(records) {
		t.Fatalf("%d records, %d receipts", len(records), len(received))
	}
	for _, r := range records {
		got := received[r.ReceiptID]
		if got == nil || got["category"] != string(r.Category) || got["decision"] != string(r.Decision) || got["method"] != string(r.Method) ||
			got["controller"] != r.Controller || got["subject"] != r.Subject || got["purpose"] != r.Purpose {
			t.Errorf("record %+v, receipt %v", r, got)
		}
	}
	entries, err := d.Service.Consent.AccessLog(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	granted := 0
	for _, e := range entries {
		if !e.Granted {
			continue
		}
		granted++
		state := consent.Decision("")
		for _, r := range records {
			if r.Conversation == e.Conversation && r.Category == e.Category && !r.At.After(e.At) {
				state = r.Decision
			}
		}
		if state != consent.Given {
			t.Errorf("read of %s by %s at %s while %q", e.Category, e.Reader, e.At, state)
		}
	}
	if granted == 0 || granted == len(entries) {
		t.Fatalf("access log: %d reads let through of %d: the test saw no grant or no refusal", granted, len(entries))
	}
}
