package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/adminapi"
	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/contextapi"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/internal/deploy"
	"github.com/contactcenter/contactcenter/outbound"
	"github.com/contactcenter/contactcenter/routing"
	"github.com/contactcenter/contactcenter/testclient/jsclient"
	"github.com/contactcenter/contactcenter/testclient/mxclient"
)

// withAdminKeys gives every tenant an admin API key (keys: tenant → key) and a
// contact window of the whole day, so that the tests do not depend on the hour.
func withAdminKeys(keys map[string]string) func(*config.Config) {
	return func(cfg *config.Config) {
		for i := range cfg.Tenants {
			t := &cfg.Tenants[i]
			keys[t.ID] = contextapi.NewKey()
			t.AdminAPIKeys = []string{contextapi.KeyHashConfig(keys[t.ID])}
			t.Outbound = &outbound.Config{MaxContacts: 5, Period: routing.Duration(24 * time.Hour)}
		}
	}
}

// callAdmin calls the service's admin API and returns the status and decoded answer.
func callAdmin(t *testing.T, base, key, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var reader io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		if raw, ok := body.(string); ok {
			data = []byte(raw)
		}
		reader = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, base+path, reader)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var answer map[string]any
	_ = json.Unmarshal(raw, &answer)
	return resp.StatusCode, answer
}

func adminBase(d *deploy.Deployment) string {
	return "http://" + d.Service.Addr() + adminapi.PathPrefix
}

// requestOutbound posts an outbound request and returns its answer (202 or 200).
func requestOutbound(t *testing.T, d *deploy.Deployment, key string, body map[string]any) map[string]any {
	t.Helper()
	status, answer := callAdmin(t, adminBase(d), key, http.MethodPost, "outbound", body)
	if status != http.StatusAccepted && status != http.StatusOK {
		t.Fatalf("POST outbound: %d %v", status, answer)
	}
	return answer
}

// outboundState waits until the request is in state want and returns it.
func outboundState(t *testing.T, d *deploy.Deployment, tenant string, reqID int64, want outbound.State) *database.OutboundRequest {
	t.Helper()
	var r *database.OutboundRequest
	eventually(t, welcomeTimeout, fmt.Sprintf("outbound %d %s", reqID, want), func() (bool, error) {
		var err error
		r, err = d.Service.DB.Outbound.Get(context.Background(), tenant, reqID)
		if r != nil && r.State.Terminal() && r.State != want {
			return false, fmt.Errorf("outbound %d is %s (%s), not %s", reqID, r.State, r.LastError, want)
		}
		return err == nil && r != nil && r.State == want, err
	})
	return r
}

func hasReason(answer map[string]any, code outbound.Code) bool {
	reasons, _ := answer["reasons"].([]any)
	for _, r := range reasons {
		if m, _ := r.(map[string]any); m != nil && m["code"] == string(code) {
			return true
		}
	}
	return false
}

func idOf(answer map[string]any) int64 {
	f, _ := answer["id"].(float64)
	return int64(f)
}

