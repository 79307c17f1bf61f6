package database_test

import (
	"context"
	"testing"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/internal/dbtest"
)

// The copies of one relayed event are queued in one statement (PostgreSQL) or one
// each for the outbox and the event map (SQLite): in the order given, once however often they are queued, noted
// for the wake-up, and found again by Translate once sent.
func TestRelayCopiesInOneStatement(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		now := time.UnixMilli(1_700_000_000_000)
		origin, desk, side := id.RoomID("!dm:y"), id.RoomID("!desk:x"), id.RoomID("!side:x")
		rows := []database.OutboxRow{
			{DedupeKey: "relay|desk|$m", RoomID: desk, Sender: "@ghost:x", EventType: event.EventMessage, Content: map[string]string{"body": "a"}, RefsFrom: origin},
			{DedupeKey: "relay|side|$m", RoomID: side, Sender: "@acme:x", EventType: event.EventMessage, Content: map[string]string{"body": "b"}, RefsFrom: origin},
			{DedupeKey: "relay|desk|$m2", RoomID: desk, Sender: "@ghost:x", EventType: event.EventMessage, Content: map[string]string{"body": "c"}},
		}
		copies := []database.Copy{{Room: desk, OutboxKey: "relay|desk|$m"}, {Room: side, OutboxKey: "relay|side|$m"}}
		for range 2 {
			collect, queued := database.CollectEnqueued(ctx)
			err := db.DoTxn(collect, nil, func(ctx context.Context) error {
				return db.QueueCopies(ctx, database.RelayedEvent{Room: origin, Event: "$m", Author: "@c:y", Conversation: 7}, rows, copies, now)
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := queued.Rooms(); len(got) != 2 || got[0] != desk || got[1] != side {
				t.Fatalf("rooms noted = %v", got)
			}
		}
		heads, err := db.Outbox.Heads(ctx, desk, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(heads) != 2 || heads[0].DedupeKey != "relay|desk|$m" || heads[1].DedupeKey != "relay|desk|$m2" ||
			heads[0].RefsFrom != origin || heads[1].RefsFrom != "" || string(heads[0].Content) != `{"body":"a"}` {
			t.Fatalf("desk heads = %+v", heads)
		}
		if err = db.EventMap.SetCopy(ctx, "relay|side|$m", "$copy"); err != nil {
			t.Fatal(err)
		}
		if got, err := db.EventMap.Translate(ctx, origin, "$m", side); err != nil || got != "$copy" {
			t.Fatalf("Translate = %q, %v", got, err)
		}
		if author, err := db.EventMap.AuthorOf(ctx, side, "$copy"); err != nil || author != "@c:y" {
			t.Fatalf("AuthorOf = %q, %v", author, err)
		}
		var conv int64
		if err = db.QueryRow(ctx, `SELECT conversation_id FROM event_map WHERE outbox_key = 'relay|desk|$m'`).Scan(&conv); err != nil || conv != 7 {
			t.Fatalf("conversation = %d, %v", conv, err)
		}
		var n int
		if err = db.QueryRow(ctx, `SELECT COUNT(*) FROM outbox`).Scan(&n); err != nil || n != 3 {
			t.Fatalf("outbox rows = %d, %v", n, err)
		}
	})
}

// Rows marked sent complete their copies in the event map in the same write, only
// while the room's lease is held when one is given; rows without a copy are marked
// all the same.
func TestSentRowsCompleteTheEventMap(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		now := time.UnixMilli(1_700_000_000_000)
		origin, desk := id.RoomID("!dm:y"), id.RoomID("!desk:x")
		rows := []database.OutboxRow{
			{DedupeKey: "relay|desk|$a", RoomID: desk, Sender: "@ghost:x", EventType: event.EventMessage, Content: map[string]string{"body": "a"}},
			{DedupeKey: "notice|desk", RoomID: desk, Sender: "@acme:x", EventType: event.EventMessage, Content: map[string]string{"body": "n"}},
		}
		err := db.QueueCopies(ctx, database.RelayedEvent{Room: origin, Event: "$a", Author: "@c:y", Conversation: 1},
			rows[:1], []database.Copy{{Room: desk, OutboxKey: "relay|desk|$a"}}, now)
		if err == nil {
			err = db.Outbox.EnqueueMany(ctx, rows[1:], now)
		}
		if err != nil {
			t.Fatal(err)
		}
		heads, err := db.Outbox.Heads(ctx, desk, 10)
		if err != nil || len(heads) != 2 {
			t.Fatalf("heads: %d, %v", len(heads), err)
		}
		sent := []database.Sent{{ID: heads[0].ID, Key: heads[0].DedupeKey, EventID: "$copy-a"}, {ID: heads[1].ID, Key: heads[1].DedupeKey, EventID: "$notice"}}
		var lease *database.LeaseHeld // leases are for replicas, which share PostgreSQL
		if db.Dialect == dbutil.Postgres {
			lease = &database.LeaseHeld{Queue: "outbox", RoomID: desk, Holder: "this replica", Now: now}
			if held, err := db.Outbox.MarkSentMany(ctx, sent, now, lease); err != nil || held {
				t.Fatalf("without the lease: held %v, %v", held, err)
			}
			if got, _ := db.EventMap.Translate(ctx, origin, "$a", desk); got != "" {
				t.Fatalf("copy recorded without the lease: %q", got)
			}
			if ok, err := db.Leases.Acquire(ctx, "outbox", desk, "this replica", now, time.Minute); err != nil || !ok {
				t.Fatalf("lease: %v %v", ok, err)
			}
		}
		if held, err := db.Outbox.MarkSentMany(ctx, sent, now, lease); err != nil || !held {
			t.Fatalf("with the lease: held %v, %v", held, err)
		}
		if got, err := db.EventMap.Translate(ctx, origin, "$a", desk); err != nil || got != "$copy-a" {
			t.Fatalf("Translate = %q, %v", got, err)
		}
		for _, key := range []string{"relay|desk|$a", "notice|desk"} {
			if evt, err := db.Outbox.SentEventID(ctx, key); err != nil || evt == "" {
				t.Fatalf("%s not marked sent: %q %v", key, evt, err)
			}
		}
		if n, err := db.Outbox.CountPending(ctx); err != nil || n != 0 {
			t.Fatalf("pending after the marks: %d %v", n, err)
		}
	})
}

