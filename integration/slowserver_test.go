package integration

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bridge/transport"
	"github.com/contactcenter/contactcenter/internal/deploy"
	"github.com/contactcenter/contactcenter/testclient/mxclient"
)

const (
	// slowJoiners open DMs while their server is stalled: each invite's handler
	// waits in a federated join. With the slowSenders they make more slow rooms than
	// the transport has workers, so that without a per-server share they would take
	// every worker.
	slowJoiners = transport.DefaultWorkers
	// slowSenders, welcomed before the stall, send an image during it: each handler
	// waits in the media download.
	slowSenders = 4
	// quietWelcomes and quietRelays are the quiet customer's samples per phase.
	quietWelcomes = 4
	quietRelays   = 8
	// Under the stall, the quiet customer's median may be at most stallFactor times
	// the baseline's plus stallSlack, and no sample may exceed stallFactor times the
	// baseline's slowest plus sampleSlack. A worker held by the stalled server costs
	// a sample 20-30 s; Dendrite's appservice pushes now and then lag 3-5 s, in
	// either phase.
	stallFactor = 2
	stallSlack  = time.Second
	sampleSlack = 6 * time.Second
	// sampleTimeout outlasts how long a stalled join holds a worker (Dendrite answers
	// the join 202 after 20 s), so that a delayed sample is measured, not cut off.
	sampleTimeout = 45 * time.Second
)

// quietFigures are the quiet customer's latencies in one phase.
type quietFigures struct{ welcome, relay []time.Duration }

