package calls

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/contactcenter/contactcenter/testclient/browser"
)

const (
	callerHz = 440
	calleeHz = 660
	// directRuns calls are placed one after another for the setup-time figure.
	directRuns = 5
)

// TestDirectBrowserCall: user A on the customer homeserver calls user B on the
// business homeserver in their encrypted DM, each in headless Chromium with
// matrix-js-sdk's MatrixCall. Each hears the other's tone, audio packets keep
// arriving on both sides, the media flows on loopback, and the call events went
// through the room encrypted. This direct call is the baseline a call relayed
// by the service is measured against: setup (placeVoiceCall → both hear each
// other) is logged as p50 over a few calls.
func TestDirectBrowserCall(t *testing.T) {
	bed := newHomeservers(t)
	ctx := context.Background()
	bs := newBrowsers(t, browserUser{bed.Customer, callerHz}, browserUser{bed.Business, calleeHz})
	a, b := bs[0], bs[1]
	room, err := a.CreateDM(ctx, b.UserID, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Join(ctx, room); err != nil {
		t.Fatal(err)
	}
	if err := a.WaitJoined(ctx, room, b.UserID); err != nil {
		t.Fatal(err)
	}

	var setups, answers []time.Duration
	for run := range directRuns {
		s, err := browser.TwoWayCall(ctx, a, b, room, 60*time.Second)
		if err != nil {
			t.Fatalf("call %d: %v", run+1, err)
		}
		t.Logf("call %d: answered after %v, two-way audio after %v (A hears %.0f Hz at %.0f dB SNR, B hears %.0f Hz at %.0f dB SNR)",
			run+1, s.AnswerTime().Round(time.Millisecond), s.Duration().Round(time.Millisecond),
			s.CallerHears.PeakHz, s.CallerHears.SNRDB, s.CalleeHears.PeakHz, s.CalleeHears.SNRDB)
		setups, answers = append(setups, s.Duration()), append(answers, s.AnswerTime())
		if s.Answered.CallID != s.Placed.CallID {
			t.Fatalf("B answered call %s, A placed %s", s.Answered.CallID, s.Placed.CallID)
		}
		for _, side := range []struct {
			name string
			br   *browser.Browser
		}{{"A", a}, {"B", b}} {
			checkConnectedOnLoopback(t, ctx, side.name, side.br)
		}
		checkPacketsFlow(t, ctx, a, b)
		checkCallEventsEncrypted(t, ctx, b, room, s.Placed.CallID)

		if _, err := a.Hangup(ctx); err != nil {
			t.Fatal(err)
		}
		st, err := b.WaitState(ctx, "ended", 15*time.Second)
		if err != nil {
			t.Fatalf("B after A hung up: %v", err)
		}
		if st.HangupParty != "remote" || st.HangupReason != "user_hangup" {
			t.Fatalf("B's call ended by %q with %q; want remote, user_hangup", st.HangupParty, st.HangupReason)
		}
	}
	t.Logf("direct browser call setup over %d calls: p50 %v (min %v, max %v); answered p50 %v",
		len(setups), percentile(setups, 50).Round(time.Millisecond), percentile(setups, 0).Round(time.Millisecond),
		percentile(setups, 100).Round(time.Millisecond), percentile(answers, 50).Round(time.Millisecond))
}

// checkConnectedOnLoopback asserts the call is connected and its selected
// candidate pair is loopback on both ends.
func checkConnectedOnLoopback(t *testing.T, ctx context.Context, name string, br *browser.Browser) {
	t.Helper()
	pair := connectedPair(t, ctx, name, br)
	for _, c := range []browser.Candidate{pair.Local, pair.Remote} {
		if !onLoopback(c) {
			t.Fatalf("%s: selected pair %+v is not on loopback", name, pair)
		}
	}
}

// connectedPair asserts the call is connected and returns its selected candidate pair.
func connectedPair(t *testing.T, ctx context.Context, name string, br *browser.Browser) *browser.Pair {
	t.Helper()
	st, err := br.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != "connected" {
		t.Fatalf("%s: call state %q (%+v); want connected", name, st.State, st)
	}
	pair, err := br.SelectedPair(ctx)
	if err != nil || pair == nil {
		t.Fatalf("%s: no selected candidate pair (%v)", name, err)
	}
	return pair
}

// onLoopback tells whether a candidate's address is a loopback address.
func onLoopback(c browser.Candidate) bool {
	ip, err := netip.ParseAddr(c.Address)
	return err == nil && ip.IsLoopback()
}

// checkPacketsFlow asserts that audio packets keep arriving on both sides:
// Opus at 20 ms a packet is 50 a second.
func checkPacketsFlow(t *testing.T, ctx context.Context, a, b *browser.Browser) {
	t.Helper()
	before := [2]int64{}
	for i, br := range []*browser.Browser{a, b} {
		n, err := br.InboundPackets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		before[i] = n
	}
	const window = time.Second
	time.Sleep(window)
	for i, br := range []*browser.Browser{a, b} {
		n, err := br.InboundPackets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if grew := n - before[i]; grew < 30 {
			t.Fatalf("%s received %d audio packets in %v (from %d to %d); want about 50", []string{"A", "B"}[i], grew, window, before[i], n)
		}
	}
}

// checkCallEventsEncrypted asserts that br saw callID's invite, and that every
// event of the call reached it encrypted.
func checkCallEventsEncrypted(t *testing.T, ctx context.Context, br *browser.Browser, room, callID string) {
	t.Helper()
	evs, err := br.CallEvents(ctx, room)
	if err != nil {
		t.Fatal(err)
	}
	invite := false
	for _, ev := range evs {
		if ev.CallID != callID {
			continue
		}
		if ev.WireType != "m.room.encrypted" {
			t.Fatalf("%s from %s came as %s, not encrypted", ev.Type, ev.Sender, ev.WireType)
		}
		invite = invite || ev.Type == "m.call.invite"
	}
	if !invite {
		t.Fatalf("no m.call.invite for call %s in the room (call events: %+v)", callID, evs)
	}
}
