package calls

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/routing"
	"github.com/contactcenter/contactcenter/testclient/browser"
	"github.com/contactcenter/contactcenter/testclient/mxclient"
)

// The supervisor's tone, beside the customer's (callerHz) and the agent's
// (calleeHz): no harmonic of either.
const supervisorHz = 1250

// TestSupervisorListenWhisperBarge: Alice (customer), Carol (agent) and Sam
// (supervisor) in three Chromiums with three tones. Sam's !listen makes the
// business identity call him in his control room; listening he hears both and
// nobody hears him; whispering Carol hears him and Alice does not; barging both
// do. Each switch is an audit row and told to Carol. A supervisor of another
// tenant cannot listen.
func TestSupervisorListenWhisperBarge(t *testing.T) {
	rb := newRelayBed(t, 40*time.Second, func(cfg *config.Config) {
		other := cfg.Tenants[0]
		other.ID, other.Name, other.BusinessLocalpart, other.AccountPassword = "globex", "Globex", "globex", rand.Text()
		other.Staff = []routing.Staff{{UserID: "@zed:" + cfg.Homeserver.Domain, Name: "Zed", Role: routing.RoleSupervisor}}
		other.APIKeys, other.AdminAPIKeys = nil, nil
		if len(cfg.Tenants) == 1 {
			cfg.Tenants = append(cfg.Tenants, other)
		}
	})
	ctx := context.Background()
	carol, sam := rb.staff(t, "carol"), rb.staff(t, "sam")
	rb.ready(t, carol)

	room, conv, alice, staffB := rb.browserDM(t, "alicesup", callerHz, []*staff{carol, sam}, calleeHz, supervisorHz)
	carolB, samB := staffB[0], staffB[1]
	if _, err := browser.TwoWayCall(ctx, alice, carolB, room, waitLong); err != nil {
		t.Fatal(err)
	}
	callRow := rb.liveCallRow(t, conv.ID)

	// Another tenant's supervisor cannot listen: the conversation is not theirs.
	zed := rb.otherStaff(t, "globex", "zed")
	globex := rb.d.Config.BusinessUserID(&rb.d.Config.Tenants[1])
	sayIn(t, zed.Client, zed.control, globex, fmt.Sprintf("!listen %d", conv.ID), bot.NoOpenConversation(fmt.Sprint(conv.ID)))

	// Listen: Sam's client rings in his control room.
	answered := make(chan error, 1)
	go func() {
		_, err := samB.AnswerNext(ctx, waitLong)
		answered <- err
	}()
	sayIn(t, sam.Client, sam.control, rb.acme, fmt.Sprintf("!listen %d", conv.ID), "Calling you to listen")
	if err := <-answered; err != nil {
		t.Fatalf("Sam answering: %v", err)
	}
	if _, err := samB.WaitState(ctx, "connected", waitLong); err != nil {
		t.Fatal(err)
	}
	for _, hz := range []float64{callerHz, calleeHz} {
		if _, err := samB.HearsToneAmong(ctx, hz, 30*time.Second); err != nil {
			t.Fatalf("listening, Sam does not hear %v Hz: %v", hz, err)
		}
	}
	checkHears(t, ctx, "listen", alice, carolB, false, false)
	waitSide(t, carol, conv.SideRoom, rb.acme, "Sam is listening")

	sayIn(t, sam.Client, sam.control, rb.acme, "!whisper", "Whispering")
	checkHears(t, ctx, "whisper", alice, carolB, false, true)
	waitSide(t, carol, conv.SideRoom, rb.acme, "Sam is whispering")

	sayIn(t, sam.Client, sam.control, rb.acme, "!barge", "Barged in")
	checkHears(t, ctx, "barge", alice, carolB, true, true)
	feeds, err := alice.RemoteFeeds(ctx)
	if err != nil || len(feeds) < 2 {
		t.Fatalf("Alice's feeds after the barge: %+v (%v); want a second stream", feeds, err)
	}
	for _, f := range feeds {
		if f.AudioMuted {
			t.Errorf("Alice's feed %s is muted", f.StreamID)
		}
	}

	sayIn(t, sam.Client, sam.control, rb.acme, "!listen", "Listening")
	checkHears(t, ctx, "back to listen", alice, carolB, false, false)

	// Sam hangs up: the call goes on.
	if _, err := samB.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	var modes []string
	eventually(t, waitLong, "the audit rows", func() (bool, error) {
		rows, err := rb.d.Service.DB.Supervision().OfCall(ctx, callRow)
		modes = modes[:0]
		for _, r := range rows {
			if r.Staff == sam.UserID {
				modes = append(modes, r.Mode)
			}
		}
		return len(modes) >= 5, err
	})
	if got := strings.Join(modes, ","); got != "listen,whisper,barge,listen,left" {
		t.Errorf("audit of Sam's part: %s", got)
	}
	if st, err := alice.State(ctx); err != nil || st.State != "connected" {
		t.Fatalf("after Sam left, Alice's call is %+v (%v)", st, err)
	}
	if _, err := alice.HearsTone(ctx, calleeHz, 20*time.Second); err != nil {
		t.Fatalf("after Sam left, Alice does not hear Carol: %v", err)
	}
	if _, err := alice.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	rb.endedCall(t, conv.ID, 1)
}

