package database_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/database"
)

// TestPruneClosed: what the service keeps about a conversation's events (event map,
// consent reactions, shared locations) goes once the conversation has been closed
// longer than the retention, and not before; open conversations keep theirs.
func TestPruneClosed(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		now := time.UnixMilli(1_800_000_000_000)
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		type conv struct {
			*database.Conversation
			name    string
			control id.RoomID
		}
		start := func(name string) conv {
			room := id.RoomID("!" + name + ":x")
			must(db.CustomerRoom.Put(ctx, &database.CustomerRoom{RoomID: room, TenantID: "acme", Customer: "@c:y", JoinedAt: now}))
			c, err := db.Conversation.Start(ctx, database.NewConversation{TenantID: "acme", RoomID: room, Ghost: "@g:x",
				DeskRoom: id.RoomID("!desk-" + name + ":x"), SideRoom: id.RoomID("!side-" + name + ":x")}, now)
			must(err)
			// Relays both ways with a mirror, the service's own events (a prompt in the
			// customer room, a card in the side room, an offer in a control room), a
			// reaction on the prompt and a shared location.
			must(db.EventMap.Add(ctx, c.RoomID, id.EventID("$hi-"+name), c.DeskRoom, "relay|desk|"+name, "@c:y"))
			must(db.EventMap.Add(ctx, c.RoomID, id.EventID("$hi-"+name), c.SideRoom, "relay|side|"+name, "@c:y"))
			must(db.EventMap.Add(ctx, c.DeskRoom, id.EventID("$re-"+name), c.RoomID, "relay|customer|"+name, "@carol:x"))
			control := id.RoomID("!control-" + name + ":x")
			must(db.EventMap.AddOwn(ctx, c.RoomID, fmt.Sprintf("cc:prompt:%d:1", c.ID), "@acme:x", c.ID))
			must(db.EventMap.AddOwn(ctx, c.SideRoom, fmt.Sprintf("cc:card:%d", c.ID), "@acme:x", 0))
			must(db.EventMap.AddOwn(ctx, control, fmt.Sprintf("cc:offer:%d:@carol:x:1", c.ID), "@acme:x", c.ID))
			must(db.ConsentReactions().Add(ctx, &database.ConsentReaction{RoomID: c.RoomID, EventID: id.EventID("$react-" + name),
				Conversation: c.ID, PromptOrigin: fmt.Sprintf("cc:prompt:%d:1", c.ID), Key: "1️⃣"}))
			must(db.SharedLocations.Add(ctx, &database.SharedLocation{RoomID: c.RoomID, EventID: id.EventID("$here-" + name), Conversation: c.ID}))
			return conv{c, name, control}
		}
		// kept tells whether every trace of a conversation is still there (true) or
		// all of it is gone (false); anything in between fails.
		kept := func(c conv) bool {
			t.Helper()
			var found []bool
			for _, own := range []struct {
				room   id.RoomID
				prefix string
			}{{c.RoomID, fmt.Sprintf("cc:prompt:%d:", c.ID)}, {c.SideRoom, fmt.Sprintf("cc:card:%d", c.ID)}, {c.control, fmt.Sprintf("cc:offer:%d:", c.ID)}} {
				names, err := db.EventMap.Named(ctx, own.room, own.prefix)
				must(err)
				found = append(found, len(names) == 1)
			}
			for _, origin := range []struct {
				room id.RoomID
				evt  string
			}{{c.RoomID, "$hi-"}, {c.DeskRoom, "$re-"}} {
				has, err := db.EventMap.Has(ctx, origin.room, id.EventID(origin.evt+c.name))
				must(err)
				found = append(found, has)
			}
			reaction, err := db.ConsentReactions().Get(ctx, c.RoomID, id.EventID("$react-"+c.name))
			must(err)
			locations, err := db.SharedLocations.Of(ctx, c.ID, c.RoomID)
			must(err)
			found = append(found, reaction != nil, len(locations) == 1)
			if slices.Contains(found, !found[0]) {
				t.Fatalf("conversation %d is pruned in part: %v", c.ID, found)
			}
			return found[0]
		}
		old, recent, open := start("old"), start("recent"), start("open")
		_, err := db.Conversation.Close(ctx, old.ID, now.Add(-100*24*time.Hour))
		must(err)
		_, err = db.Conversation.Close(ctx, recent.ID, now.Add(-24*time.Hour))
		must(err)
		if !kept(old) || !kept(recent) || !kept(open) {
			t.Fatal("traces missing before pruning")
		}
		n, err := db.PruneClosed(ctx, now.Add(-90*24*time.Hour))
		must(err)
		if n != 8 || kept(old) || !kept(recent) || !kept(open) {
			t.Fatalf("pruned %d rows; old kept %v, recent kept %v, open kept %v", n, kept(old), kept(recent), kept(open))
		}
		if n, err = db.PruneClosed(ctx, now.Add(-90*24*time.Hour)); err != nil || n != 0 {
			t.Fatalf("pruning again: %d, %v", n, err)
		}
	})
}
