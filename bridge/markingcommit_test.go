package bridge

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/internal/dbtest"
	"github.com/contactcenter/contactcenter/reporting"
	"github.com/contactcenter/contactcenter/routing"
)

// A message that the service only relays is committed, on PostgreSQL, as one
// statement that queues its copies and marks it handled, without a transaction around
// it: a customer's message the consent logic does not take, an agent's message once
// the conversation's first response is logged. A customer's message the consent
// logic may take (a possible answer to a prompt, a command) and an agent's first are
// committed in a transaction. On SQLite every commit is a transaction. Each is relayed
// once, or answered.
func TestRelayedMessageCommittedInOneStatement(t *testing.T) {
	for _, dbType := range dbtest.Types {
		t.Run(dbType, func(t *testing.T) {
			bed := newInputBedOn(t, dbType)
			ctx := zerolog.New(zerolog.NewTestWriter(t)).WithContext(context.Background())
			agent := id.UserID("@carol:" + bedDomain)
			bed.t.Tenant.Staff = []routing.Staff{{UserID: agent.String(), Name: "Carol", Role: routing.RoleAgent}}
			if err := bed.b.DB.Participants.Add(ctx, bed.conv.ID, agent, database.RoleAgent, time.Now()); err != nil {
				t.Fatal(err)
			}
			if lease := bed.b.queues().Lease("inbox"); lease != nil {
				for _, room := range []id.RoomID{bedCustomerRoom, bed.conv.DeskRoom} {
					if ok, err := lease.Acquire(ctx, room); err != nil || !ok {
						t.Fatalf("lease: %v %v", ok, err)
					}
				}
			}
			marking := countQueries(bed, "handled AS (")
			begins := countQueries(bed, "Begin")
			// A plain relay: one statement with the mark on PostgreSQL, else a transaction.
			marks, txns := int32(1), int32(0)
			if dbType != "postgres" {
				marks, txns = 0, 1
			}
			handle := func(name string, room id.RoomID, sender id.UserID, evtType event.Type, content any, relayed bool, wantMarking, wantBegins int32) {
				t.Helper()
				marking.n.Store(0)
				begins.n.Store(0)
				evtID := bed.fileIn(t, room, sender, evtType, content)
				bed.b.drainInbox(ctx, room)
				if done, lastError := bed.handled(t, evtID); !done || lastError != "" {
					t.Fatalf("%s: handled %v, last error %q", name, done, lastError)
				}
				if m, b := marking.n.Load(), begins.n.Load(); m != wantMarking || b != wantBegins {
					t.Errorf("%s: %d statements with the mark, %d transactions; want %d and %d", name, m, b, wantMarking, wantBegins)
				}
				to := []id.RoomID{bed.conv.DeskRoom, bed.conv.SideRoom}
				if room == bed.conv.DeskRoom {
					to[0] = bedCustomerRoom
				}
				for _, room := range to {
					if n := len(bed.queuedFor(t, room, evtID)); relayed != (n == 1) || n > 1 {
						t.Errorf("%s: %d copies in %s (relayed: %v)", name, n, room, relayed)
					}
				}
			}
			customer := func(name string, evtType event.Type, content any, relayed bool, wantMarking, wantBegins int32) {
				t.Helper()
				handle(name, bedCustomerRoom, bedCustomer, evtType, content, relayed, wantMarking, wantBegins)
			}
			text := func(body string) *event.MessageEventContent {
				return &event.MessageEventContent{MsgType: event.MsgText, Body: body}
			}
			customer("a plain message", event.EventMessage, text("hello"), true, marks, txns)
			sticker := bed.hs.put("cat", fakeMedia{contentType: "image/png", data: []byte("a cat")})
			customer("a sticker", event.EventSticker, &event.MessageEventContent{Body: "a cat", URL: sticker}, true, marks, txns)
			customer("an edit", event.EventMessage, &event.MessageEventContent{MsgType: event.MsgText, Body: "* all",
				NewContent: text("all"), RelatesTo: &event.RelatesTo{Type: event.RelReplace, EventID: "$customer1"}}, true, marks, txns)
			// "all" may answer a consent prompt: the prompts are read in the commit.
			customer("a possible answer", event.EventMessage, text("all"), true, 0, 1)
			customer("a command", event.EventMessage, text("!privacy"), false, 0, 1)

			handle("the agent's first answer", bed.conv.DeskRoom, agent, event.EventMessage, text("Hello, Carol here."), true, 0, 1)
			handle("the agent's next", bed.conv.DeskRoom, agent, event.EventMessage, text("How can I help?"), true, marks, txns)
			var firsts int
			if err := bed.b.DB.QueryRow(ctx, `SELECT COUNT(*) FROM contact_log WHERE conversation_id = $1 AND kind = $2`,
				bed.conv.ID, string(reporting.FirstResponse)).Scan(&firsts); err != nil || firsts != 1 {
				t.Errorf("first responses logged: %d, %v", firsts, err)
			}
		})
	}
}
