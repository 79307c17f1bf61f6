package calls

import (
	"context"
	"sync"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/internal/netns"
	"github.com/contactcenter/contactcenter/testclient/browser"
)

// relayedRuns calls are placed one after another for the setup-time figure.
const relayedRuns = 3

// TestRelayedBrowserCall is the call a customer places from Element's call code:
// Alice, in headless Chromium with matrix-js-sdk (Rust crypto, cross-signed), calls
// ACME in her encrypted DM; the service rings Carol from Alice's ghost in the desk
// room, and Carol, in another Chromium, answers there. Each hears the other's tone,
// audio packets keep arriving on both sides, the media is on loopback, and the call
// events in the DM went both ways encrypted. Setup (placeVoiceCall → both hear each
// other) is logged as p50 over a few calls, to compare with TestDirectBrowserCall.
func TestRelayedBrowserCall(t *testing.T) {
	rb := newRelayBed(t, 40*time.Second)
	ctx := context.Background()
	carol := rb.staff(t, "carol")
	rb.ready(t, carol)

	room, conv, alice, staffB := rb.browserDM(t, "alicebrowser", callerHz, []*staff{carol}, calleeHz)
	carolB := staffB[0]

	var setups, answers []time.Duration
	for run := range relayedRuns {
		s, err := browser.TwoWayCall(ctx, alice, carolB, room, waitLong)
		if err != nil {
			t.Fatalf("call %d: %v", run+1, err)
		}
		t.Logf("relayed call %d: answered after %v, two-way audio after %v (Alice hears %.0f Hz at %.0f dB SNR, Carol hears %.0f Hz at %.0f dB SNR)",
			run+1, s.AnswerTime().Round(time.Millisecond), s.Duration().Round(time.Millisecond),
			s.CallerHears.PeakHz, s.CallerHears.SNRDB, s.CalleeHears.PeakHz, s.CalleeHears.SNRDB)
		setups, answers = append(setups, s.Duration()), append(answers, s.AnswerTime())
		if s.Answered.CallID == s.Placed.CallID {
			t.Fatalf("Carol answered Alice's own call %s: the service did not relay it", s.Placed.CallID)
		}
		checkRelayedOnLoopback(t, ctx, "Alice", alice)
		checkRelayedOnLoopback(t, ctx, "Carol", carolB)
		checkPacketsFlow(t, ctx, alice, carolB)
		checkCallEventsEncrypted(t, ctx, alice, room, s.Placed.CallID)
		checkBusinessAnsweredEncrypted(t, ctx, alice, room, rb.acme.String(), s.Placed.CallID)

		if _, err := alice.Hangup(ctx); err != nil {
			t.Fatal(err)
		}
		st, err := carolB.WaitState(ctx, "ended", 15*time.Second)
		if err != nil {
			t.Fatalf("Carol after Alice hung up: %v", err)
		}
		if st.HangupParty != "remote" || st.HangupReason != "user_hangup" {
			t.Fatalf("Carol's call ended by %q with %q; want remote, user_hangup", st.HangupParty, st.HangupReason)
		}
		rb.endedCall(t, conv.ID, run+1)
	}
	t.Logf("relayed browser call setup over %d calls: p50 %v (min %v, max %v); answered p50 %v",
		len(setups), percentile(setups, 50).Round(time.Millisecond), percentile(setups, 0).Round(time.Millisecond),
		percentile(setups, 100).Round(time.Millisecond), percentile(answers, 50).Round(time.Millisecond))
}

// checkRelayedOnLoopback is checkConnectedOnLoopback for a browser talking to the
// relay. The relay's connectivity checks may reach the browser before the relay's
// trickled candidates do: the browser then pairs with a peer-reflexive candidate,
// whose address Chromium leaves out of getStats. Such a pair passes only in a
// network namespace where every interface is loopback (so is its address).
func checkRelayedOnLoopback(t *testing.T, ctx context.Context, name string, br *browser.Browser) {
	t.Helper()
	pair := connectedPair(t, ctx, name, br)
	hiddenPrflx := pair.Remote.Address == "" && pair.Remote.CandidateType == "prflx"
	isolated, err := netns.Isolated()
	if err != nil {
		t.Fatal(err)
	}
	if !onLoopback(pair.Local) || !(onLoopback(pair.Remote) || (hiddenPrflx && isolated)) {
		t.Fatalf("%s: selected pair %+v is not on loopback", name, pair)
	}
	if hiddenPrflx {
		t.Logf("%s: the relay's side of the pair is peer-reflexive (address hidden by Chromium; the namespace is loopback-only)", name)
	}
}

// startBrowser starts a Chromium whose microphone plays toneHz and logs it in.
func startBrowser(t *testing.T, toneHz float64, login browser.LoginOptions) (*browser.Browser, error) {
	ctx := context.Background()
	b, err := browser.Start(ctx, browser.Options{ToneHz: toneHz, Dir: t.TempDir()})
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("closing the browser: %v", err)
		}
	})
	_, _, err = b.Login(ctx, login)
	return b, err
}

// checkBusinessAnsweredEncrypted asserts the business identity answered callID in
// the DM, and that its events reached the customer's client encrypted.
func checkBusinessAnsweredEncrypted(t *testing.T, ctx context.Context, br *browser.Browser, room, business, callID string) {
	t.Helper()
	evs, err := br.CallEvents(ctx, room)
	if err != nil {
		t.Fatal(err)
	}
	answered := false
	for _, ev := range evs {
		if ev.CallID != callID || ev.Sender != business {
			continue
		}
		if ev.WireType != "m.room.encrypted" {
			t.Fatalf("the business's %s came as %s, not encrypted", ev.Type, ev.WireType)
		}
		answered = answered || ev.Type == "m.call.answer"
	}
	if !answered {
		t.Fatalf("no m.call.answer from %s for call %s (call events: %+v)", business, callID, evs)
	}
}

// browserDM starts, at once, a customer's browser (registered as customer on the
// customer homeserver, tone customerHz) and one browser per staff member (tones in
// order), then has the customer open an encrypted DM with ACME and waits for its
// conversation. Staff log in with "<localpart>-password".
func (rb *relayBed) browserDM(t *testing.T, customer string, customerHz float64, members []*staff, staffHz ...float64) (
	string, *database.Conversation, *browser.Browser, []*browser.Browser) {
	t.Helper()
	ctx := context.Background()
	browsers := make([]*browser.Browser, 1+len(members))
	errs := make([]error, len(browsers))
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, err := rb.d.Bed.Customer.Register(ctx, customer, customer+"-password", false); err != nil {
			errs[0] = err
			return
		}
		browsers[0], errs[0] = startBrowser(t, customerHz, browser.LoginOptions{HomeserverURL: rb.d.Bed.Customer.URL,
			User: id.NewUserID(customer, rb.d.Bed.Customer.ServerName).String(), Password: customer + "-password", CrossSigning: true})
	})
	for i, s := range members {
		wg.Go(func() {
			browsers[i+1], errs[i+1] = startBrowser(t, staffHz[i], browser.LoginOptions{HomeserverURL: rb.d.Bed.Business.URL,
				User: s.UserID.String(), Password: s.UserID.Localpart() + "-password", CrossSigning: true})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("browser %d: %v", i, err)
		}
	}
	room, err := browsers[0].CreateDM(ctx, rb.acme.String(), true)
	if err != nil {
		t.Fatal(err)
	}
	if err := browsers[0].WaitJoined(ctx, room, rb.acme.String()); err != nil {
		t.Fatal(err)
	}
	return room, rb.conversation(t, id.RoomID(room)), browsers[0], browsers[1:]
}