// checkHears samples the customer's and the agent's audio for the supervisor's
// tone: heard (many readings above the threshold) or not (none).
func checkHears(t *testing.T, ctx context.Context, mode string, customer, agent *browser.Browser, customerHears, agentHears bool) {
	t.Helper()
	for _, c := range []struct {
		who   string
		b     *browser.Browser
		hears bool
	}{{"the customer", customer, customerHears}, {"the agent", agent, agentHears}} {
		var levels []browser.ToneLevel
		heard := false
		// Switching (and a negotiated stream) takes a moment: a heard tone is
		// waited for, silence is measured over a window once the switch settled.
		deadline := time.Now().Add(20 * time.Second)
		if !c.hears {
			time.Sleep(time.Second)
		}
		for {
			n, ls, err := c.b.ToneLevels(ctx, []float64{supervisorHz}, 1500*time.Millisecond)
			if err != nil || n == 0 {
				t.Fatalf("%s: %s: tone levels: %v (%d samples)", mode, c.who, err, n)
			}
			levels, heard = ls, ls[0].Above >= n/2
			if heard == c.hears || time.Now().After(deadline) || !c.hears {
				break
			}
		}
		if heard != c.hears || (!c.hears && levels[0].Above > 0) {
			t.Errorf("%s: %s hears the supervisor = %v (%+v), want %v", mode, c.who, heard, levels, c.hears)
		}
	}
}

func waitSide(t *testing.T, s *staff, room id.RoomID, from id.UserID, text string) {
	t.Helper()
	waitEvent(t, s.Client, room, "the side room's "+text, bodyIs(from, text))
}

// liveCallRow is the conversation's live call.
func (rb *relayBed) liveCallRow(t *testing.T, convID int64) int64 {
	t.Helper()
	calls, err := rb.d.Service.DB.Calls().OfConversation(context.Background(), convID)
	if err != nil || len(calls) == 0 {
		t.Fatalf("no call recorded (%v)", err)
	}
	return calls[len(calls)-1].ID
}

// otherStaff logs in a staff member of another tenant and joins their control room.
func (rb *relayBed) otherStaff(t *testing.T, tenant, localpart string) *staff {
	t.Helper()
	ctx := context.Background()
	if _, err := rb.d.Bed.Business.Register(ctx, localpart, localpart+"-password", false); err != nil {
		t.Fatal(err)
	}
	c, err := mxclient.Login(ctx, mxclient.Options{HomeserverURL: rb.d.Bed.Business.URL,
		UserID: id.NewUserID(localpart, rb.d.Bed.Business.ServerName), Password: localpart + "-password", Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	s := &staff{Client: c}
	eventually(t, waitLong, "a control room for "+localpart, func() (bool, error) {
		record, err := rb.d.Service.DB.Staff.Get(ctx, tenant, c.UserID)
		if record != nil {
			s.control = record.ControlRoomID
		}
		return s.control != "", err
	})
	eventually(t, waitLong, localpart+" joining the control room", func() (bool, error) {
		_, err := c.JoinRoomByID(ctx, s.control)
		return err == nil, nil
	})
	return s
}
