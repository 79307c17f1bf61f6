package transport

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/internal/dbtest"
	"github.com/contactcenter/contactcenter/testbed/pgcluster"
)

func TestMain(m *testing.M) { os.Exit(pgcluster.Main(m)) }

const testRoom = id.RoomID("!room:example.org")

// run starts a transport until the test ends.
func run(t *testing.T, cfg Config) *Transport {
	t.Helper()
	tr := New(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		tr.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return tr
}

func fileEvent(t *testing.T, db *database.Database, key string) {
	t.Helper()
	if _, err := db.Inbox.Insert(context.Background(), key, testRoom, database.SourceTransaction, []byte(`{}`), time.Now()); err != nil {
		t.Fatal(err)
	}
}

// inboxRow reads what the inbox says of an entry.
func inboxRow(t *testing.T, db *database.Database, key string) (handled bool, attempts int, lastError string) {
	t.Helper()
	var handledAt sql.NullInt64
	var lastErr sql.NullString
	err := db.QueryRow(context.Background(), `SELECT handled_at, attempts, last_error FROM inbox WHERE event_key = $1`, key).
		Scan(&handledAt, &attempts, &lastErr)
	if err != nil {
		t.Fatal(err)
	}
	return handledAt.Valid, attempts, lastErr.String
}

func outboxRow(t *testing.T, db *database.Database, key string) (sent bool, attempts int, lastError string) {
	t.Helper()
	var sentAt sql.NullInt64
	var lastErr sql.NullString
	err := db.QueryRow(context.Background(), `SELECT sent_at, attempts, last_error FROM outbox WHERE dedupe_key = $1`, key).
		Scan(&sentAt, &attempts, &lastErr)
	if errors.Is(err, sql.ErrNoRows) {
		return false, 0, "" // not queued yet
	} else if err != nil {
		t.Fatal(err)
	}
	return sentAt.Valid, attempts, lastErr.String
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// handledLog records the keys a handler saw.
type handledLog struct {
	mu   sync.Mutex
	keys []string
}

func (l *handledLog) add(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.keys = append(l.keys, key)
}

func (l *handledLog) has(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range l.keys {
		if k == key {
			return true
		}
	}
	return false
}

func noSend(context.Context, *database.OutboxEntry) (id.EventID, error) { return "$sent", nil }

// A handler that panics costs only its event: the panic is counted, the event given
// up with the reason kept, later events of the room are handled, and the loop goes on.
func TestPanickingHandlerIsGivenUpAndTheRoomMovesOn(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		var seen handledLog
		handle := func(ctx context.Context, j *Job) error {
			if j.Key() == "$boom" {
				var m map[string]int
				m["nil map"]++ // a real bug, not a test double's panic(...)
			}
			seen.add(j.Key())
			return nil
		}
		for _, key := range []string{"$first", "$boom", "$after"} {
			fileEvent(t, db, key)
		}
		tr := run(t, Config{DB: db, Handle: handle, Send: noSend})
		tr.WakeInbox()
		eventually(t, "the event after the panic", func() bool { return seen.has("$after") })
		if handled, _, lastError := inboxRow(t, db, "$boom"); !handled || !strings.Contains(lastError, "panicked") {
			t.Fatalf("the panicking event: handled %v, last error %q", handled, lastError)
		}
		if n := tr.Panics(); n != 1 {
			t.Fatalf("%d panics counted, want 1", n)
		}
		fileEvent(t, db, "$later")
		tr.WakeInbox()
		eventually(t, "an event filed after the panic", func() bool { return seen.has("$later") })
		if handled, _, lastError := inboxRow(t, db, "$later"); !handled || lastError != "" {
			t.Fatalf("the later event: handled %v, last error %q", handled, lastError)
		}
	})
}