// A relayed event's copies and its inbox entry's mark are one write: without the
// room's lease (replicas) neither is made; with it, or without a lease to check, both
// are, once however often the write runs.
func TestRelayCopiesWithTheirMark(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		now := time.UnixMilli(1_700_000_000_000)
		origin, desk, side := id.RoomID("!dm:y"), id.RoomID("!desk:x"), id.RoomID("!side:x")
		if _, err := db.Inbox.Insert(ctx, "$m", origin, database.SourceTransaction, []byte(`{}`), now); err != nil {
			t.Fatal(err)
		}
		entry, err := db.Inbox.Head(ctx, origin)
		if err != nil || entry == nil {
			t.Fatalf("head: %v %v", entry, err)
		}
		rows := []database.OutboxRow{
			{DedupeKey: "relay|desk|$m", RoomID: desk, Sender: "@ghost:x", EventType: event.EventMessage, Content: map[string]string{"body": "a"}, RefsFrom: origin},
			{DedupeKey: "relay|side|$m", RoomID: side, Sender: "@acme:x", EventType: event.EventMessage, Content: map[string]string{"body": "b"}, RefsFrom: origin},
		}
		copies := []database.Copy{{Room: desk, OutboxKey: rows[0].DedupeKey}, {Room: side, OutboxKey: rows[1].DedupeKey}}
		relayed := database.RelayedEvent{Room: origin, Event: "$m", Author: "@c:y", Conversation: 7}
		count := func(table string) (n int) {
			if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		mark := &database.InboxMark{Seq: entry.Seq, At: now}
		queue := func() (bool, []id.RoomID) {
			collect, queued := database.CollectEnqueued(ctx)
			held, err := db.QueueCopiesMarking(collect, relayed, rows, copies, now, mark)
			if err != nil {
				t.Fatal(err)
			}
			return held, queued.Rooms()
		}
		lease := &database.LeaseHeld{Queue: "inbox", RoomID: origin, Holder: "this replica", Now: now}
		if db.Dialect == dbutil.Postgres { // leases are for replicas, which share PostgreSQL
			mark.Lease = lease
			if held, noted := queue(); held || len(noted) != 0 {
				t.Fatalf("without the lease: held %v, noted %v", held, noted)
			}
			if n, m := count("outbox"), count("event_map"); n != 0 || m != 0 {
				t.Fatalf("written without the lease: %d outbox rows, %d copies", n, m)
			}
			if head, err := db.Inbox.Head(ctx, origin); err != nil || head == nil {
				t.Fatalf("marked without the lease: %v %v", head, err)
			}
			if ok, err := db.Leases.Acquire(ctx, "inbox", origin, "this replica", now, time.Minute); err != nil || !ok {
				t.Fatalf("lease: %v %v", ok, err)
			}
		}
		for range 2 {
			if held, noted := queue(); !held || len(noted) != 2 || noted[0] != desk || noted[1] != side {
				t.Fatalf("with the lease: held %v, noted %v", held, noted)
			}
		}
		if head, err := db.Inbox.Head(ctx, origin); err != nil || head != nil {
			t.Fatalf("not marked: %v %v", head, err)
		}
		if n, m := count("outbox"), count("event_map"); n != 2 || m != 2 {
			t.Fatalf("%d outbox rows, %d copies, want 2 and 2", n, m)
		}
		heads, err := db.Outbox.Heads(ctx, desk, 10)
		if err != nil || len(heads) != 1 || heads[0].RefsFrom != origin || string(heads[0].Content) != `{"body":"a"}` {
			t.Fatalf("desk heads = %+v, %v", heads, err)
		}
		var conv int64
		if err = db.QueryRow(ctx, `SELECT conversation_id FROM event_map WHERE outbox_key = 'relay|side|$m'`).Scan(&conv); err != nil || conv != 7 {
			t.Fatalf("conversation = %d, %v", conv, err)
		}
	})
}