// TestSlowRemoteServerDoesNotDelayOthers: a third homeserver stops answering
// federation (connections accepted, nothing answered) while more of its customers
// than the service has workers make the service wait on it: 16 open DMs (the join
// waits on their server) and 4 send images (the download waits). Meanwhile customers
// of the ordinary customer server are welcomed and relayed about as fast as before
// the stall. Once the slow server answers again, its customers' work completes:
// every DM is welcomed, with one conversation, and every image is copied for staff.
func TestSlowRemoteServerDoesNotDelayOthers(t *testing.T) {
	began := time.Now()
	d := newDeployment(t, "sqlite", nil)
	ctx := context.Background()
	acme := businessUser(d)
	remote, err := d.Bed.StartSlowServer(ctx, "remote")
	if err != nil {
		t.Fatal(err)
	}

	// Before the stall: the image senders are welcomed (so the service is in their
	// rooms), the joiners registered, and the quiet customer's baseline taken.
	senders := newRemoteCustomers(t, remote, slowSenders)
	inParallel(t, len(senders), func(i int) error { return senders[i].openDM(ctx, acme) })
	waitAllWelcomed(t, d, senders, sampleTimeout)
	joiners := newRemoteCustomers(t, remote, slowJoiners)
	quiet := newCustomer(t, d, false)
	quietRoom, err := quiet.CreateDM(ctx, acme, false)
	if err != nil {
		t.Fatal(err)
	}
	waitEvent(t, quiet, quietRoom, "the quiet customer's welcome", isWelcome(d))
	desk := openConversation(t, d, quietRoom).DeskRoom
	before := measureQuiet(t, d, quiet, quietRoom, desk, "before")
	setupDone := time.Now()

	remote.Stall()
	images := make([]id.EventID, len(senders))
	inParallel(t, len(senders), func(i int) (err error) {
		images[i], err = senders[i].sendImage(ctx)
		return err
	})
	inParallel(t, len(joiners), func(i int) error { return joiners[i].openDM(ctx, acme) })
	// Every slow room is filed and waits on the slow server before the quiet
	// customer is measured.
	eventually(t, sampleTimeout, "the slow server's rooms filed", func() (bool, error) {
		return pendingRooms(t, d, remote.ServerName) == slowJoiners+slowSenders, nil
	})
	eventually(t, sampleTimeout, "requests held at the slow server", func() (bool, error) { return remote.Waiting() > 0, nil })
	time.Sleep(500 * time.Millisecond) // the workers the transport gives them are taken
	during := measureQuiet(t, d, quiet, quietRoom, desk, "during")
	t.Logf("quiet customer before the stall: welcome %v ms (median %v), relay %v ms (median %v)",
		roundMs(before.welcome), median(before.welcome).Milliseconds(), roundMs(before.relay), median(before.relay).Milliseconds())
	t.Logf("quiet customer during the stall: welcome %v ms (median %v), relay %v ms (median %v)",
		roundMs(during.welcome), median(during.welcome).Milliseconds(), roundMs(during.relay), median(during.relay).Milliseconds())
	// The stall did hold the slow server's customers up.
	waiting := remote.Waiting()
	if n := pendingRooms(t, d, remote.ServerName); n != slowJoiners+slowSenders {
		t.Fatalf("%d of the slow server's %d rooms were handled while it was stalled: the stall held nothing up",
			slowJoiners+slowSenders-n, slowJoiners+slowSenders)
	}
	stalledFor := time.Since(setupDone)
	remote.Resume()

	// Nothing of the slow server's customers is lost.
	recovery := waitAllWelcomed(t, d, joiners, 2*sampleTimeout)
	for i, c := range senders {
		checkImageCopied(t, d, c, images[i])
	}
	for _, c := range joiners {
		if n := conversations(t, d, c.room); n != 1 {
			t.Errorf("%d conversations in %s, want 1", n, c.room)
		}
	}

	t.Logf("setup %v; slow server stalled %v (%d connection directions waiting at its door at the end); "+
		"after it answered, its %d DMs were welcomed within %v; test %v",
		setupDone.Sub(began).Round(time.Millisecond), stalledFor.Round(time.Millisecond), waiting, slowJoiners,
		recovery.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
	checkQuiet(t, "welcome", before.welcome, during.welcome)
	checkQuiet(t, "relay", before.relay, during.relay)
}

// checkQuiet compares the quiet customer's samples during the stall with those before.
func checkQuiet(t *testing.T, what string, before, during []time.Duration) {
	t.Helper()
	if limit := stallFactor*median(before) + stallSlack; median(during) > limit {
		t.Errorf("the quiet customer's %s took %v (median) while another server stalled, over %v (%d × %v + %v)",
			what, median(during), limit, stallFactor, median(before), stallSlack)
	}
	limit := stallFactor*slices.Max(before) + sampleSlack
	for _, x := range during {
		if x > limit {
			t.Errorf("a quiet customer's %s took %v while another server stalled, over %v (%d × %v + %v)",
				what, x, limit, stallFactor, slices.Max(before), sampleSlack)
		}
	}
}

// measureQuiet takes the quiet customer's samples: new customers' welcomes, then
// messages relayed in the quiet customer's conversation.
func measureQuiet(t *testing.T, d *deploy.Deployment, c *mxclient.Client, room, desk id.RoomID, phase string) quietFigures {
	t.Helper()
	var f quietFigures
	for range quietWelcomes {
		f.welcome = append(f.welcome, welcomeLatency(t, d, sampleTimeout))
	}
	for i := range quietRelays {
		// Letters, not digits: a number could read as an answer to the consent prompt.
		body := fmt.Sprintf("Where is my parcel? (%s sample %c)", phase, 'a'+i)
		f.relay = append(f.relay, relayLatency(t, d, c, room, desk, body, sampleTimeout))
	}
	return f
}

// checkImageCopied waits until a slow customer's image is in their desk room as a
// copy on the business homeserver (not a notice that it did not come).
func checkImageCopied(t *testing.T, d *deploy.Deployment, c *remoteCustomer, image id.EventID) {
	t.Helper()
	conv := openConversation(t, d, c.room)
	var copied id.EventID
	eventually(t, sampleTimeout, "the image's copy in the desk room", func() (bool, error) {
		copied = deskCopy(t, d, c.room, image, conv.DeskRoom)
		return copied != "", nil
	})
	ghost, err := mautrix.NewClient(d.Bed.Business.URL, conv.Ghost, d.Config.Appservice.ASToken)
	if err != nil {
		t.Fatal(err)
	}
	ghost.SetAppServiceUserID = true
	evt, err := ghost.GetEvent(context.Background(), conv.DeskRoom, copied)
	if err != nil {
		t.Fatal(err)
	}
	_ = evt.Content.ParseRaw(evt.Type)
	msg := evt.Content.AsMessage()
	if msg == nil || msg.MsgType != event.MsgImage {
		t.Fatalf("the image arrived in the desk room as %+v", evt.Content.Raw)
	}
	if uri, err := msg.URL.Parse(); err != nil || uri.Homeserver != d.Bed.Business.ServerName {
		t.Fatalf("the image's copy is %q, want one on the business homeserver", msg.URL)
	}
}
