package transport

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/internal/dbtest"
)

// Writes that arrive while a transaction commits share the next one, and each is
// still its own: a write that fails or panics is rolled back alone and gets its
// error, while the others in its transaction commit.
func TestGroupCommitIsolatesEachWrite(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		tr, c := startOneLane(t, db)

		keys := []string{"$first", "$note", "$refused", "$panics", "$plain", "$contested"}
		seqs := fileEvents(t, db, keys)
		note := func(key string) func(ctx context.Context) error {
			return func(ctx context.Context) error {
				_, err := db.Exec(ctx, `UPDATE inbox SET body = 'noted' WHERE event_key = $1`, key)
				return err
			}
		}
		txns := make(chan dbutil.Execable, len(keys))
		started, release := make(chan struct{}), make(chan struct{})
		writes := map[string]*pendingWrite{
			"$first": {what: "first", handled: seqs["$first"], fn: func(context.Context) error {
				close(started)
				<-release // holds the lane while the others queue
				return nil
			}},
			"$note": {what: "note", handled: seqs["$note"], fn: func(ctx context.Context) error {
				txns <- db.Execable(ctx)
				return note("$note")(ctx)
			}},
			"$refused": {what: "refused", handled: seqs["$refused"], fn: func(ctx context.Context) error {
				txns <- db.Execable(ctx)
				if err := note("$refused")(ctx); err != nil {
					return err
				}
				return errors.New("refused")
			}},
			"$panics": {what: "panics", handled: seqs["$panics"], fn: func(ctx context.Context) error {
				txns <- db.Execable(ctx)
				if err := note("$panics")(ctx); err != nil {
					return err
				}
				panic("a bug in a handler's writes")
			}},
			"$plain": {what: "plain", handled: seqs["$plain"]},
			// With replicas, a write for a room another replica holds is refused alone.
			"$contested": {what: "contested", queue: inboxQueue, room: testRoom, handled: seqs["$contested"], fn: note("$contested")},
		}
		contested := tr.Holder() != ""
		if contested {
			other := NewLease(db.Leases, inboxQueue, "another replica", time.Now)
			if ok, err := other.Acquire(ctx, testRoom); err != nil || !ok {
				t.Fatalf("the other replica could not take the room: %v", err)
			}
		} else {
			writes["$contested"].queue = "" // one process takes no leases
		}
		wait := queueBehind(t, c, writes, keys, started, release)
		for key, want := range map[string]error{"$first": nil, "$note": nil, "$plain": nil} {
			if err := wait(key); !errors.Is(err, want) {
				t.Errorf("%s: %v", key, err)
			}
		}
		if err := wait("$refused"); err == nil || err.Error() != "refused" {
			t.Errorf("$refused: got %v, want its own error", err)
		}
		if err := wait("$panics"); !errors.Is(err, ErrPanicked) {
			t.Errorf("$panics: got %v, want ErrPanicked", err)
		}
		if err := wait("$contested"); contested != errors.Is(err, ErrLeaseLost) || !contested && err != nil {
			t.Errorf("$contested: got %v (leases taken: %v)", err, contested)
		}
		close(txns)
		var shared dbutil.Execable
		for txn := range txns {
			if _, ok := txn.(dbutil.Transaction); !ok || shared != nil && txn != shared {
				t.Error("the queued writes did not share one transaction")
			}
			shared = txn
		}

		checkWritten(t, db, map[string]written{
			"$first": {true, false}, "$note": {true, true}, "$plain": {true, false},
			"$refused": {false, false}, "$panics": {false, false}, "$contested": {!contested, !contested},
		})
	})
}

