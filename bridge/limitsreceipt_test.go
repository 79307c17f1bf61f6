package bridge

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/routing"
)

// A flood over the event limit is settled when its transaction is received: the
// events within the limit are relayed, the first one over it only tells the customer,
// the rest are stored handled with the reason and never reach a handler. Staff, state
// events and other customers are not charged, and a repeated transaction loses nothing.
func TestCustomerEventsLimitedOnReceipt(t *testing.T) {
	bed := newInputBed(t)
	bed.b.Config.Limits.CustomerEvents = config.RateConfig{Every: time.Hour, Burst: 3}
	bed.b.initLimits()
	ctx := zerolog.New(zerolog.NewTestWriter(t)).WithContext(context.Background())
	staff := id.UserID("@carol:staff.example")
	bed.t.live.staff.Store(&[]routing.Staff{{UserID: staff.String(), Name: "Carol"}})
	ev := func(key string, sender id.UserID, typ string, stateKey *string) json.RawMessage {
		e := map[string]any{"type": typ, "event_id": key, "room_id": bedCustomerRoom, "sender": sender,
			"origin_server_ts": time.Now().UnixMilli(), "content": map[string]any{"msgtype": "m.text", "body": "message " + key}}
		if stateKey != nil {
			e["state_key"] = *stateKey
			e["content"] = map[string]any{"topic": "t"}
		}
		raw, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	empty := ""
	var txn []json.RawMessage
	for i := range 6 {
		txn = append(txn, ev(fmt.Sprintf("$flood%d", i), bedCustomer, "m.room.message", nil))
	}
	txn = append(txn, ev("$staff", staff, "m.room.message", nil), ev("$topic", bedCustomer, "m.room.topic", &empty))
	stored, pending, err := bed.b.storeEvents(ctx, txn)
	if err != nil || stored != len(txn) || len(pending) == 0 {
		t.Fatalf("stored %d of %d (pending %v): %v", stored, len(txn), pending, err)
	}
	want := map[string]struct {
		source  database.InboxSource
		settled bool
	}{
		"$flood0": {database.SourceWithinLimit, false}, "$flood1": {database.SourceWithinLimit, false},
		"$flood2": {database.SourceWithinLimit, false}, "$flood3": {database.SourceOverLimit, false},
		"$flood4": {database.SourceOverLimit, true}, "$flood5": {database.SourceOverLimit, true},
		"$staff": {database.SourceTransaction, false}, "$topic": {database.SourceTransaction, false},
	}
	for key, w := range want {
		var source string
		var handledAt *int64
		var lastErr *string
		if err := bed.b.DB.QueryRow(ctx, `SELECT source, handled_at, last_error FROM inbox WHERE event_key = $1`, key).
			Scan(&source, &handledAt, &lastErr); err != nil {
			t.Fatal(err)
		}
		if database.InboxSource(source) != w.source || (handledAt != nil) != w.settled ||
			(w.settled && (lastErr == nil || *lastErr != database.OverLimitReason)) {
			t.Errorf("%s: source %s, settled %v, reason %v; want %s, settled %v", key, source, handledAt != nil, lastErr, w.source, w.settled)
		}
	}
	// Handled twice over (a second drain, and the transaction again): still the three
	// within the limit relayed, the customer told once, nothing pending.
	bed.b.drainInbox(ctx, bedCustomerRoom)
	if stored, _, err = bed.b.storeEvents(ctx, txn); err != nil || stored != 0 {
		t.Fatalf("repeated transaction stored %d: %v", stored, err)
	}
	bed.b.drainInbox(ctx, bedCustomerRoom)
	for i := range 4 {
		if done, lastErr := bed.handled(t, id.EventID(fmt.Sprintf("$flood%d", i))); !done || lastErr != "" {
			t.Fatalf("message %d not finished: %v %q", i, done, lastErr)
		}
	}
	var relayed, told int
	for _, q := range bed.outbox(t) {
		switch {
		case q.room == bed.conv.DeskRoom && strings.Contains(q.content, "message $flood"):
			relayed++
		case q.room == bedCustomerRoom && q.message().Body == bot.SlowDown:
			told++
		}
	}
	if relayed != 3 || told != 1 {
		t.Fatalf("%d messages relayed (want the 3 within the limit), told %d times (want once)", relayed, told)
	}
	// Settled on receipt, the rest of a flood alone wakes no handler.
	if _, pending, err = bed.b.storeEvents(ctx, []json.RawMessage{ev("$flood6", bedCustomer, "m.room.message", nil)}); err != nil || len(pending) > 0 {
		t.Fatalf("a flood's later event left pending (%v): %v", pending, err)
	}
	if _, _, err = bed.b.storeEvents(ctx, []json.RawMessage{ev("$alice", "@alice:other.example", "m.room.message", nil)}); err != nil {
		t.Fatal(err)
	}
	var source string
	if err = bed.b.DB.QueryRow(ctx, `SELECT source FROM inbox WHERE event_key = '$alice'`).Scan(&source); err != nil ||
		database.InboxSource(source) != database.SourceWithinLimit {
		t.Fatalf("another customer's event: %s (%v), want within the limit", source, err)
	}
}
