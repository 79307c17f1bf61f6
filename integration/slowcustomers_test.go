package integration

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"slices"
	"sync"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/internal/deploy"
	"github.com/contactcenter/contactcenter/testbed"
	"github.com/contactcenter/contactcenter/testclient/mxclient"
)

// remoteCustomer is a customer of the slow server, with a plain mautrix client and no
// sync loop: many of them run at once, and each only creates a DM, sends and reads it.
type remoteCustomer struct {
	*mautrix.Client
	room id.RoomID
}

// newRemoteCustomers registers n customers on the slow server, in parallel.
func newRemoteCustomers(t *testing.T, remote *testbed.SlowServer, n int) []*remoteCustomer {
	t.Helper()
	out := make([]*remoteCustomer, n)
	inParallel(t, n, func(i int) error {
		name := fmt.Sprintf("slow%d", userCounter.Add(1))
		acct, err := remote.Register(context.Background(), name, name+"-password", false)
		if err != nil {
			return err
		}
		cli, err := mautrix.NewClient(remote.URL, id.UserID(acct.UserID), acct.AccessToken)
		if err != nil {
			return err
		}
		out[i] = &remoteCustomer{Client: cli}
		return nil
	})
	return out
}

// openDM creates the customer's DM with the business identity, as Element does.
func (c *remoteCustomer) openDM(ctx context.Context, business id.UserID) error {
	resp, err := c.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "trusted_private_chat", IsDirect: true, Invite: []id.UserID{business}})
	if err != nil {
		return err
	}
	c.room = resp.RoomID
	return nil
}

// welcomed reports whether the welcome has reached the customer's own server.
func (c *remoteCustomer) welcomed(ctx context.Context, d *deploy.Deployment) (bool, error) {
	resp, err := c.Messages(ctx, c.room, "", "", mautrix.DirectionBackward, nil, 50)
	if err != nil {
		return false, err
	}
	for _, evt := range resp.Chunk {
		_ = evt.Content.ParseRaw(evt.Type)
		if isWelcome(d)(evt) {
			return true, nil
		}
	}
	return false, nil
}

// waitAllWelcomed waits until every customer's server has their welcome, and returns
// how long that took.
func waitAllWelcomed(t *testing.T, d *deploy.Deployment, customers []*remoteCustomer, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	waiting := slices.Clone(customers)
	eventually(t, timeout, "every slow customer's welcome", func() (bool, error) {
		waiting = slices.DeleteFunc(waiting, func(c *remoteCustomer) bool {
			ok, err := c.welcomed(context.Background(), d)
			return err == nil && ok
		})
		return len(waiting) == 0, nil
	})
	return time.Since(start)
}

// sendImage uploads a small PNG to the customer's server and sends it in their DM.
func (c *remoteCustomer) sendImage(ctx context.Context) (id.EventID, error) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 4, 4))); err != nil {
		return "", err
	}
	up, err := c.UploadBytesWithName(ctx, buf.Bytes(), "image/png", "photo.png")
	if err != nil {
		return "", err
	}
	resp, err := c.SendMessageEvent(ctx, c.room, event.EventMessage, &event.MessageEventContent{
		MsgType: event.MsgImage, Body: "photo.png", URL: up.ContentURI.CUString(),
		Info: &event.FileInfo{MimeType: "image/png", Size: buf.Len()},
	})
	if err != nil {
		return "", err
	}
	return resp.EventID, nil
}

// inParallel runs fn(0..n-1) at once and fails the test with the first error.
func inParallel(t *testing.T, n int, fn func(i int) error) {
	t.Helper()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn(i)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// deskCopy is the event ID of the relayed copy of a customer's event in the desk
// room, "" until the homeserver has taken it.
func deskCopy(t *testing.T, d *deploy.Deployment, room id.RoomID, evt id.EventID, desk id.RoomID) id.EventID {
	t.Helper()
	var copied *string
	err := d.Service.DB.QueryRow(context.Background(),
		`SELECT copy_event FROM event_map WHERE origin_room = $1 AND origin_event = $2 AND copy_room = $3`,
		room.String(), evt.String(), desk.String()).Scan(&copied)
	if err != nil || copied == nil {
		return ""
	}
	return id.EventID(*copied)
}

// pendingRooms counts the rooms of a server with inbox entries not yet handled.
func pendingRooms(t *testing.T, d *deploy.Deployment, serverName string) int {
	t.Helper()
	var n int
	err := d.Service.DB.QueryRow(context.Background(),
		`SELECT COUNT(DISTINCT room_id) FROM inbox WHERE handled_at IS NULL AND room_id LIKE $1`,
		"%:"+serverName).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// welcomeLatency is a new quiet customer's wait for the welcome: from creating the
// DM until their client shows the welcome.
func welcomeLatency(t *testing.T, d *deploy.Deployment, timeout time.Duration) time.Duration {
	t.Helper()
	ctx := context.Background()
	c := newCustomer(t, d, false)
	start := time.Now()
	room, err := c.CreateDM(ctx, businessUser(d), false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err = c.WaitFor(ctx, room, timeout, isWelcome(d)); err != nil {
		t.Fatalf("a quiet customer's welcome: %v", err)
	}
	return time.Since(start)
}

// relayLatency is one message's relay: from the customer sending it until its copy
// in the desk room has been taken by the business homeserver.
func relayLatency(t *testing.T, d *deploy.Deployment, c *mxclient.Client, room, desk id.RoomID, body string, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	evt, err := c.SendText(context.Background(), room, body)
	if err != nil {
		t.Fatal(err)
	}
	for deskCopy(t, d, room, evt, desk) == "" {
		if time.Since(start) > timeout {
			t.Fatalf("%q not relayed after %s", body, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start)
}

// median of a non-empty sample.
func median(xs []time.Duration) time.Duration {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// roundMs formats durations in milliseconds for the test's figures.
func roundMs(xs []time.Duration) []int64 {
	out := make([]int64, len(xs))
	for i, x := range xs {
		out[i] = x.Milliseconds()
	}
	return out
}