// Sends' records of several rooms are one statement on PostgreSQL: each room's rows
// are marked sent, with their copies' event IDs in the event map, only while its
// lease is held; the rooms held are returned.
func TestSentRowsOfSeveralRoomsUnderTheirLeases(t *testing.T) {
	db := dbtest.Open(t, "postgres")
	ctx := context.Background()
	now := time.UnixMilli(1_700_000_000_000)
	origin := id.RoomID("!dm:y")
	held, lost := id.RoomID("!held:x"), id.RoomID("!lost:x")
	var sent []database.Sent
	for _, room := range []id.RoomID{held, lost} {
		key := "relay|" + room.String()
		err := db.QueueCopies(ctx, database.RelayedEvent{Room: origin, Event: "$a", Author: "@c:y", Conversation: 1},
			[]database.OutboxRow{{DedupeKey: key, RoomID: room, Sender: "@ghost:x", EventType: event.EventMessage, Content: map[string]string{"body": "a"}}},
			[]database.Copy{{Room: room, OutboxKey: key}}, now)
		if err != nil {
			t.Fatal(err)
		}
		heads, err := db.Outbox.Heads(ctx, room, 10)
		if err != nil || len(heads) != 1 {
			t.Fatalf("heads: %d, %v", len(heads), err)
		}
		sent = append(sent, database.Sent{ID: heads[0].ID, Key: key, EventID: id.EventID("$copy-in-" + room.String())})
	}
	if ok, err := db.Leases.Acquire(ctx, "outbox", held, "this replica", now, time.Minute); err != nil || !ok {
		t.Fatalf("lease: %v %v", ok, err)
	}
	if ok, err := db.Leases.Acquire(ctx, "outbox", lost, "another replica", now, time.Minute); err != nil || !ok {
		t.Fatalf("the other's lease: %v %v", ok, err)
	}
	leases := database.LeasesHeld{Queue: "outbox", Rooms: []id.RoomID{held, lost}, Holder: "this replica", Now: now}
	for range 2 { // the same records again change nothing
		rooms, err := db.Outbox.MarkSentHeld(ctx, sent, leases)
		if err != nil || len(rooms) != 1 || !rooms[held] {
			t.Fatalf("rooms held: %v, %v; want only %s", rooms, err, held)
		}
		if got, err := db.EventMap.Translate(ctx, origin, "$a", held); err != nil || got != sent[0].EventID {
			t.Fatalf("copy in the held room: %q, %v", got, err)
		}
		if got, _ := db.EventMap.Translate(ctx, origin, "$a", lost); got != "" {
			t.Fatalf("copy recorded in the room lost: %q", got)
		}
		if evt, _ := db.Outbox.SentEventID(ctx, "relay|"+lost.String()); evt != "" {
			t.Fatalf("the row of the room lost marked sent: %q", evt)
		}
		if n, err := db.Outbox.CountPending(ctx); err != nil || n != 1 {
			t.Fatalf("pending: %d %v; want the lost room's row", n, err)
		}
	}
}

