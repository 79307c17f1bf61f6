package integration

import (
	"context"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bridge"
	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/consent"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/internal/deploy"
	"github.com/contactcenter/contactcenter/outbound"
	"github.com/contactcenter/contactcenter/routing"
)

// TestOutboundAdminAPI: the admin API's bad input is refused with its errcode and
// field; a staff member added through it gets a control room and offers without a
// restart, and once removed gets no more, their conversation going back to the
// queue. Globex contacts only in office hours: a request outside them is deferred,
// and goes out when the (injected) clock reaches the window; a dry run stores
// nothing but its decision.
func TestOutboundAdminAPI(t *testing.T) {
	keys := map[string]string{}
	globexWindow := func(cfg *config.Config) {
		office := "09:00-17:00"
		cfg.Tenants[1].Outbound = &outbound.Config{TimeZone: "UTC", MaxContacts: 1, Period: routing.Duration(24 * time.Hour),
			Window: map[string]string{"mon": office, "tue": office, "wed": office, "thu": office, "fri": office}}
	}
	tm := newTeam(t, "sqlite", withAdminKeys(keys), globexWindow)
	d := tm.d
	ctx := context.Background()
	acme := businessUser(d)
	base := adminBase(d)

	// Bad input: each answer names its errcode and field.
	for _, c := range []struct {
		key, method, path string
		body              any
		status            int
		code, field       string
	}{
		{keys["acme"], http.MethodPost, "outbound", map[string]any{"matrix_id": "@x:y.example", "reason": "r", "colour": "red"}, 400, "CC_UNKNOWN_FIELD", "colour"},
		{keys["acme"], http.MethodPost, "outbound", map[string]any{"matrix_id": 7, "reason": "r"}, 400, "CC_BAD_JSON", "matrix_id"},
		{keys["acme"], http.MethodPost, "outbound", map[string]any{"matrix_id": "@x:y.example", "reason": "r", "agent": "@nobody:" + d.Config.Homeserver.Domain}, 422, "CC_INVALID", "agent"},
		{keys["acme"], http.MethodPost, "outbound", map[string]any{"matrix_id": "@x:y.example"}, 422, "CC_INVALID", "reason"},
		{keys["acme"], http.MethodPost, "staff", map[string]any{"user_id": "@erin:elsewhere.example", "name": "Erin", "role": "agent"}, 422, "CC_INVALID", "user_id"},
		{keys["acme"], http.MethodPost, "staff", map[string]any{"user_id": "@erin:" + d.Config.Homeserver.Domain, "name": "Erin", "role": "agent", "capacity": "two"}, 400, "CC_BAD_JSON", "capacity"},
		{keys["acme"], http.MethodGet, "conversations?colour=red", nil, 400, "CC_UNKNOWN_FIELD", "colour"},
		{"cc_not_a_key", http.MethodGet, "staff", nil, 401, "CC_UNAUTHORIZED", "Authorization"},
		{keys["acme"], http.MethodPost, "reveal", map[string]any{"tenant": "acme", "subject": "Visitor 0000", "reason": "a tenant key may not"}, 403, "CC_FORBIDDEN", "Authorization"},
	} {
		status, answer := callAdmin(t, base, c.key, c.method, c.path, c.body)
		if status != c.status || answer["errcode"] != c.code || answer["field"] != c.field {
			t.Errorf("%s %s %v: %d %v, want %d %s field %s", c.method, c.path, c.body, status, answer, c.status, c.code, c.field)
		}
	}

	// Globex's key does not see ACME's requests.
	standing(t, d, "acme", "@someone:remote.example", consent.Always)
	acmeReq := requestOutbound(t, d, keys["acme"], map[string]any{"matrix_id": "@someone:remote.example", "reason": "A question", "dry_run": true})
	if acmeReq["dry_run"] != true || acmeReq["verdict"] != string(outbound.Allowed) {
		t.Fatalf("dry run: %v", acmeReq)
	}
	var stored int
	if err := d.Service.DB.QueryRow(ctx, `SELECT COUNT(*) FROM outbound_request`).Scan(&stored); err != nil || stored != 0 {
		t.Fatalf("a dry run stored %d requests (%v)", stored, err)
	}
	refused := requestOutbound(t, d, keys["acme"], map[string]any{"matrix_id": "@nobody:remote.example", "reason": "A question"})
	if status, answer := callAdmin(t, base, keys["globex"], http.MethodGet, "outbound/"+itoa(idOf(refused)), nil); status != http.StatusNotFound {
		t.Fatalf("another tenant's request: %d %v", status, answer)
	}

	// A staff member added through the API: a control room, and offers.
	erin := newStaff(t, d, "erin")
	status, answer := callAdmin(t, base, keys["acme"], http.MethodPost, "staff",
		map[string]any{"user_id": erin.UserID.String(), "name": "Erin", "role": "agent", "capacity": 2})
	if status != http.StatusCreated {
		t.Fatalf("adding Erin: %d %v", status, answer)
	}
	control := joinTenantControlRoom(t, d, "acme", erin)
	sayIn(t, erin, control, acme, "!ready", "You are now **ready**")
	customer := newCustomer(t, d, false)
	room, err := customer.CreateDM(ctx, acme, false)
	if err != nil {
		t.Fatal(err)
	}
	waitEvent(t, customer, room, "the welcome", isWelcome(d))
	waitEvent(t, erin, control, "an offer to Erin", bodyIs(acme, "Reply **accept**"))
	sayIn(t, erin, control, acme, "accept", "is yours")
	conv := openConversation(t, d, room)
	joinWhenInvited(t, erin, conv.DeskRoom)

	// Removed: out of the conversation, which waits again, and out of her control room.
	if status, answer = callAdmin(t, base, keys["acme"], http.MethodDelete, "staff/"+erin.UserID.String(), nil); status != http.StatusOK {
		t.Fatalf("removing Erin: %d %v", status, answer)
	}
	eventually(t, welcomeTimeout, "the conversation back in the queue", func() (bool, error) {
		c, err := d.Service.DB.Conversation.Get(ctx, conv.ID)
		return c != nil && c.Status == database.StatusNew, err
	})
	waitEvent(t, erin, control, "Erin taken out of her control room", func(evt *event.Event) bool {
		return evt.Type == event.StateMember && evt.GetStateKey() == erin.UserID.String() &&
			evt.Content.AsMember().Membership == event.MembershipLeave
	})

	// Globex, with a clock the test moves: Saturday is outside the window.
	saturday := time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)
	var offset atomic.Int64
	offset.Store(int64(saturday.Sub(time.Now())))
	d.StopService()
	if err = d.StartService(ctx, func(b *bridge.Bridge) {
		b.SetClock(func() time.Time { return time.Now().Add(time.Duration(offset.Load())) })
	}); err != nil {
		t.Fatal(err)
	}
	gina := tm.gina
	customerID := "@deferred:remote.example"
	standing(t, d, "globex", customerID, consent.Always)
	deferred := requestOutbound(t, d, keys["globex"], map[string]any{"matrix_id": customerID, "reason": "Your renewal"})
	until, _ := time.Parse(time.RFC3339, deferred["until"].(string))
	if deferred["state"] != string(outbound.StateDeferred) || !hasReason(deferred, outbound.ReasonOutsideWindow) ||
		!until.Equal(time.Date(2026, 3, 16, 9, 0, 0, 0, time.UTC)) {
		t.Fatalf("outside the window: %v", deferred)
	}
	// A second request waits outside the window too.
	second := requestOutbound(t, d, keys["globex"], map[string]any{"matrix_id": customerID, "reason": "Another"})
	if second["state"] != string(outbound.StateDeferred) {
		t.Fatalf("second request: %v", second)
	}
	// Monday 09:00: the first goes out, routed to Gina; the second, decided again
	// then, finds the customer in that conversation.
	offset.Store(int64(time.Date(2026, 3, 16, 9, 0, 1, 0, time.UTC).Sub(time.Now())))
	sayIn(t, gina, tm.control[gina.UserID], businessUserOf(d, "globex"), "!ready", "You are now **ready**")
	r := outboundState(t, d, "globex", idOf(deferred), outbound.StateRouting)
	eventually(t, welcomeTimeout, "the deferred request started", func() (bool, error) {
		r, err = d.Service.DB.Outbound.Get(ctx, "globex", r.ID)
		return r != nil && r.ConversationID != 0, err
	})
	eventually(t, welcomeTimeout, "the second decided again", func() (bool, error) {
		decisions, err := d.Service.DB.OutboundDecisions.OfRequest(ctx, idOf(second))
		return len(decisions) >= 2, err
	})
	r2, err := d.Service.DB.Outbound.Get(ctx, "globex", idOf(second))
	if err != nil || r2.State != outbound.StateRefused || !hasCode(r2.Reasons, outbound.ReasonOpenConversation) {
		t.Fatalf("the second request after the first went out: %+v %v", r2, err)
	}
}

func hasCode(reasons []outbound.Reason, code outbound.Code) bool {
	for _, r := range reasons {
		if r.Code == code {
			return true
		}
	}
	return false
}

// standing records a customer's remembered choice for contact, as their answer
// "remember" in a conversation would.
func standing(t *testing.T, d *deploy.Deployment, tenant, customer string, p consent.Policy) {
	t.Helper()
	if err := d.Service.Consent.SetPolicy(context.Background(), consent.Subject{Tenant: tenant, UserID: customer}, consent.Contact, p); err != nil {
		t.Fatal(err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func businessUserOf(d *deploy.Deployment, tenant string) id.UserID {
	return d.Config.BusinessUserID(d.Config.TenantByID(tenant))
}