// A commit's writes and the handled mark are one transaction, what runs after the
// commit runs once, and a permanent failure is given up at once with its reason and
// the service's give-up writes.
func TestCommitAndGiveUp(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		var after handledLog
		handle := func(ctx context.Context, j *Job) error {
			if j.Key() == "$bad" {
				return Permanent(errors.New("content does not fit"))
			}
			j.AfterCommit(func(context.Context) { after.add(j.Key()) })
			return j.Commit(ctx, func(ctx context.Context) error {
				return db.Outbox.Enqueue(ctx, Key("reply", j.Key()), j.RoomID(), "@bot:example.org", event.EventMessage, map[string]string{"body": "ok"}, time.Now())
			})
		}
		onGiveUp := func(ctx context.Context, entry *database.InboxEntry, cause error) error {
			return db.Outbox.Enqueue(ctx, Key("unreadable", entry.Key), entry.RoomID, "@bot:example.org", event.EventMessage, map[string]string{"body": "again?"}, time.Now())
		}
		fileEvent(t, db, "$bad")
		fileEvent(t, db, "$good")
		tr := run(t, Config{DB: db, Handle: handle, OnGiveUp: onGiveUp, Send: noSend})
		tr.WakeInbox()
		eventually(t, "the reply sent", func() bool { sent, _, _ := outboxRow(t, db, "reply|$good"); return sent })
		eventually(t, "the give-up notice sent", func() bool { sent, _, _ := outboxRow(t, db, "unreadable|$bad"); return sent })
		if handled, attempts, lastError := inboxRow(t, db, "$bad"); !handled || attempts != 1 || !strings.Contains(lastError, "content does not fit") {
			t.Fatalf("the bad event: handled %v after %d attempts, last error %q", handled, attempts, lastError)
		}
		if !after.has("$good") {
			t.Fatal("the after-commit hook did not run")
		}
	})
}

func httpError(status int) error {
	return mautrix.HTTPError{Response: &http.Response{StatusCode: status}, Message: http.StatusText(status)}
}

// A send the homeserver refuses for good (403: the service was kicked; 404) is given
// up at once and does not hold up the rows behind it.
func TestOutboxGivesUpForbiddenSendsAtOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		send := func(ctx context.Context, entry *database.OutboxEntry) (id.EventID, error) {
			switch entry.DedupeKey {
			case "kicked":
				return "", httpError(http.StatusForbidden)
			case "gone":
				return "", httpError(http.StatusNotFound)
			}
			return "$sent", nil
		}
		for _, key := range []string{"kicked", "gone", "next"} {
			if err := db.Outbox.Enqueue(ctx, key, testRoom, "@bot:example.org", event.EventMessage, map[string]string{}, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		tr := run(t, Config{DB: db, Handle: func(context.Context, *Job) error { return nil }, Send: send})
		tr.WakeOutbox()
		eventually(t, "the row behind the refused ones", func() bool { sent, _, _ := outboxRow(t, db, "next"); return sent })
		for _, key := range []string{"kicked", "gone"} {
			if done, attempts, lastError := outboxRow(t, db, key); !done || attempts != 1 || lastError == "" {
				t.Fatalf("%s: done %v after %d attempts, last error %q", key, done, attempts, lastError)
			}
		}
	})
}

// A send that keeps failing (5xx, network) is given up once it reaches the ceiling,
// with its reason kept; a permanent error from the sender is given up at once.
func TestOutboxGivesUpAtTheCeiling(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		send := func(ctx context.Context, entry *database.OutboxEntry) (id.EventID, error) {
			if entry.DedupeKey == "malformed" {
				return "", Permanent(errors.New("content is not JSON"))
			}
			return "", httpError(http.StatusBadGateway)
		}
		for _, key := range []string{"malformed", "failing"} {
			if err := db.Outbox.Enqueue(ctx, key, testRoom, "@bot:example.org", event.EventMessage, map[string]string{}, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		// The failing row has been tried all but once already.
		if _, err := db.Exec(ctx, `UPDATE outbox SET attempts = $1 WHERE dedupe_key = 'failing'`, maxOutboxAttempts-1); err != nil {
			t.Fatal(err)
		}
		tr := run(t, Config{DB: db, Handle: func(context.Context, *Job) error { return nil }, Send: send})
		tr.WakeOutbox()
		eventually(t, "the failing row given up", func() bool { done, _, _ := outboxRow(t, db, "failing"); return done })
		if _, attempts, lastError := outboxRow(t, db, "failing"); attempts != maxOutboxAttempts || !strings.Contains(lastError, "502") {
			t.Fatalf("given up after %d attempts with %q", attempts, lastError)
		}
		if done, attempts, lastError := outboxRow(t, db, "malformed"); !done || attempts != 1 || !strings.Contains(lastError, "not JSON") {
			t.Fatalf("malformed: done %v after %d attempts, last error %q", done, attempts, lastError)
		}
	})
}

