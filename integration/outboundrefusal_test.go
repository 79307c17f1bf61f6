package integration

import (
	"context"
	"net/http"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/consent"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/internal/deploy"
	"github.com/contactcenter/contactcenter/outbound"
)

// noRetryWait is how long the tests watch a finished request for a retry: several
// ticks of the outbound loop.
const noRetryWait = 3 * outboundTick

// outboundTick mirrors the bridge's outbound loop tick.
const outboundTick = 2 * time.Second

// TestOutboundRefusals: the customer's side refusing an outbound contact is final.
// Erin, who agreed to be contacted but has no DM with ACME, is invited to a new one
// once Carol accepts, and rejects the invite: the request is declined, the invite
// was tried once, and nothing is tried again. Frank's homeserver is down when Carol
// accepts: the invite cannot reach it, the request fails (or expires) after one
// attempt, and nothing is tried again, also once his server is back.
func TestOutboundRefusals(t *testing.T) {
	adminKeys := map[string]string{}
	tm := newTeam(t, "sqlite", withAdminKeys(adminKeys))
	d := tm.d
	ctx := context.Background()
	acme := businessUser(d)
	tm.say(t, tm.carol, acme, "!ready", "You are now **ready**")

	// Erin rejects the invite.
	erin := newCustomer(t, d, false)
	standing(t, d, "acme", erin.UserID.String(), consent.Always)
	reqID := idOf(requestOutbound(t, d, adminKeys["acme"], map[string]any{"matrix_id": erin.UserID.String(),
		"reason": "Your statement is ready.", "agent": tm.carol.UserID.String()}))
	waitEvent(t, tm.carol, tm.control[tm.carol.UserID], "the offer for Erin", bodyIs(acme, "Your statement is ready"))
	tm.say(t, tm.carol, acme, "accept", "is yours")
	r := outboundState(t, d, "acme", reqID, outbound.StateInvited)
	eventually(t, welcomeTimeout, "the invite at Erin's server", func() (bool, error) {
		resp, err := erin.FullSyncRequest(ctx, mautrix.ReqSync{Timeout: 0})
		if err != nil {
			return false, err
		}
		_, invited := resp.Rooms.Invite[id.RoomID(r.RoomID)]
		return invited, nil
	})
	if _, err := erin.LeaveRoom(ctx, id.RoomID(r.RoomID)); err != nil {
		t.Fatal(err)
	}
	r = outboundState(t, d, "acme", reqID, outbound.StateDeclined)
	checkNoRetry(t, d, r)
	resp, err := erin.FullSyncRequest(ctx, mautrix.ReqSync{Timeout: 0})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Rooms.Invite) != 0 || len(resp.Rooms.Join) != 0 {
		t.Fatalf("Erin was invited again: %d invites, %d rooms", len(resp.Rooms.Invite), len(resp.Rooms.Join))
	}

	// Frank's server is down when the invite goes.
	frank := newCustomer(t, d, false)
	standing(t, d, "acme", frank.UserID.String(), consent.Always)
	if err = d.Bed.Customer.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	serverUp := false
	defer func() {
		if !serverUp {
			_ = d.Bed.Customer.Start(ctx)
		}
	}()
	reqID = idOf(requestOutbound(t, d, adminKeys["acme"], map[string]any{"matrix_id": frank.UserID.String(),
		"reason": "Your card expires soon.", "agent": tm.carol.UserID.String()}))
	waitEvent(t, tm.carol, tm.control[tm.carol.UserID], "the offer for Frank", bodyIs(acme, "Your card expires soon"))
	tm.say(t, tm.carol, acme, "accept", "is yours")
	eventually(t, 2*welcomeTimeout, "Frank's request ended", func() (bool, error) {
		r, err = d.Service.DB.Outbound.Get(ctx, "acme", reqID)
		return r != nil && r.State.Terminal(), err
	})
	if r.State != outbound.StateFailed && r.State != outbound.StateExpired {
		t.Fatalf("Frank's request: %s (%s), want failed or expired", r.State, r.LastError)
	}
	conv, err := d.Service.DB.Conversation.Get(ctx, r.ConversationID)
	if err != nil || conv == nil {
		t.Fatalf("Frank's conversation: %v", err)
	}
	joinWhenInvited(t, tm.carol, conv.SideRoom)
	waitEvent(t, tm.carol, conv.SideRoom, "Carol told in the side room", bodyIs(acme, "will not be retried"))
	checkNoRetry(t, d, r)
	// Back up: still nothing is tried.
	if err = d.Bed.Customer.Start(ctx); err != nil {
		t.Fatal(err)
	}
	serverUp = true
	checkNoRetry(t, d, r)
	resp, err = frank.FullSyncRequest(ctx, mautrix.ReqSync{Timeout: 0})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Rooms.Invite) != 0 {
		t.Fatalf("Frank got %d invites after his request failed", len(resp.Rooms.Invite))
	}
	status, answer := callAdmin(t, adminBase(d), adminKeys["acme"], http.MethodGet, "outbound/"+itoa(reqID), nil)
	if status != http.StatusOK || answer["state"] != string(r.State) || answer["attempts"] != float64(1) {
		t.Fatalf("GET outbound for Frank: %d %v", status, answer)
	}
}

// checkNoRetry watches a finished request for a few ticks of the outbound loop: its
// state, its one attempt and its decisions stay as they are.
func checkNoRetry(t *testing.T, d *deploy.Deployment, done *database.OutboundRequest) {
	t.Helper()
	ctx := context.Background()
	decisions, err := d.Service.DB.OutboundDecisions.OfRequest(ctx, done.ID)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(noRetryWait)
	r, err := d.Service.DB.Outbound.Get(ctx, done.TenantID, done.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r.State != done.State || r.Attempts != 1 {
		t.Fatalf("request %d: %s after %d attempts, want %s after 1 (no retry)", r.ID, r.State, r.Attempts, done.State)
	}
	later, err := d.Service.DB.OutboundDecisions.OfRequest(ctx, done.ID)
	if err != nil || len(later) != len(decisions) {
		t.Fatalf("request %d decided again after it ended: %d decisions, were %d (%v)", r.ID, len(later), len(decisions), err)
	}
}
