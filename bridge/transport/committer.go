package transport

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"sync"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/database"
)

// maxGroupCommit bounds the writes that share one transaction: the transaction holds
// SQLite's single write lock, which a homeserver's transaction waits for.
const maxGroupCommit = 32

// postgresLanes is how many batches commit at once on PostgreSQL.
const postgresLanes = 3

// pendingWrite is one of the transport's write transactions waiting for the
// committer: a job's commit, a send's record, a give-up.
type pendingWrite struct {
	ctx  context.Context
	what string
	// queue, when set, is the queue whose lease on room the write needs.
	queue string
	room  id.RoomID
	// fn is the caller's own writes, or nil.
	fn func(ctx context.Context) error
	// marking, when set, is fn's writes made together with the inbox mark (handled)
	// in one statement, for a write on PostgreSQL (see Job.CommitMarking).
	marking func(ctx context.Context, mark *database.InboxMark) (bool, error)
	// handled is the inbox entry the write marks handled, or 0.
	handled int64
	// sent is the send the write records, or nil.
	sent *Sent
	done chan error
}

// Sent is one send being recorded: the outbox row and the event ID it got.
type Sent struct {
	Entry   *database.OutboxEntry
	EventID id.EventID
}

// row is the send as the outbox records it.
func (s Sent) row() database.Sent {
	return database.Sent{ID: s.Entry.ID, Key: s.Entry.DedupeKey, EventID: s.EventID}
}

// committer runs the transport's write transactions as a group commit: rooms work in
// parallel and each waits for its own writes to commit before it goes on (so a
// room's order is kept), but the writes that arrive while a transaction commits share
// the next one, and what they have in common is written with one statement for all
// (the lease checks of both queues, the inbox entries marked handled, the sends
// recorded). Each write's own function runs once, in a savepoint (but the first,
// see writeBatch): one that fails (or panics) is rolled back alone and gets its
// error; the others commit. Alone, a write is a
// transaction of its own; under load the cost of a commit and of the shared
// statements is divided by the number of rooms waiting. On PostgreSQL a write that is
// one statement by itself does not join batches (see oneStatement), and a batch of
// nothing but sends' records is one statement (see recordAll).
type committer struct {
	t *Transport
	// lanes are the queues of batches that commit at once, each write in its room's
	// lane: one on SQLite, which writes one transaction at a time anyway; several on
	// PostgreSQL, where a transaction spends most of its time waiting for round trips
	// that others can overlap. A room's writes (several sends' records may be on their
	// way at once) never meet in two transactions, which would lock its lease row in
	// both and could deadlock them.
	lanes   []chan *pendingWrite
	mu      sync.Mutex
	running bool
	stopped chan struct{}
}

func newCommitter(t *Transport) *committer {
	n := 1
	if t.db.Dialect == dbutil.Postgres {
		n = postgresLanes
	}
	c := &committer{t: t, lanes: make([]chan *pendingWrite, n)}
	for i := range c.lanes {
		c.lanes[i] = make(chan *pendingWrite, maxGroupCommit)
	}
	return c
}

// laneOf is the queue of a room's writes.
func (c *committer) laneOf(roomID id.RoomID) chan *pendingWrite {
	h := fnv.New32a()
	_, _ = h.Write([]byte(roomID))
	return c.lanes[h.Sum32()%uint32(len(c.lanes))]
}

