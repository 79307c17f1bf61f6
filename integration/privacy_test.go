package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/internal/deploy"
	"github.com/contactcenter/contactcenter/testclient/mxclient"
)

// mxclientView is a staff member's client and the staff rooms to scan through it.
type mxclientView struct {
	c     *mxclient.Client
	rooms []id.RoomID
}

// scanStaffRooms reads every event of the timeline and every state event of each staff
// room, as the homeserver serves them to staff, and fails on any trace of the
// customer's Matrix ID or homeserver name, or of anything else withheld (context the
// customer did not share). It also downloads every media item the events name, as
// staff would, and looks for the same in its headers and bytes (scanMedia). It returns
// how many events and media items it read, so a scan that read nothing cannot pass
// unnoticed.
func scanStaffRooms(t *testing.T, d *deploy.Deployment, customer id.UserID, views []*mxclientView, withheld ...string) (events, media int) {
	t.Helper()
	ctx := context.Background()
	secrets := append([]string{customer.String(), customer.Homeserver(), d.Bed.Customer.ServerName}, withheld...)
	for _, v := range views {
		downloaded := map[string]bool{}
		for _, roomID := range v.rooms {
			read := roomEvents(t, ctx, v.c, roomID)
			if len(read) < 5 {
				t.Fatalf("privacy scan of %s read only %d events", roomID, len(read))
			}
			for _, raw := range read {
				events++
				for _, secret := range secrets {
					if strings.Contains(string(raw), secret) {
						t.Errorf("a staff room event names the customer (%s): %s", secret, raw)
					}
				}
				for _, uri := range mxcURIs.FindAllString(string(raw), -1) {
					if !downloaded[uri] {
						downloaded[uri] = true
						media++
						scanMedia(t, ctx, v.c, uri, secrets)
					}
				}
			}
		}
	}
	return events, media
}

// mxcURIs finds media URIs in an event's JSON, in any field.
var mxcURIs = regexp.MustCompile(`mxc://[^"\\\s]+`)

// scanMedia downloads a media item as a staff member and fails if its headers or bytes
// hold a secret: in the bytes as they are, in the headers also decoded (a file name in
// Content-Disposition may be percent-encoded, as filename* is) and in any case.
func scanMedia(t *testing.T, ctx context.Context, c *mxclient.Client, uri string, secrets []string) {
	t.Helper()
	parsed, err := id.ContentURIString(uri).Parse()
	if err != nil {
		t.Errorf("a staff room names media by a broken URI %q: %v", uri, err)
		return
	}
	resp, err := c.Download(ctx, parsed)
	if err != nil {
		t.Errorf("staff cannot download %s: %v", uri, err)
		return
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Errorf("downloading %s: %v", uri, err)
		return
	}
	headers := []string{resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition")}
	for _, h := range headers[:2] {
		if decoded, err := url.PathUnescape(h); err == nil && decoded != h {
			headers = append(headers, decoded)
		}
		if _, params, err := mime.ParseMediaType(h); err == nil {
			for _, v := range params {
				headers = append(headers, v)
			}
		}
	}
	for _, secret := range secrets {
		for _, h := range headers {
			if strings.Contains(strings.ToLower(h), strings.ToLower(secret)) {
				t.Errorf("media %s names the customer (%s) in its headers: %q", uri, secret, h)
			}
		}
		if bytes.Contains(bytes.ToLower(data), []byte(strings.ToLower(secret))) {
			t.Errorf("media %s holds %s in its bytes", uri, secret)
		}
	}
}

// roomEvents returns the raw JSON of a room's whole timeline and current state.
func roomEvents(t *testing.T, ctx context.Context, c *mxclient.Client, roomID id.RoomID) []json.RawMessage {
	t.Helper()
	var out []json.RawMessage
	from := ""
	for {
		resp, err := c.Messages(ctx, roomID, from, "", mautrix.DirectionBackward, nil, 500)
		if err != nil {
			t.Fatalf("reading %s: %v", roomID, err)
		}
		for _, evt := range resp.Chunk {
			raw, _ := json.Marshal(evt)
			out = append(out, raw)
		}
		// The last page is short; Dendrite keeps handing out an end token.
		if resp.End == "" || resp.End == from || len(resp.Chunk) < 500 {
			break
		}
		from = resp.End
	}
	state, err := c.State(ctx, roomID)
	if err != nil {
		t.Fatalf("reading the state of %s: %v", roomID, err)
	}
	for _, byKey := range state {
		for _, evt := range byKey {
			raw, _ := json.Marshal(evt)
			out = append(out, raw)
		}
	}
	return out
}

// scanCustomerRoom fails if anything written in a side room shows up in the customer
// room, decrypted, as the customer's client saw it.
func scanCustomerRoom(t *testing.T, customer *mxclient.Client, roomID id.RoomID, sideTexts []string) {
	t.Helper()
	events := customer.Events(roomID)
	if len(events) < 5 {
		t.Fatalf("privacy scan of the customer room read only %d events", len(events))
	}
	for _, evt := range events {
		raw, _ := json.Marshal(evt.Content.Raw)
		if evt.Content.Raw == nil {
			raw = evt.Content.VeryRaw
		}
		for _, text := range sideTexts {
			if strings.Contains(string(raw), text) {
				t.Errorf("side-room text %q reached the customer: %s", text, raw)
			}
		}
		if evt.Type == event.EventMessage && evt.Sender != customer.UserID && strings.Contains(evt.Content.AsMessage().Body, "side room") {
			t.Errorf("a side-room notice reached the customer: %s", raw)
		}
	}
}
