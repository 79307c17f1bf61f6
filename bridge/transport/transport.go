// Package transport is the durable, panic-safe layer under the service's conversation
// logic. It knows Matrix transactions, rooms and durability, and nothing of tenants or
// conversations: events received are filed in the inbox, each room's inbox entries are
// handed to a Handler strictly in order (rooms in parallel), and what handlers decide
// to send is queued in the outbox and sent in order per room by a Sender. Failures are
// retried with backoff and given up with their reason kept; a panic costs only its
// row. With replicas on one PostgreSQL database, one replica at a time works on a
// room's queue, under a lease that every commit checks.
package transport

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/database"
)

const (
	// DefaultWorkers bounds how many rooms are worked on at once per queue; more
	// than the database pool only makes workers wait for connections.
	DefaultWorkers = 16
	// DefaultHandlerTimeout bounds one handler call.
	DefaultHandlerTimeout = 30 * time.Second
	// retention is how long finished inbox and outbox rows are kept. Done inbox rows
	// make repeated transactions no-ops, so this is far longer than any homeserver
	// retries a transaction.
	retention = 7 * 24 * time.Hour
	// pruneInterval is how often finished rows past the retention are deleted.
	pruneInterval = time.Hour
)

// Lease names of the two queues in the room_lease table.
const (
	inboxQueue  = "inbox"
	outboxQueue = "outbox"
)

// Handler handles one inbox entry. It does its network side effects first (they must
// be idempotent), then commits its database writes with Job.Commit (or
// Job.CommitMarking); if it returns nil without committing, the entry is committed
// with no writes. An error is retried unless it wraps ErrPermanent.
type Handler func(ctx context.Context, j *Job) error

// Sender performs one outbox row and returns the event ID the homeserver gave it (""
// for actions that make no event). It must use the row's transaction ID (TxnID) so a
// resend after a crash is deduplicated by the homeserver.
type Sender func(ctx context.Context, entry *database.OutboxEntry) (id.EventID, error)

// Config is what the transport is given. Handle and Send are required.
type Config struct {
	DB     *database.Database
	Handle Handler
	Send   Sender
	// OnGiveUp, when set, adds writes to the transaction that gives an inbox entry
	// up (telling someone, say).
	OnGiveUp func(ctx context.Context, entry *database.InboxEntry, cause error) error
	// AfterCommit, when set, runs after every job's successful commit.
	AfterCommit func(ctx context.Context, j *Job)
	// AroundCommit, when set, runs each inbox transaction (a job's commit, a give-up):
	// it must call txn, which opens and commits the transaction, and may run work of
	// its own once txn has returned nil.
	AroundCommit func(ctx context.Context, txn func(ctx context.Context) error) error
	// OnPanic, when set, is told of each panic recovered, with where it happened
	// (the queue, "inbox give-up", "poll", "room", "after commit"...).
	OnPanic func(where string)
	// ReadTurn, when set, reads a room's inbox heads (up to limit) for a turn in place
	// of the inbox alone, with the room's state read in the same statement: the
	// turn's first job gets it as Reused, as a job gets what the one before it kept
	// (see turnMemo); nil for none.
	ReadTurn func(ctx context.Context, roomID id.RoomID, limit int) ([]*database.InboxEntry, any, error)
	// HoldInbox files what arrives without handling it.
	HoldInbox bool
	// Now is the clock (time.Now if nil).
	Now func() time.Time

	// HandlerTimeout bounds one handler call (DefaultHandlerTimeout if zero), and
	// SendTimeout one send (DefaultSendTimeout): running out counts as a failure,
	// retried with backoff and given up like others when it keeps happening.
	HandlerTimeout time.Duration
	SendTimeout    time.Duration
	// Workers bounds the rooms worked on at once, per queue (DefaultWorkers if zero).
	Workers int
	// WorkersPerKey bounds the rooms of one fairness key worked on at once, per queue
	// (half the workers if zero): rooms that wait on one slow remote server leave
	// the other workers to everyone else.
	WorkersPerKey int
	// FairKey names a room's fairness key: the remote server its work depends on,
	// or any grouping of the caller's (ServerOf, the room ID's server, if nil).
	FairKey func(roomID id.RoomID) string
}