// do runs w with the caller's context and returns once it has committed (nil) or
// failed. Inside a transaction already, w joins it.
func (c *committer) do(ctx context.Context, w *pendingWrite) error {
	w.ctx = ctx
	c.mu.Lock()
	running, stopped := c.running, c.stopped
	c.mu.Unlock()
	if _, inTxn := c.t.db.Execable(ctx).(dbutil.Transaction); inTxn || !running || c.oneStatement(w) {
		return c.alone(w)
	}
	w.done = make(chan error, 1)
	select {
	case c.laneOf(w.room) <- w:
	case <-stopped:
		return c.alone(w)
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-w.done
}

// oneStatement tells whether w is, alone, one statement that commits by itself with
// its inbox mark and lease check (PostgreSQL, Job.CommitMarking). Such a write does
// not wait to share a transaction: it commits at once on a connection of its own.
// In a batch it would pay BEGIN, a savepoint, its part of the batch's lease check and
// marks, and COMMIT, and wait for the batch before it: in the throughput benchmark,
// committing these writes at once handles about a quarter more events per second.
func (c *committer) oneStatement(w *pendingWrite) bool {
	return c.t.db.Dialect == dbutil.Postgres && w.marking != nil && w.handled != 0 && w.sent == nil
}

// alone runs one write in a transaction of its own. A write that marks a row finished
// checks the lease in that same statement (one round trip less on the path of every
// message); others check it first. On PostgreSQL a mark alone (a send's record, an
// event handled without writes of its own, or with writes that carry the mark, see
// Job.CommitMarking) is one statement, atomic by itself, so it runs without BEGIN and
// COMMIT: two round trips less.
func (c *committer) alone(w *pendingWrite) error {
	t := c.t
	var lease *database.LeaseHeld
	if l := t.leases[w.queue]; l != nil {
		lease = l.heldFor(w.room)
	}
	mark := func(ctx context.Context) error {
		if w.handled != 0 {
			if held, err := t.db.Inbox.MarkDoneHeld(ctx, w.handled, t.now(), lease); err != nil {
				return err
			} else if !held {
				return ErrLeaseLost
			}
		}
		if w.sent != nil {
			return t.writeSent(ctx, []Sent{*w.sent}, lease)
		}
		return nil
	}
	if t.db.Dialect == dbutil.Postgres {
		switch {
		case w.fn == nil && (w.handled == 0) != (w.sent == nil):
			return t.guard.call(w.ctx, w.what, func() error { return mark(w.ctx) })
		case c.oneStatement(w):
			return t.guard.call(w.ctx, w.what, func() error {
				held, err := w.marking(w.ctx, &database.InboxMark{Seq: w.handled, At: t.now(), Lease: lease})
				if err == nil && !held {
					return ErrLeaseLost
				}
				return err
			})
		}
	}
	return t.txn(w.ctx, w.what, func(ctx context.Context) error {
		if lease != nil && w.handled == 0 && w.sent == nil {
			if err := t.checkLease(ctx, w.queue, w.room); err != nil {
				return err
			}
		}
		if w.fn != nil {
			if err := w.fn(ctx); err != nil {
				return err
			}
		}
		return mark(ctx)
	})
}

// run commits until stop is closed and nothing is left to commit.
func (c *committer) run(stop <-chan struct{}) {
	c.mu.Lock()
	c.running, c.stopped = true, make(chan struct{})
	stopped := c.stopped
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.running = false
		close(stopped)
		c.mu.Unlock()
		// Writes queued while stopping.
		for _, lane := range c.lanes {
		drain:
			for {
				select {
				case w := <-lane:
					w.done <- c.alone(w)
				default:
					break drain
				}
			}
		}
	}()
	var wg sync.WaitGroup
	for _, lane := range c.lanes {
		wg.Go(func() { c.loop(lane, stop) })
	}
	wg.Wait()
}

// loop takes the writes waiting in a lane, up to a batch, and commits them, until stop.
func (c *committer) loop(lane chan *pendingWrite, stop <-chan struct{}) {
	for {
		var batch []*pendingWrite
		select {
		case w := <-lane:
			batch = append(batch, w)
		case <-stop:
			return
		}
	more:
		for len(batch) < maxGroupCommit {
			select {
			case w := <-lane:
				batch = append(batch, w)
			default:
				break more
			}
		}
		c.t.guard.run(batch[0].ctx, "group commit", func() { c.commit(batch) })
	}
}

// commit runs a batch in one transaction and answers each write.
func (c *committer) commit(batch []*pendingWrite) {
	answered := false
	defer func() {
		if !answered {
			for _, w := range batch {
				select {
				case w.done <- ErrPanicked:
				default: // answered before the panic
				}
			}
		}
	}()
	if len(batch) == 1 {
		answered = true
		batch[0].done <- c.alone(batch[0])
		return
	}
	if c.recordsOnly(batch) {
		answered = true
		c.recordAll(batch)
		return
	}
	errs := make([]error, len(batch))
	err := c.t.db.DoTxn(context.WithoutCancel(batch[0].ctx), nil, func(ctx context.Context) error {
		return c.writeBatch(ctx, batch, errs)
	})
	answered = true
	if first, ok := errors.AsType[firstWriteFailed](err); ok {
		// Nothing else had been written: the write gets its own error, the others
		// (none of which has run its function) commit in a new transaction.
		batch[first.index].done <- errs[first.index]
		c.commit(slices.Delete(slices.Clone(batch), first.index, first.index+1))
		return
	}
	for i, w := range batch {
		w.done <- errors.Join(err, errs[i])
	}
}

// recordsOnly tells whether a batch is nothing but sends' records, on PostgreSQL with
// leases: it is then one statement, without a transaction (recordAll).
func (c *committer) recordsOnly(batch []*pendingWrite) bool {
	if c.t.db.Dialect != dbutil.Postgres || c.t.leases[outboxQueue] == nil {
		return false
	}
	for _, w := range batch {
		if w.fn != nil || w.handled != 0 || w.sent == nil || w.queue != outboxQueue {
			return false
		}
	}
	return true
}

