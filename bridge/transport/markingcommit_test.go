package transport

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/internal/dbtest"
)

// markedCopies is a write that queues a copy of an entry's event and can make the
// entry's mark with it (database.QueueCopiesMarking); it records how it was called.
type markedCopies struct {
	db    *database.Database
	key   string
	calls []markedCall
}

type markedCall struct {
	mark  *database.InboxMark
	inTxn bool
}

func (m *markedCopies) write(ctx context.Context, mark *database.InboxMark) (bool, error) {
	_, inTxn := m.db.Execable(ctx).(dbutil.Transaction)
	m.calls = append(m.calls, markedCall{mark, inTxn})
	desk := id.RoomID("!desk:example.org")
	key := "relay|" + m.key
	return m.db.QueueCopiesMarking(ctx, database.RelayedEvent{Room: testRoom, Event: id.EventID(m.key), Author: "@c:example.org"},
		[]database.OutboxRow{{DedupeKey: key, RoomID: desk, Sender: "@ghost:example.org", EventType: event.EventMessage, Content: map[string]string{"body": m.key}}},
		[]database.Copy{{Room: desk, OutboxKey: key}}, time.Now(), mark)
}

// queued tells whether the write's copy is in the outbox.
func (m *markedCopies) queued(t *testing.T) bool {
	t.Helper()
	var n int
	if err := m.db.QueryRow(context.Background(), `SELECT COUNT(*) FROM outbox WHERE dedupe_key = $1`, "relay|"+m.key).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}

// A job's writes that can carry its inbox mark are, on PostgreSQL, the whole commit:
// one statement with the mark, outside any transaction, committed at once even while
// a batch is being written, and nothing of it written while the room's lease is not
// held. On SQLite they run in a transaction without the mark, which the transport
// makes, and share a batch with the writes waiting beside them.
func TestMarkingCommit(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		postgres := db.Dialect == dbutil.Postgres
		tr, c := startOneLane(t, db)
		seqs := fileEvents(t, db, []string{"$lone", "$first", "$a", "$b"})
		lone := &markedCopies{db: db, key: "$lone"}
		j := &Job{Entry: &database.InboxEntry{Seq: seqs["$lone"], Key: "$lone", RoomID: testRoom}, t: tr}
		if postgres {
			// This replica has not taken the room (PostgreSQL means replicas).
			if err := j.CommitMarking(ctx, lone.write); !errors.Is(err, ErrLeaseLost) {
				t.Fatalf("without the lease: %v", err)
			}
			if handled, _, _ := inboxRow(t, db, "$lone"); handled || lone.queued(t) || j.Committed() {
				t.Fatalf("written without the lease: handled %v, queued %v", handled, lone.queued(t))
			}
			if ok, err := tr.leases[inboxQueue].Acquire(ctx, testRoom); err != nil || !ok {
				t.Fatalf("lease: %v %v", ok, err)
			}
			lone.calls = nil
		}
		if err := j.CommitMarking(ctx, lone.write); err != nil || !j.Committed() {
			t.Fatalf("alone: %v", err)
		}
		if handled, _, _ := inboxRow(t, db, "$lone"); !handled || !lone.queued(t) {
			t.Fatalf("alone: handled %v, queued %v", handled, lone.queued(t))
		}
		if len(lone.calls) != 1 {
			t.Fatalf("alone: the write ran %d times", len(lone.calls))
		}
		if call := lone.calls[0]; postgres != (call.mark != nil) || postgres == call.inTxn ||
			postgres && (call.mark.Seq != seqs["$lone"] || call.mark.Lease == nil) {
			t.Fatalf("alone on %s: mark %+v, in a transaction %v", db.Dialect, call.mark, call.inTxn)
		}

		started, release := make(chan struct{}), make(chan struct{})
		writes := map[string]*pendingWrite{"$first": {what: "first", handled: seqs["$first"], fn: func(context.Context) error {
			close(started)
			<-release
			return nil
		}}}
		others := map[string]*markedCopies{}
		for _, key := range []string{"$a", "$b"} {
			others[key] = &markedCopies{db: db, key: key}
			w := markingWrite(others[key].write)
			w.what, w.queue, w.room, w.handled = "commit", inboxQueue, testRoom, seqs[key]
			writes[key] = w
		}
		if postgres {
			// While a batch holds the lane, the writes commit at once, each alone.
			first := make(chan error, 1)
			go func() { first <- c.do(ctx, writes["$first"]) }()
			<-started
			for _, key := range []string{"$a", "$b"} {
				done := make(chan error, 1)
				go func() { done <- c.do(ctx, writes[key]) }()
				select {
				case err := <-done:
					if err != nil {
						t.Fatalf("%s beside a batch: %v", key, err)
					}
				case <-time.After(5 * time.Second):
					close(release)
					t.Fatalf("%s waited for the batch beside it", key)
				}
			}
			close(release)
			if err := <-first; err != nil {
				t.Fatalf("$first: %v", err)
			}
		} else {
			wait := queueBehind(t, c, writes, []string{"$first", "$a", "$b"}, started, release)
			for _, key := range []string{"$first", "$a", "$b"} {
				if err := wait(key); err != nil {
					t.Fatalf("%s: %v", key, err)
				}
			}
		}
		for key, m := range others {
			if handled, _, _ := inboxRow(t, db, key); !handled || !m.queued(t) {
				t.Errorf("%s beside a batch: handled %v, queued %v", key, handled, m.queued(t))
			}
			if len(m.calls) != 1 || postgres == (m.calls[0].mark == nil) || postgres == m.calls[0].inTxn {
				t.Errorf("%s beside a batch on %s: calls %+v, want one, with the mark and alone on PostgreSQL, in the shared transaction without it on SQLite", key, db.Dialect, m.calls)
			}
		}
	})
}