// With replicas, a commit by a replica that no longer holds the room writes nothing:
// the entry is left, unmarked, to the holder.
func TestCommitChecksTheLease(t *testing.T) {
	db := dbtest.Open(t, "postgres")
	ctx := context.Background()
	var committed bool
	handle := func(ctx context.Context, j *Job) error {
		err := j.Commit(ctx, func(ctx context.Context) error {
			return db.Outbox.Enqueue(ctx, Key("reply", j.Key()), j.RoomID(), "@bot:example.org", event.EventMessage, map[string]string{}, time.Now())
		})
		committed = err == nil
		return err
	}
	tr := New(Config{DB: db, Handle: handle, Send: noSend})
	if tr.Holder() == "" {
		t.Fatal("no holder on PostgreSQL")
	}
	other := NewLease(db.Leases, inboxQueue, "another replica", time.Now)
	if ok, err := other.Acquire(ctx, testRoom); err != nil || !ok {
		t.Fatalf("the other replica could not take the room: %v", err)
	}
	fileEvent(t, db, "$contested")
	tr.DrainInbox(ctx, testRoom)
	if committed {
		t.Fatal("committed without the lease")
	}
	if handled, attempts, _ := inboxRow(t, db, "$contested"); handled || attempts != 0 {
		t.Fatalf("entry touched without the lease: handled %v, %d attempts", handled, attempts)
	}
	var n int
	if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM outbox`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d outbox rows written without the lease (%v)", n, err)
	}
	// Once the room is this replica's, the same entry commits.
	other.Release(ctx, testRoom)
	if ok, err := tr.leases[inboxQueue].Acquire(ctx, testRoom); err != nil || !ok {
		t.Fatalf("could not take the room: %v", err)
	}
	tr.DrainInbox(ctx, testRoom)
	if handled, _, _ := inboxRow(t, db, "$contested"); !handled || !committed {
		t.Fatal("the holder could not commit")
	}
}

// Losing the lease stops the room's work.
func TestLostLeaseStopsTheRoom(t *testing.T) {
	db := dbtest.Open(t, "postgres")
	ctx := context.Background()
	lease := NewLease(db.Leases, inboxQueue, "this replica", time.Now)
	stopped := make(chan struct{})
	r := newRoomRunner(inboxQueue, db.Inbox, fairness{workers: 1}, lease, &panicGuard{}, func(ctx context.Context, roomID id.RoomID) bool {
		// Another replica takes the room over (as after an expiry) while we work.
		if _, err := db.Exec(ctx, `UPDATE room_lease SET holder = 'another replica'`); err != nil {
			t.Error(err)
		}
		select {
		case <-ctx.Done():
			close(stopped)
		case <-time.After(10 * time.Second):
			t.Error("work went on after the lease was lost")
		}
		return false
	})
	r.renewal = 50 * time.Millisecond
	r.leased(ctx, testRoom)
	select {
	case <-stopped:
	default:
		t.Fatal("the work was not stopped")
	}
}

func TestKey(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{Key("reply", "$e"), "reply|$e"},
		{Key("relay", id.RoomID("!r:x"), id.EventID("$e")), "relay|!r:x|$e"},
		{Key("rename", int64(5), "member", int64(7)), "rename|5|member|7"},
		{Key("origin"), "origin"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