// TestOutboundAlice: Alice (matrix-js-sdk), whom ACME knows and whose account
// manager is Carol, remembers contact: always. An outbound request is routed to Carol,
// accepted, and reaches Alice in her existing DM; her reply reaches Carol. After she
// left that DM, the next one reaches her in a new encrypted DM she is invited to;
// a third contact that day is capped (a dry run, which stores nothing); !stop
// withdraws contact, and the next request is refused. Bob, who never
// agreed, is refused and his homeserver receives nothing.
func TestOutboundAlice(t *testing.T) {
	keys, adminKeys := map[string]string{}, map[string]string{}
	capTwo := func(cfg *config.Config) {
		cfg.TenantByID("acme").Outbound = &outbound.Config{MaxContacts: 2, Period: routing.Duration(24 * time.Hour)}
	}
	tm := newTeam(t, "postgres", withAPIKeys(keys), withAdminKeys(adminKeys), capTwo)
	d := tm.d
	ctx := context.Background()
	acme := businessUser(d)
	alice := newJSCustomer(t, d, acme)
	js, room := alice.js, alice.room.String()
	mustAPI(t, d, keys["acme"], http.MethodPut, "customers/A-1", map[string]any{"name": "Alice Liddell", "tier": "gold",
		"account_manager": tm.carol.UserID.String(), "matrix_ids": []string{alice.userID.String()}})
	jsWait := func(roomID, what, contains, after string) string {
		t.Helper()
		evt, err := js.WaitForMessage(ctx, roomID, jsclient.MessageFilter{Sender: acme.String(), Contains: contains, AfterEventID: after}, welcomeTimeout)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return evt.EventID
	}

	// Her first conversation: she remembers every choice as always; Carol ends it.
	tm.say(t, tm.carol, acme, "!ready", "You are now **ready**")
	jsWait(room, "the consent prompt", "**contact** —", "")
	if _, err := js.SendText(ctx, room, "all remember"); err != nil {
		t.Fatal(err)
	}
	jsWait(room, "the receipt", "contact: shared", "")
	first := openConversation(t, d, alice.room)
	tm.say(t, tm.carol, acme, "accept", "is yours")
	joinWhenInvited(t, tm.carol, first.DeskRoom)
	joinWhenInvited(t, tm.carol, first.SideRoom)
	sayIn(t, tm.carol, first.SideRoom, acme, "!end", "ended")

	// Bob never agreed: refused, and nothing reaches his homeserver.
	bob := newCustomer(t, d, false)
	refused := requestOutbound(t, d, adminKeys["acme"], map[string]any{"matrix_id": bob.UserID.String(), "reason": "An offer"})
	if refused["state"] != string(outbound.StateRefused) || !hasReason(refused, outbound.ReasonNoStandingConsent) {
		t.Fatalf("Bob's request: %v", refused)
	}

	// The first request: routed to Carol, her account manager, said to be outbound.
	answer := requestOutbound(t, d, adminKeys["acme"], map[string]any{"matrix_id": alice.userID.String(), "reason": "Your new card is ready to collect."})
	if answer["state"] != string(outbound.StateRouting) {
		t.Fatalf("Alice's request: %v", answer)
	}
	reqID := idOf(answer)
	offer := waitEvent(t, tm.carol, tm.control[tm.carol.UserID], "the outbound offer", bodyIs(acme, "**Outbound contact**"))
	if body := offer.Content.AsMessage().Body; !strings.Contains(body, "Your new card is ready") || !strings.Contains(body, "account manager") {
		t.Fatalf("the offer does not say why or to whom: %s", body)
	}
	tm.say(t, tm.carol, acme, "accept", "is yours")
	r := outboundState(t, d, "acme", reqID, outbound.StateJoined)
	if r.RoomID != room {
		t.Fatalf("the request wrote in %s, not her existing DM %s", r.RoomID, room)
	}
	jsWait(room, "the business's first words", "Your new card is ready", "")
	conv := openConversation(t, d, alice.room)
	joinWhenInvited(t, tm.carol, conv.DeskRoom)
	joinWhenInvited(t, tm.carol, conv.SideRoom)
	if _, err := js.SendText(ctx, room, "Thanks, I'll come by tomorrow"); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, tm.carol, conv.DeskRoom, "her reply at Carol", bodyIs(conv.Ghost, "I'll come by tomorrow"))
	sayIn(t, tm.carol, conv.SideRoom, acme, "!end", "ended")
	outboundState(t, d, "acme", reqID, outbound.StateDone)

	// She leaves that DM: the next request invites her to a new one.
	leaveAs(t, d, alice.userID, alice.room)
	eventually(t, welcomeTimeout, "the DM marked left", func() (bool, error) {
		cr, err := d.Service.DB.CustomerRoom.Get(ctx, alice.room)
		return cr != nil && !cr.LeftAt.IsZero(), err
	})
	answer = requestOutbound(t, d, adminKeys["acme"], map[string]any{"matrix_id": alice.userID.String(), "reason": "Your card has shipped."})
	reqID = idOf(answer)
	waitEvent(t, tm.carol, tm.control[tm.carol.UserID], "the second offer", bodyIs(acme, "Your card has shipped"))
	tm.say(t, tm.carol, acme, "accept", "is yours")
	r = outboundState(t, d, "acme", reqID, outbound.StateInvited)
	if r.RoomID == room || r.Attempts != 1 {
		t.Fatalf("second request: room %s attempts %d", r.RoomID, r.Attempts)
	}
	// The invite travels over federation: join once her server has it.
	eventually(t, welcomeTimeout, "Alice joining the new DM", func() (bool, error) {
		return js.Join(ctx, r.RoomID, d.Bed.Business.ServerName) == nil, nil
	})
	outboundState(t, d, "acme", reqID, outbound.StateJoined)
	state, err := js.RoomState(ctx, r.RoomID)
	if err != nil {
		t.Fatal(err)
	}
	if !state.Encrypted {
		t.Fatalf("the new DM is not encrypted: %+v", state)
	}
	jsWait(r.RoomID, "the first words in the new DM", "Your card has shipped", "")

	// Two contacts today: the cap defers a third (a dry run: nothing is stored).
	newConv := openConversation(t, d, id.RoomID(r.RoomID))
	joinWhenInvited(t, tm.carol, newConv.SideRoom)
	sayIn(t, tm.carol, newConv.SideRoom, acme, "!end", "ended")
	outboundState(t, d, "acme", reqID, outbound.StateDone)
	capped := requestOutbound(t, d, adminKeys["acme"], map[string]any{"matrix_id": alice.userID.String(), "reason": "A third", "dry_run": true})
	if capped["verdict"] != string(outbound.Deferred) || !hasReason(capped, outbound.ReasonFrequencyCap) {
		t.Fatalf("a third contact today: %v", capped)
	}

	// !stop withdraws contact at once: the next request is refused.
	stop, err := js.SendText(ctx, r.RoomID, "!stop")
	if err != nil {
		t.Fatal(err)
	}
	jsWait(r.RoomID, "the confirmation of !stop", "will not contact you first again", stop)
	answer = requestOutbound(t, d, adminKeys["acme"], map[string]any{"matrix_id": alice.userID.String(), "reason": "One more thing"})
	if answer["state"] != string(outbound.StateRefused) || !hasReason(answer, outbound.ReasonConsentWithdrawn) {
		t.Fatalf("after !stop: %v", answer)
	}
	var requests int
	if err = d.Service.DB.QueryRow(ctx, `SELECT COUNT(*) FROM outbound_request WHERE customer_mxid = $1`, alice.userID.String()).Scan(&requests); err != nil || requests != 3 {
		t.Fatalf("stored requests for Alice: %d %v (want 3: the dry run stores none)", requests, err)
	}

	// Bob's homeserver never heard of ACME: no room, no invite.
	resp, err := bob.FullSyncRequest(ctx, mautrix.ReqSync{Timeout: 0})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Rooms.Invite) != 0 || len(resp.Rooms.Join) != 0 {
		t.Fatalf("Bob was contacted: %d invites, %d rooms", len(resp.Rooms.Invite), len(resp.Rooms.Join))
	}
	var bobRooms int
	if err = d.Service.DB.QueryRow(ctx, `SELECT COUNT(*) FROM customer_room WHERE customer_mxid = $1`, bob.UserID.String()).Scan(&bobRooms); err != nil || bobRooms != 0 {
		t.Fatalf("rooms recorded for Bob: %d %v", bobRooms, err)
	}
}

// leaveAs leaves a room as a customer, from a second session of theirs (the
// js-sdk driver has no leave).
func leaveAs(t *testing.T, d *deploy.Deployment, user id.UserID, roomID id.RoomID) {
	t.Helper()
	ctx := context.Background()
	c, err := mxclient.Login(ctx, mxclient.Options{HomeserverURL: d.Bed.Customer.URL, UserID: user,
		Password: user.Localpart() + "-password", Dir: t.TempDir(), Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err = c.LeaveRoom(ctx, roomID); err != nil {
		t.Fatal(err)
	}
}

// checkSandboxAdminAPI: sandbox.json's admin API answers each tenant's key.
func checkSandboxAdminAPI(t *testing.T, base string, keys map[string]string) {
	t.Helper()
	if !strings.HasSuffix(base, "/") || len(keys) < 2 {
		t.Fatalf("sandbox.json admin_api: %q with %d keys", base, len(keys))
	}
	for tenant, key := range keys {
		if status, answer := callAdmin(t, base, key, http.MethodGet, "staff", nil); status != http.StatusOK {
			t.Fatalf("the sandbox's admin API for %s: %d %v", tenant, status, answer)
		}
	}
}