// The first write of a batch runs without a savepoint: when it fails, it alone gets
// its error and nothing of it is written, and the writes queued with it commit in a
// transaction of their own, each function having run once.
func TestBatchWhoseFirstWriteFails(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		_, c := startOneLane(t, db)
		keys := []string{"$holder", "$refused", "$note", "$plain", "$also"}
		seqs := fileEvents(t, db, keys)
		runs := map[string]int{}
		txns := map[string]dbutil.Execable{}
		note := func(key string, fail bool) func(ctx context.Context) error {
			return func(ctx context.Context) error {
				runs[key]++ // the committer runs a batch's functions one after the other
				txns[key] = db.Execable(ctx)
				if _, err := db.Exec(ctx, `UPDATE inbox SET body = 'noted' WHERE event_key = $1`, key); err != nil {
					return err
				}
				if fail {
					return errors.New("refused")
				}
				return nil
			}
		}
		started, release := make(chan struct{}), make(chan struct{})
		writes := map[string]*pendingWrite{
			"$holder": {what: "holder", handled: seqs["$holder"], fn: func(context.Context) error {
				close(started)
				<-release
				return nil
			}},
			"$refused": {what: "refused", handled: seqs["$refused"], fn: note("$refused", true)},
			"$note":    {what: "note", handled: seqs["$note"], fn: note("$note", false)},
			"$plain":   {what: "plain", handled: seqs["$plain"]},
			"$also":    {what: "also", handled: seqs["$also"], fn: note("$also", false)},
		}
		wait := queueBehind(t, c, writes, keys, started, release)
		if err := wait("$refused"); err == nil || err.Error() != "refused" {
			t.Errorf("$refused: got %v, want its own error", err)
		}
		for _, key := range []string{"$holder", "$note", "$plain", "$also"} {
			if err := wait(key); err != nil {
				t.Errorf("%s: %v", key, err)
			}
		}
		if runs["$refused"] != 1 || runs["$note"] != 1 || runs["$also"] != 1 {
			t.Errorf("functions ran %v times, want once each", runs)
		}
		if txns["$note"] != txns["$also"] || txns["$note"] == txns["$refused"] {
			t.Error("the writes after the failed one did not share a new transaction")
		}
		checkWritten(t, db, map[string]written{
			"$refused": {false, false}, "$note": {true, true}, "$plain": {true, false}, "$also": {true, true},
		})
	})
}

// fileEvents files an inbox entry for each key, in order, and returns their seqs.
func fileEvents(t *testing.T, db *database.Database, keys []string) map[string]int64 {
	t.Helper()
	seqs := map[string]int64{}
	for _, key := range keys {
		fileEvent(t, db, key)
		entries, err := db.Inbox.Heads(context.Background(), testRoom, len(keys))
		if err != nil {
			t.Fatal(err)
		}
		seqs[key] = entries[len(entries)-1].Seq
	}
	return seqs
}

// written is what a test write left: its entry marked handled, its note in the body.
type written struct{ handled, noted bool }

// checkWritten compares what each entry's write left with what is wanted.
func checkWritten(t *testing.T, db *database.Database, want map[string]written) {
	t.Helper()
	for key, w := range want {
		handled, _, _ := inboxRow(t, db, key)
		var body string
		if err := db.QueryRow(context.Background(), `SELECT body FROM inbox WHERE event_key = $1`, key).Scan(&body); err != nil {
			t.Fatal(err)
		}
		if noted := body == "noted"; handled != w.handled || noted != w.noted {
			t.Errorf("%s: handled %v, noted %v; want %v, %v", key, handled, noted, w.handled, w.noted)
		}
	}
}

// startOneLane starts a transport's committer with one lane, so that what queues
// behind a write that holds it is one batch; it stops with the test.
func startOneLane(t *testing.T, db *database.Database) (*Transport, *committer) {
	t.Helper()
	tr := New(Config{DB: db, Send: noSend, HoldInbox: true, Handle: func(context.Context, *Job) error { return nil }})
	c := tr.committer
	c.lanes = c.lanes[:1]
	stop := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		c.run(stop)
	}()
	t.Cleanup(func() {
		close(stop)
		<-stopped
	})
	eventually(t, "the committer to run", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.running
	})
	return tr, c
}

