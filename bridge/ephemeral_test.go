package bridge

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/routing"
)

// ephemeralHS records the typing and receipt requests the relay sends, and answers a
// ghost's /sync with set responses, one per since.
type ephemeralHS struct {
	mu    sync.Mutex
	asked []string // "METHOD path user_id body"
	syncs map[string]string
}

func (h *ephemeralHS) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	q := r.URL.Query()
	h.mu.Lock()
	defer h.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if strings.HasSuffix(r.URL.Path, "/sync") {
		h.asked = append(h.asked, "SYNC "+q.Get("user_id")+" since="+q.Get("since")+" timeout="+q.Get("timeout"))
		resp, ok := h.syncs[q.Get("since")]
		if !ok {
			resp = `{"next_batch":"end"}`
		}
		_, _ = w.Write([]byte(resp))
		return
	}
	h.asked = append(h.asked, fmt.Sprintf("%s %s %s %s", r.Method, r.URL.Path, q.Get("user_id"), strings.TrimSpace(string(body))))
	_, _ = w.Write([]byte(`{}`))
}

func (h *ephemeralHS) take() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := h.asked
	h.asked = nil
	return out
}

// newTestRelay is the relay of an input bed, talking to a recording homeserver; its
// lanes are not started: tests hand it events directly, in order.
func newTestRelay(t *testing.T, bed *inputBed, cfg config.NativeConfig) (*nativeRelay, *ephemeralHS) {
	t.Helper()
	hs := &ephemeralHS{syncs: map[string]string{}}
	srv := httptest.NewServer(http.HandlerFunc(hs.serve))
	t.Cleanup(srv.Close)
	bed.b.Config.Homeserver.Address = srv.URL
	bed.b.Config.Native = cfg
	r := bed.b.prepareNative()
	r.refreshIndex(context.Background())
	return r, hs
}

func ephemeral(t *testing.T, evtType event.Type, room id.RoomID, sender id.UserID, content string) *event.Event {
	t.Helper()
	evt := &event.Event{Type: evtType, RoomID: room, Sender: sender}
	evt.Type.Class = event.EphemeralEventType
	if err := json.Unmarshal([]byte(content), &evt.Content); err != nil {
		t.Fatal(err)
	}
	if err := evt.Content.ParseRaw(evt.Type); err != nil {
		t.Fatal(err)
	}
	return evt
}

