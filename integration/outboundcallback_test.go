package integration

import (
	"context"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/consent"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/outbound"
	"github.com/contactcenter/contactcenter/routing"
)

// TestOutboundCallback: a customer who waited ACME's max_wait with nobody ready is
// offered a callback, and takes it. Their grant of contact is recorded for that
// purpose (they never remembered contact: always), the conversation ends, and an
// outbound request of origin callback waits for an agent; when Carol accepts it, the
// business writes back in the same DM. Asked again while Carol is with them, the
// callback is refused: they are not waiting.
func TestOutboundCallback(t *testing.T) {
	adminKeys := map[string]string{}
	maxWait := func(cfg *config.Config) {
		var wf routing.Workflow
		if err := yaml.Unmarshal([]byte("steps: [{queue: everyone}]\nmax_wait: 2s\n"), &wf); err != nil {
			t.Fatal(err)
		}
		cfg.TenantByID("acme").Workflow = &wf
	}
	tm := newTeam(t, "sqlite", withAdminKeys(adminKeys), maxWait)
	d := tm.d
	ctx := context.Background()
	acme := businessUser(d)

	customer := newCustomer(t, d, false)
	room, err := customer.CreateDM(ctx, acme, false)
	if err != nil {
		t.Fatal(err)
	}
	waitEvent(t, customer, room, "the welcome", isWelcome(d))
	first := openConversation(t, d, room)
	waitEvent(t, customer, room, "the callback offer", bodyIs(acme, "Reply **!callback**"))
	if _, err = customer.SendText(ctx, room, "!callback"); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, customer, room, "the callback confirmed", bodyIs(acme, "an agent will write to you here"))

	var reqID int64
	eventually(t, welcomeTimeout, "the callback's request", func() (bool, error) {
		err := d.Service.DB.QueryRow(ctx, `SELECT id FROM outbound_request WHERE customer_mxid = $1 AND origin = $2`,
			customer.UserID.String(), database.OriginCallback).Scan(&reqID)
		return err == nil, nil
	})
	r := outboundState(t, d, "acme", reqID, outbound.StateRouting)
	if !hasCode(r.Reasons, outbound.ReasonCallbackRequested) {
		t.Errorf("the callback was allowed for %v, not because the customer asked", r.Reasons)
	}
	ended, err := d.Service.DB.Conversation.Get(ctx, first.ID)
	if err != nil || ended.Status != database.StatusClosed {
		t.Fatalf("the waiting conversation: %+v %v", ended, err)
	}
	s := consent.Subject{Tenant: "acme", UserID: customer.UserID.String()}
	last, err := d.Service.Consent.LastRecord(ctx, s, consent.Contact)
	if err != nil || last == nil || last.Decision != consent.Given || last.Conversation != first.ID || !strings.Contains(last.Purpose, "write back") {
		t.Fatalf("the contact grant of the callback: %+v %v", last, err)
	}
	if policies, err := d.Service.Consent.Policies(ctx, s); err != nil || policies[consent.Contact] == consent.Always {
		t.Fatalf("a callback made contact a standing choice: %v %v", policies, err)
	}

	// Carol takes it: the business writes back in the same DM.
	tm.say(t, tm.carol, acme, "!ready", "You are now **ready**")
	waitEvent(t, tm.carol, tm.control[tm.carol.UserID], "the callback offered", bodyIs(acme, "asked us to write back"))
	tm.say(t, tm.carol, acme, "accept", "is yours")
	r = outboundState(t, d, "acme", reqID, outbound.StateJoined)
	if r.RoomID != room.String() {
		t.Fatalf("the callback wrote in %s, not the customer's DM %s", r.RoomID, room)
	}
	waitEvent(t, customer, room, "the business writing back", bodyIs(acme, "asked us to write back"))

	// With Carol there, nobody waits: no second callback.
	if _, err = customer.SendText(ctx, room, "!callback"); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, customer, room, "the refusal of a second callback", bodyIs(acme, "not waiting for an agent"))
	var callbacks int
	if err = d.Service.DB.QueryRow(ctx, `SELECT COUNT(*) FROM outbound_request WHERE customer_mxid = $1`, customer.UserID.String()).Scan(&callbacks); err != nil || callbacks != 1 {
		t.Fatalf("%d outbound requests for the customer (%v), want 1", callbacks, err)
	}
}