// The records' statement keeps its generic plan after PostgreSQL's five custom plans:
// planned again on every call, which its array parameters cause when the generic
// plan counts them ten rows long, the planning costs more than the statement.
func TestSentRowsStatementKeepsItsPlan(t *testing.T) {
	db := dbtest.Open(t, "postgres")
	db.RawDB.SetMaxOpenConns(1) // one session, whose prepared statements are counted
	ctx := context.Background()
	now := time.UnixMilli(1_700_000_000_000)
	room := id.RoomID("!desk:x")
	if ok, err := db.Leases.Acquire(ctx, "outbox", room, "this replica", now, time.Minute); err != nil || !ok {
		t.Fatalf("lease: %v %v", ok, err)
	}
	// Tables of a service at work, and their statistics, which the plans' costs are
	// estimated from.
	for _, fill := range []string{
		`INSERT INTO room_lease SELECT 'outbox', '!r' || i, 'this replica', 0 FROM generate_series(1, 150) i`,
		`INSERT INTO outbox (dedupe_key, room_id, sender, event_type, content, created_at)
			SELECT 'k' || i, '!r' || i % 150, '@ghost:x', 'm.room.message', '{"body":"a"}', 1 FROM generate_series(1, 5000) i`,
		`INSERT INTO event_map (origin_room, origin_event, copy_room, outbox_key, author)
			SELECT '!dm' || i % 150, '$e' || i, '!r' || i % 150, 'k' || i, '@c:y' FROM generate_series(1, 5000) i`,
		`ANALYZE room_lease, outbox, event_map`,
	} {
		if _, err := db.Exec(ctx, fill); err != nil {
			t.Fatal(err)
		}
	}
	leases := database.LeasesHeld{Queue: "outbox", Rooms: []id.RoomID{room}, Holder: "this replica", Now: now}
	const calls = 9
	for i := range calls {
		batch := []database.Sent{{ID: int64(2 * i), EventID: "$a"}, {ID: int64(2*i + 1), EventID: "$b"}}
		if _, err := db.Outbox.MarkSentHeld(ctx, batch[:1+i%2], leases); err != nil {
			t.Fatal(err)
		}
	}
	var generic, custom int
	err := db.QueryRow(ctx, `SELECT generic_plans, custom_plans FROM pg_prepared_statements
		WHERE statement LIKE '%UPDATE outbox SET event_id = sent.event_id%'`).Scan(&generic, &custom)
	if err != nil {
		t.Fatal(err)
	}
	if custom > 5 || generic+custom != calls {
		t.Fatalf("%d generic and %d custom plans in %d calls; want at most PostgreSQL's five custom ones", generic, custom, calls)
	}
}