// withDefaults fills in what the caller left zero.
func (cfg Config) withDefaults() Config {
	if cfg.HandlerTimeout <= 0 {
		cfg.HandlerTimeout = DefaultHandlerTimeout
	}
	if cfg.SendTimeout <= 0 {
		cfg.SendTimeout = DefaultSendTimeout
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.WorkersPerKey <= 0 {
		cfg.WorkersPerKey = max(1, cfg.Workers/2)
	}
	if cfg.FairKey == nil {
		cfg.FairKey = ServerOf
	}
	return cfg
}

// Transport runs the inbox and the outbox.
type Transport struct {
	cfg         Config
	db          *database.Database
	now         func() time.Time
	holder      string
	inbox       *roomRunner
	outbox      *roomRunner
	leases      map[string]*Lease
	guard       panicGuard
	inboxDrain  *drainer[*database.InboxEntry]
	outboxDrain *drainer[*database.OutboxEntry]
	committer   *committer
	inFlight    *inFlight
	// recording counts the records being written behind sends.
	recording sync.WaitGroup
}

// New prepares a transport; nothing runs before Run, but Wake calls are kept.
func New(cfg Config) *Transport {
	cfg = cfg.withDefaults()
	t := &Transport{cfg: cfg, db: cfg.DB, now: cfg.Now, leases: map[string]*Lease{}}
	t.guard.onPanic = cfg.OnPanic
	if t.now == nil {
		t.now = time.Now
	}
	// Replicas share one PostgreSQL database: each room's queue is worked on by one
	// of them at a time. SQLite serves one process, which needs no leases.
	if t.db.Dialect == dbutil.Postgres {
		t.holder = NewHolder()
		for _, queue := range []string{inboxQueue, outboxQueue} {
			t.leases[queue] = NewLease(t.db.Leases, queue, t.holder, t.now)
		}
	}
	t.inboxDrain = t.newInboxDrainer()
	t.outboxDrain = t.newOutboxDrainer()
	t.committer = newCommitter(t)
	t.inFlight = newInFlight()
	fair := fairness{workers: cfg.Workers, perKey: cfg.WorkersPerKey, keyOf: cfg.FairKey}
	t.outbox = newRoomRunner(outboxQueue, t.db.Outbox, fair, t.leases[outboxQueue], &t.guard, t.outboxDrain.drain)
	if !cfg.HoldInbox {
		t.inbox = newRoomRunner(inboxQueue, t.db.Inbox, fair, t.leases[inboxQueue], &t.guard, t.inboxDrain.drain)
	}
	return t
}

// Holder names this replica in leases ("" with one process, which takes none).
func (t *Transport) Holder() string { return t.holder }

// Lease is a lease of this replica on the rooms of another queue (nil without
// replicas), for work that must run on one replica at a time.
func (t *Transport) Lease(queue string) *Lease {
	if t.holder == "" {
		return nil
	}
	return NewLease(t.db.Leases, queue, t.holder, t.now)
}

// Panics counts the panics recovered so far.
func (t *Transport) Panics() int64 { return t.guard.count.Load() }

// WakeInbox makes the inbox look for due entries now.
func (t *Transport) WakeInbox() { t.inbox.Wake() }

// HandInbox starts rooms just given new entries, without a poll of every room's heads.
func (t *Transport) HandInbox(rooms ...id.RoomID) { t.inbox.Hand(rooms...) }

// WakeOutbox makes the outbox look for due rows now.
func (t *Transport) WakeOutbox() { t.outbox.Wake() }

// DrainInbox handles a room's due inbox entries now, in the caller's goroutine.
func (t *Transport) DrainInbox(ctx context.Context, roomID id.RoomID) {
	for t.inboxDrain.drain(ctx, roomID) {
	}
}

// DrainOutbox sends a room's due outbox rows now, in the caller's goroutine.
func (t *Transport) DrainOutbox(ctx context.Context, roomID id.RoomID) {
	for t.outboxDrain.drain(ctx, roomID) {
	}
	t.recording.Wait()
}

// Run works on the queues until ctx ends, then waits for the rows in progress.
func (t *Transport) Run(ctx context.Context) {
	// The committer outlives the runners: rooms stopping still record their last send.
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		t.committer.run(stop)
	}()
	defer func() {
		t.recording.Wait()
		close(stop)
		<-stopped
	}()
	var wg sync.WaitGroup
	for _, r := range []*roomRunner{t.outbox, t.inbox} {
		if r == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.Run(ctx)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		t.pruneLoop(ctx)
	}()
	wg.Wait()
}

// pruneLoop deletes finished queue rows older than the retention.
func (t *Transport) pruneLoop(ctx context.Context) {
	ticker := time.NewTicker(pruneInterval)
	defer ticker.Stop()
	for {
		t.guard.run(ctx, "prune", func() { t.prune(ctx) })
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

func (t *Transport) prune(ctx context.Context) {
	before := t.now().Add(-retention)
	inbox, err1 := t.db.Inbox.Prune(ctx, before)
	outbox, err2 := t.db.Outbox.Prune(ctx, before)
	if err := errors.Join(err1, err2); err != nil && ctx.Err() == nil {
		zerolog.Ctx(ctx).Warn().Err(err).Msg("Could not prune finished queue rows")
	} else if inbox+outbox > 0 {
		zerolog.Ctx(ctx).Debug().Int64("inbox", inbox).Int64("outbox", outbox).Msg("Pruned finished queue rows")
	}
}

// checkLease fails with ErrLeaseLost, inside a transaction, unless this replica holds
// the room's lease on a queue (always passes without replicas).
func (t *Transport) checkLease(ctx context.Context, queue string, roomID id.RoomID) error {
	if l := t.leases[queue]; l != nil {
		return l.Held(ctx, roomID)
	}
	return nil
}

// inboxTxn commits an inbox write (through the committer), run through AroundCommit.
func (t *Transport) inboxTxn(ctx context.Context, w *pendingWrite) error {
	txn := func(ctx context.Context) error { return t.committer.do(ctx, w) }
	if t.cfg.AroundCommit == nil {
		return txn(ctx)
	}
	return t.guard.call(ctx, w.what, func() error { return t.cfg.AroundCommit(ctx, txn) })
}

// txn runs fn in a database transaction. A panic inside is recovered there, so that
// the transaction is rolled back instead of holding its connection (and, on SQLite,
// the write lock) for ever; it then fails as ErrPanicked.
func (t *Transport) txn(ctx context.Context, what string, fn func(ctx context.Context) error) error {
	return t.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		return t.guard.call(ctx, what, func() error { return fn(ctx) })
	})
}
