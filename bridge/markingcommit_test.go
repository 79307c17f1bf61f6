package bridge

import (
	"context"
	"testing"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/internal/dbtest"
)

// A customer's message that the service only relays is committed, on PostgreSQL, as
// one statement that queues its copies and marks it handled, without a transaction
// around it; a message the consent logic may take (a possible answer to a prompt, a
// command) is committed as before. On SQLite every commit is a transaction. Each is
// relayed once to the desk and the side room, or answered.
func TestRelayedMessageCommittedInOneStatement(t *testing.T) {
	for _, dbType := range dbtest.Types {
		t.Run(dbType, func(t *testing.T) {
			bed := newInputBedOn(t, dbType)
			ctx := zerolog.New(zerolog.NewTestWriter(t)).WithContext(context.Background())
			if lease := bed.b.queues().Lease("inbox"); lease != nil {
				if ok, err := lease.Acquire(ctx, bedCustomerRoom); err != nil || !ok {
					t.Fatalf("lease: %v %v", ok, err)
				}
			}
			marking := countQueries(bed, "handled AS (")
			begins := countQueries(bed, "Begin")
			handle := func(name string, evtType event.Type, content any, relayed bool, wantMarking, wantBegins int32) {
				t.Helper()
				marking.n.Store(0)
				begins.n.Store(0)
				evtID := bed.file(t, bedCustomer, evtType, content)
				bed.b.drainInbox(ctx, bedCustomerRoom)
				if done, lastError := bed.handled(t, evtID); !done || lastError != "" {
					t.Fatalf("%s: handled %v, last error %q", name, done, lastError)
				}
				if m, b := marking.n.Load(), begins.n.Load(); m != wantMarking || b != wantBegins {
					t.Errorf("%s: %d statements with the mark, %d transactions; want %d and %d", name, m, b, wantMarking, wantBegins)
				}
				for _, room := range []id.RoomID{bed.conv.DeskRoom, bed.conv.SideRoom} {
					if n := len(bed.queuedFor(t, room, evtID)); relayed != (n == 1) || n > 1 {
						t.Errorf("%s: %d copies in %s (relayed: %v)", name, n, room, relayed)
					}
				}
			}
			text := func(body string) *event.MessageEventContent {
				return &event.MessageEventContent{MsgType: event.MsgText, Body: body}
			}
			// A plain relay: one statement with the mark on PostgreSQL, else a transaction.
			marks, txns := int32(1), int32(0)
			if dbType != "postgres" {
				marks, txns = 0, 1
			}
			handle("a plain message", event.EventMessage, text("hello"), true, marks, txns)
			sticker := bed.hs.put("cat", fakeMedia{contentType: "image/png", data: []byte("a cat")})
			handle("a sticker", event.EventSticker, &event.MessageEventContent{Body: "a cat", URL: sticker}, true, marks, txns)
			handle("an edit", event.EventMessage, &event.MessageEventContent{MsgType: event.MsgText, Body: "* all",
				NewContent: text("all"), RelatesTo: &event.RelatesTo{Type: event.RelReplace, EventID: "$customer1"}}, true, marks, txns)
			// "all" may answer a consent prompt: the prompts are read in the commit.
			handle("a possible answer", event.EventMessage, text("all"), true, 0, 1)
			handle("a command", event.EventMessage, text("!privacy"), false, 0, 1)
		})
	}
}