func expectAsked(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("%s: the homeserver was asked\n%s\nwant\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestTypingRelayedBothWaysAndEndedBySend(t *testing.T) {
	ctx := context.Background()
	bed := newInputBed(t)
	r, hs := newTestRelay(t, bed, config.NativeConfig{Typing: true, Receipts: true})
	desk, ghost, business := bed.conv.DeskRoom, bed.conv.Ghost, bed.t.UserID
	typing := func(room id.RoomID, users ...id.UserID) {
		list, _ := json.Marshal(users)
		r.relayTyping(ctx, ephemeral(t, event.EphemeralEventTyping, room, "", `{"user_ids":`+string(list)+`}`))
	}
	deskTyping := "PUT /_matrix/client/v3/rooms/" + desk.String() + "/typing/" + ghost.String() + " " + ghost.String()
	customerTyping := "PUT /_matrix/client/v3/rooms/" + bedCustomerRoom.String() + "/typing/" + business.String() + " " + business.String()

	typing(bedCustomerRoom, bedCustomer)
	typing(bedCustomerRoom, bedCustomer) // still typing: nothing new
	typing(bedCustomerRoom, business)    // the service's own notification is no customer's
	expectAsked(t, "the customer typing, then stopping", hs.take(),
		deskTyping+` {"typing":true,"timeout":30000}`, deskTyping+` {"typing":false}`)

	agent := id.UserID("@carol:" + bedDomain)
	typing(desk, ghost) // the ghost is the service's
	typing(desk, agent, ghost)
	typing("!side:"+bedDomain, agent) // side rooms are neither source nor target
	expectAsked(t, "an agent typing", hs.take(), customerTyping+` {"typing":true,"timeout":30000}`)

	// The business identity's message ends its notification, and a late "still
	// typing" read before the message left does not start it again.
	r.endTypingOnSend(ctx, &database.OutboxEntry{RoomID: bedCustomerRoom, Sender: business, EventType: event.EventMessage})
	typing(desk, agent)
	r.endTypingOnSend(ctx, &database.OutboxEntry{RoomID: bedCustomerRoom, Sender: business, EventType: event.EventMessage})
	expectAsked(t, "the agent's message sent", hs.take(), customerTyping+` {"typing":false}`)

	// A notification that lasts is renewed before it lapses.
	typing(desk)
	typing(desk, agent)
	r.mu.Lock()
	r.typing[typingKey{bedCustomerRoom, business}].at = time.Now().Add(-typingRenewal)
	r.mu.Unlock()
	typing(desk, agent)
	expectAsked(t, "a long notification", hs.take(), customerTyping+` {"typing":true,"timeout":30000}`, customerTyping+` {"typing":true,"timeout":30000}`)

	// The conversation ends: what the relay kept of its rooms goes.
	if _, err := bed.b.DB.Conversation.Close(ctx, bed.conv.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	r.refreshIndex(ctx)
	typing(bedCustomerRoom, bedCustomer)
	r.mu.Lock()
	left := len(r.typing)
	r.mu.Unlock()
	if got := hs.take(); len(got) != 0 || left != 0 {
		t.Fatalf("after the end: asked %v, %d notifications kept", got, left)
	}
}

func TestReceiptsFollowTheEventMapAndStayPublic(t *testing.T) {
	ctx := context.Background()
	bed := newInputBed(t)
	r, hs := newTestRelay(t, bed, config.NativeConfig{Typing: true, Receipts: true})
	desk, side, ghost, business := bed.conv.DeskRoom, bed.conv.SideRoom, bed.conv.Ghost, bed.t.UserID
	agent := id.UserID("@carol:" + bedDomain)
	em := bed.b.DB.EventMap
	// The customer's $c1 was copied as $d1 into the desk room (and $s1 into the side
	// room); the agent's $a1 as $e1 into the customer room.
	for _, step := range []error{
		em.AddCopies(ctx, bedCustomerRoom, "$c1", bedCustomer, bed.conv.ID, []database.Copy{{Room: desk, OutboxKey: "k-d1"}, {Room: side, OutboxKey: "k-s1"}}),
		em.SetCopy(ctx, "k-d1", "$d1"), em.SetCopy(ctx, "k-s1", "$s1"),
		em.AddCopies(ctx, desk, "$a1", agent, bed.conv.ID, []database.Copy{{Room: bedCustomerRoom, OutboxKey: "k-e1"}}),
		em.SetCopy(ctx, "k-e1", "$e1"),
	} {
		if step != nil {
			t.Fatal(step)
		}
	}
	receipt := func(room id.RoomID, evt id.EventID, kind event.ReceiptType, user id.UserID) {
		content := fmt.Sprintf(`{%q:{%q:{%q:{"ts":%d}}}}`, evt, kind, user, time.Now().UnixMilli())
		r.relayReceipts(ctx, ephemeral(t, event.EphemeralEventReceipt, room, "", content))
	}

	receipt(bedCustomerRoom, "$e1", event.ReceiptTypeReadPrivate, bedCustomer)
	receipt(bedCustomerRoom, "$c1", event.ReceiptTypeRead, bedCustomer) // their own message
	receipt(bedCustomerRoom, "$e1", event.ReceiptTypeRead, business)
	expectAsked(t, "private, own and the service's receipts", hs.take())

	receipt(bedCustomerRoom, "$e1", event.ReceiptTypeRead, bedCustomer)
	receipt(bedCustomerRoom, "$e1", event.ReceiptTypeRead, bedCustomer) // told twice, relayed once
	expectAsked(t, "the customer reading the agent's message", hs.take(),
		"POST /_matrix/client/v3/rooms/"+desk.String()+"/receipt/m.read/$a1 "+ghost.String()+" {}")

	receipt(side, "$s1", event.ReceiptTypeRead, agent)
	receipt(desk, "$a1", event.ReceiptTypeRead, agent) // their own
	receipt(desk, "$d1", event.ReceiptTypeReadPrivate, agent)
	expectAsked(t, "side-room, own and private receipts of agents", hs.take())
	receipt(desk, "$d1", event.ReceiptTypeRead, agent)
	expectAsked(t, "an agent reading the customer's message", hs.take(),
		"POST /_matrix/client/v3/rooms/"+bedCustomerRoom.String()+"/receipt/m.read/$c1 "+business.String()+" {}")
}

func TestDeskPollTakesAPositionThenRelays(t *testing.T) {
	ctx := context.Background()
	bed := newInputBed(t)
	agent := id.UserID("@carol:" + bedDomain)
	if won, err := bed.b.DB.Conversation.Assign(ctx, "acme", bed.conv.ID, agent, 3, time.Now()); err != nil || !won {
		t.Fatalf("assign: %v %v", won, err)
	}
	r, hs := newTestRelay(t, bed, config.NativeConfig{Typing: true, Receipts: true})
	desk, ghost := bed.conv.DeskRoom, bed.conv.Ghost
	syncWith := func(next string, room id.RoomID, events ...string) string {
		return fmt.Sprintf(`{"next_batch":%q,"rooms":{"join":{%q:{"ephemeral":{"events":[%s]}}}}}`, next, room, strings.Join(events, ","))
	}
	typing := fmt.Sprintf(`{"type":"m.typing","content":{"user_ids":[%q]}}`, agent)
	receipt := fmt.Sprintf(`{"type":"m.receipt","content":{"$old":{"m.read":{%q:{"ts":1}}}}}`, agent)
	// The first read: its receipt is the room's past, its typing the present.
	hs.syncs[""] = syncWith("s2", desk, receipt, typing)
	hs.syncs["s2"] = syncWith("s3", desk, typing)
	hs.syncs["s3"] = syncWith("s4", "!old:"+bedDomain, typing, receipt)
	idx := r.index.Load()
	for range 3 {
		r.pollDesks(ctx, idx)
	}
	got := hs.take()
	want := []string{"SYNC " + ghost.String() + " since= timeout=0", "SYNC " + ghost.String() + " since=s2 timeout=0", "SYNC " + ghost.String() + " since=s3 timeout=0"}
	expectAsked(t, "three rounds", got, want...)
	var taken []*event.Event
	for _, lane := range r.lanes {
		for len(lane) > 0 {
			taken = append(taken, (<-lane).evt)
		}
	}
	if r.stats.DeskPolls.Load() != 3 || len(taken) != 2 {
		t.Fatalf("polls %d, %d events taken; want 3 polls and the desk room's typing twice (not its past receipt, not another room's)", r.stats.DeskPolls.Load(), len(taken))
	}
	for _, evt := range taken {
		if evt.RoomID != desk || evt.Type != event.EphemeralEventTyping {
			t.Fatalf("took %s in %s", evt.Type.Type, evt.RoomID)
		}
	}
}

func TestPresenceMovesAgentsButNeverToReady(t *testing.T) {
	ctx := context.Background()
	bed := newInputBed(t)
	carol := id.UserID("@carol:" + bedDomain)
	bed.t.Tenant.Staff = []routing.Staff{{UserID: carol.String(), Name: "Carol", Role: routing.RoleAgent}}
	bed.t.Tenant.PresenceAvailability = true
	control := id.RoomID("!control:" + bedDomain)
	if err := firstErr(bed.b.DB.Staff.SetControlRoom(ctx, "acme", carol, control),
		bed.b.DB.Staff.SetStatus(ctx, "acme", carol, routing.Ready, time.Now())); err != nil {
		t.Fatal(err)
	}
	r, _ := newTestRelay(t, bed, config.NativeConfig{})
	presence := func(p event.Presence) routing.Status {
		r.onPresence(ctx, bed.t, ephemeral(t, event.EphemeralEventPresence, "", carol, `{"presence":"`+string(p)+`"}`))
		record, err := bed.b.DB.Staff.Get(ctx, "acme", carol)
		if err != nil {
			t.Fatal(err)
		}
		return record.Status
	}
	notices := func() int {
		var n int
		if err := bed.b.DB.QueryRow(ctx, `SELECT COUNT(*) FROM outbox WHERE room_id = $1`, control).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if got := presence(event.PresenceOnline); got != routing.Ready || notices() != 0 {
		t.Fatalf("online: %s, %d notices", got, notices())
	}
	if got := presence(event.PresenceUnavailable); got != routing.Away || notices() != 1 {
		t.Fatalf("unavailable: %s, %d notices", got, notices())
	}
	if got := presence(event.PresenceOnline); got != routing.Away {
		t.Fatalf("online again set %s: presence never makes anyone ready", got)
	}
	if got := presence(event.PresenceOffline); got != routing.Offline || notices() != 2 {
		t.Fatalf("offline: %s, %d notices", got, notices())
	}
	var body string
	if err := bed.b.DB.QueryRow(ctx, `SELECT content FROM outbox WHERE room_id = $1 ORDER BY id DESC LIMIT 1`, control).Scan(&body); err != nil {
		t.Fatal(err)
	}
	if want, _ := json.Marshal(bot.PresenceMoved("offline", "offline", false)); !strings.Contains(body, strings.Trim(string(want), `"`)) {
		t.Fatalf("the notice: %s", body)
	}
	// Ready again by their own command while the presence stays offline: the same
	// presence seen again moves nobody.
	if err := bed.b.DB.Staff.SetStatus(ctx, "acme", carol, routing.Ready, time.Now()); err != nil {
		t.Fatal(err)
	}
	if got := presence(event.PresenceOffline); got != routing.Ready {
		t.Fatalf("an unchanged presence moved them to %s", got)
	}
	// A tenant without the setting leaves its staff alone.
	bed.t.Tenant.PresenceAvailability = false
	if got := presence(event.PresenceUnavailable); got != routing.Ready {
		t.Fatalf("without presence_availability: %s", got)
	}
}

func TestPushedEphemeralDecodedAndSourcesChosen(t *testing.T) {
	body := `{"events":[],"de.sorunome.msc2409.ephemeral":[{"type":"m.typing","room_id":"!r:x","content":{"user_ids":["@a:x"]}},"not an event",
		{"type":"m.receipt","room_id":"!r:x","content":{"$e":{"m.read":{"@a:x":{"ts":1}}}}}]}`
	_, ext, skipped, err := decodeTransaction([]byte(body))
	if err != nil || skipped != 1 || len(ext.EphemeralEvents) != 2 || ext.EphemeralEvents[0].RoomID != "!r:x" {
		t.Fatalf("decoded %d ephemeral events, skipped %d, err %v", len(ext.EphemeralEvents), skipped, err)
	}
	auto := &nativeRelay{cfg: config.NativeConfig{}, b: &Bridge{Log: zerolog.Nop()}}
	if !auto.takes(false) || !auto.takes(true) || auto.takes(false) {
		t.Fatal("auto: synced ones until the first pushed one, then only pushed ones")
	}
	push := &nativeRelay{cfg: config.NativeConfig{Ephemeral: config.EphemeralPush}}
	sync := &nativeRelay{cfg: config.NativeConfig{Ephemeral: config.EphemeralSync}}
	if push.takes(false) || !push.takes(true) || !sync.takes(false) || sync.takes(true) {
		t.Fatal("push takes only pushed ones, sync only synced ones")
	}
}