// queueBehind hands the writes to the committer in the order of keys: the first holds
// the lane (its function closes started and waits for release) until all the others
// have queued behind it, in that order, as one batch. It returns the wait for a
// write's answer.
func queueBehind(t *testing.T, c *committer, writes map[string]*pendingWrite, keys []string, started, release chan struct{}) func(key string) error {
	t.Helper()
	results := map[string]chan error{}
	for i, key := range keys {
		results[key] = make(chan error, 1)
		go func() { results[key] <- c.do(context.Background(), writes[key]) }()
		if i == 0 {
			<-started
		} else {
			eventually(t, key+" to queue", func() bool { return len(c.lanes[0]) == i })
		}
	}
	close(release)
	return func(key string) error {
		t.Helper()
		select {
		case err := <-results[key]:
			return err
		case <-time.After(15 * time.Second):
			t.Fatalf("%s: no answer", key)
			return nil
		}
	}
}

// beginCounter counts the transactions begun on a database.
type beginCounter struct {
	dbutil.DatabaseLogger
	n atomic.Int32
}

func (c *beginCounter) QueryTiming(ctx context.Context, method, query string, args []any, nrows int, took time.Duration, err error) {
	if method == "Begin" {
		c.n.Add(1)
	}
	c.DatabaseLogger.QueryTiming(ctx, method, query, args, nrows, took, err)
}

// On PostgreSQL a batch of nothing but sends' records is one statement, without a
// transaction: the records of a room this replica holds are written, and one for a
// room another replica took gets ErrLeaseLost, its row left unsent.
func TestRecordsOfSeveralRoomsInOneStatement(t *testing.T) {
	db := dbtest.Open(t, "postgres")
	ctx := context.Background()
	tr, c := startOneLane(t, db)
	held, lost := id.RoomID("!held:example.org"), id.RoomID("!lost:example.org")
	if ok, err := tr.leases[outboxQueue].Acquire(ctx, held); err != nil || !ok {
		t.Fatalf("lease: %v %v", ok, err)
	}
	if ok, err := NewLease(db.Leases, outboxQueue, "another replica", time.Now).Acquire(ctx, lost); err != nil || !ok {
		t.Fatalf("the other replica's lease: %v %v", ok, err)
	}
	seqs := fileEvents(t, db, []string{"$first"})
	started, release := make(chan struct{}), make(chan struct{})
	writes := map[string]*pendingWrite{"$first": {what: "first", handled: seqs["$first"], fn: func(context.Context) error {
		close(started)
		<-release
		return nil
	}}}
	keys := []string{"$first"}
	for _, room := range []id.RoomID{held, held, lost} {
		key := fmt.Sprintf("note|%s|%d", room, len(keys))
		if err := db.Outbox.Enqueue(ctx, key, room, "@acme:example.org", event.EventMessage, map[string]string{"body": key}, time.Now()); err != nil {
			t.Fatal(err)
		}
		heads, err := db.Outbox.Heads(ctx, room, 10)
		if err != nil || len(heads) == 0 {
			t.Fatalf("heads: %v", err)
		}
		entry := heads[len(heads)-1]
		writes[key] = &pendingWrite{what: "record send", queue: outboxQueue, room: room, sent: &Sent{Entry: entry, EventID: id.EventID("$sent-" + key)}}
		keys = append(keys, key)
	}
	begins := &beginCounter{DatabaseLogger: db.Log}
	db.Log = begins
	wait := queueBehind(t, c, writes, keys, started, release)
	for _, key := range keys {
		err := wait(key)
		room := writes[key].room
		if room == lost && !errors.Is(err, ErrLeaseLost) || room != lost && err != nil {
			t.Errorf("%s: %v", key, err)
		}
		if sent, _, _ := outboxRow(t, db, key); key != "$first" && sent != (room == held) {
			t.Errorf("%s marked sent: %v", key, sent)
		}
	}
	if n := begins.n.Load(); n != 1 {
		t.Errorf("%d transactions begun; want only the first write's", n)
	}
}