// recordAll writes a batch of sends' records in one statement, each room's records
// only while its lease is held: a write whose room was lost gets ErrLeaseLost, as in
// a batch's transaction.
func (c *committer) recordAll(batch []*pendingWrite) {
	t := c.t
	sent := make([]database.Sent, len(batch))
	var rooms []id.RoomID
	for i, w := range batch {
		sent[i] = w.sent.row()
		if !slices.Contains(rooms, w.room) {
			rooms = append(rooms, w.room)
		}
	}
	var held map[id.RoomID]bool
	ctx := context.WithoutCancel(batch[0].ctx)
	err := t.guard.call(ctx, "record sends", func() (err error) {
		held, err = t.db.Outbox.MarkSentHeld(ctx, sent, database.LeasesHeld{Queue: outboxQueue, Rooms: rooms, Holder: t.holder, Now: t.now()})
		return err
	})
	for _, w := range batch {
		switch {
		case err != nil:
			w.done <- err
		case !held[w.room]:
			w.done <- ErrLeaseLost
		default:
			w.done <- nil
		}
	}
}

// firstWriteFailed fails a batch whose first write to run its function failed: that
// write ran without a savepoint, so the transaction cannot go on.
type firstWriteFailed struct{ index int }

func (f firstWriteFailed) Error() string {
	return fmt.Sprintf("the batch's first write (%d) failed", f.index)
}

// writeBatch is a batch's transaction: errs gets each write's own failure; an error
// returned fails the whole batch. Each write's function runs in a savepoint, so that
// one that fails is rolled back alone, except the first one to run: before it nothing
// has been written, so should it fail the whole transaction can go instead (see
// commit), one round trip less per batch.
func (c *committer) writeBatch(ctx context.Context, batch []*pendingWrite, errs []error) error {
	t := c.t
	held, err := c.leasesHeld(ctx, batch)
	if err != nil {
		return err
	}
	var handled []int64
	var sent []Sent
	wrote := false
	for i, w := range batch {
		if w.queue != "" && held != nil && !held[database.QueueRoom{Queue: w.queue, Room: w.room}] {
			errs[i] = ErrLeaseLost
			continue
		}
		switch {
		case w.fn == nil:
		case !wrote:
			if errs[i] = c.runWrite(ctx, w); errs[i] != nil {
				return firstWriteFailed{i}
			}
			wrote = true
		default:
			if errs[i], err = c.inSavepoint(ctx, i, w); err != nil {
				return err
			} else if errs[i] != nil {
				continue
			}
		}
		if w.handled != 0 {
			handled = append(handled, w.handled)
		}
		if w.sent != nil {
			sent = append(sent, *w.sent)
		}
	}
	if len(handled) > 0 {
		if err = t.db.Inbox.MarkDoneMany(ctx, handled, t.now()); err != nil {
			return err
		}
	}
	if len(sent) > 0 {
		return t.writeSent(ctx, sent, nil)
	}
	return nil
}

// leasesHeld checks, in one statement, which of the batch's leases this replica still
// holds (nil without replicas: every room is).
func (c *committer) leasesHeld(ctx context.Context, batch []*pendingWrite) (map[database.QueueRoom]bool, error) {
	if len(c.t.leases) == 0 {
		return nil, nil
	}
	var leases []database.QueueRoom
	for _, w := range batch {
		if w.queue != "" {
			leases = append(leases, database.QueueRoom{Queue: w.queue, Room: w.room})
		}
	}
	if len(leases) == 0 {
		return map[database.QueueRoom]bool{}, nil
	}
	return c.t.db.Leases.HoldsMany(ctx, leases, c.t.holder, c.t.now())
}

// inSavepoint runs one write's own function, rolled back alone when it fails: its
// own error first, then an error that fails the whole batch (the savepoint itself
// failing). Savepoints are not released one by one: the commit releases them all,
// and a batch stays far below PostgreSQL's 64 cached subtransactions.
func (c *committer) inSavepoint(txnCtx context.Context, i int, w *pendingWrite) (writeErr, batchErr error) {
	name := fmt.Sprintf("cc_group_%d", i)
	db := c.t.db
	if _, err := db.Exec(txnCtx, "SAVEPOINT "+name); err != nil {
		return nil, err
	}
	if writeErr = c.runWrite(txnCtx, w); writeErr == nil {
		return nil, nil
	}
	if _, err := db.Exec(txnCtx, "ROLLBACK TO SAVEPOINT "+name); err != nil {
		return writeErr, err
	}
	return writeErr, nil
}

// runWrite runs one write's function inside the batch's transaction, a panic its error.
func (c *committer) runWrite(txnCtx context.Context, w *pendingWrite) error {
	ctx := joinedContext{Context: txnCtx, values: w.ctx}
	return c.t.guard.call(ctx, w.what, func() error { return w.fn(ctx) })
}

// joinedContext is a write's own context (its logger, what it registers to run after
// the commit) inside the batch's transaction: values are looked up in the write's
// context first, then in the transaction's, which carries the transaction itself and
// its lifetime.
type joinedContext struct {
	context.Context
	values context.Context
}

func (c joinedContext) Value(key any) any {
	if v := c.values.Value(key); v != nil {
		return v
	}
	return c.Context.Value(key)
}
