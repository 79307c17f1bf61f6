package transport

import (
	"context"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/database"
)

const (
	// maxInboxAttempts bounds retries of one event (about 10 minutes with backoff).
	maxInboxAttempts = 12
	maxInboxBackoff  = 2 * time.Minute
)

// Job is one inbox entry being handled. A handler's writes and the entry's "handled"
// mark are one database transaction (Commit), so a crash leaves either both or neither.
type Job struct {
	Entry     *database.InboxEntry
	t         *Transport
	committed bool
	after     []func(ctx context.Context)
	// reused is what the turn's previous job kept for this one, kept what this one
	// keeps for the next (see turnMemo).
	reused, kept any
}

// Key is the entry's inbox key (the event ID for events that have one): the natural
// part of the dedupe keys of what handling it sends.
func (j *Job) Key() string { return j.Entry.Key }

// RoomID is the room the entry belongs to.
func (j *Job) RoomID() id.RoomID { return j.Entry.RoomID }

// Attempts is how many times handling the entry failed before.
func (j *Job) Attempts() int { return j.Entry.Attempts }

// Committed tells whether Commit succeeded.
func (j *Job) Committed() bool { return j.committed }

// Reused is what the handler of the room's previous entry in this turn kept for this
// one (KeepForNext), or nil.
func (j *Job) Reused() any { return j.reused }

// KeepForNext leaves v for the handler of the room's next entry in this turn, once
// this job has committed. Keep only what this job's writes left as it was read.
func (j *Job) KeepForNext(v any) { j.kept = v }

// AfterCommit registers fn to run once the job's commit has succeeded.
func (j *Job) AfterCommit(fn func(ctx context.Context)) { j.after = append(j.after, fn) }

// Commit runs writes and marks the entry handled, atomically. With replicas, the
// transaction also checks that this replica still holds the room, else nothing is
// written (ErrLeaseLost) and the new holder handles the entry.
func (j *Job) Commit(ctx context.Context, writes func(ctx context.Context) error) error {
	return j.commit(ctx, &pendingWrite{fn: writes})
}

// CommitMarking is Commit for writes that can make the entry's "handled" mark
// themselves, in the same statement, only while this replica holds the room (held
// false: nothing written, and Commit's ErrLeaseLost follows). On PostgreSQL, write
// gets the mark and its statement is the whole commit, run at once without BEGIN and
// COMMIT and without waiting to share a transaction with other writes; on SQLite it
// runs in a transaction (shared or not) with a nil mark and the entry is marked as
// Commit marks it.
func (j *Job) CommitMarking(ctx context.Context, write func(ctx context.Context, mark *database.InboxMark) (held bool, err error)) error {
	return j.commit(ctx, markingWrite(write))
}

// markingWrite is a write that can carry the inbox mark, and its form that cannot.
func markingWrite(write func(ctx context.Context, mark *database.InboxMark) (bool, error)) *pendingWrite {
	return &pendingWrite{marking: write, fn: func(ctx context.Context) error {
		_, err := write(ctx, nil)
		return err
	}}
}

func (j *Job) commit(ctx context.Context, w *pendingWrite) error {
	t := j.t
	w.what, w.queue, w.room, w.handled = "commit", inboxQueue, j.Entry.RoomID, j.Entry.Seq
	if err := t.inboxTxn(ctx, w); err != nil {
		return err
	}
	j.committed = true
	for _, fn := range j.after {
		t.guard.run(ctx, "after commit", func() { fn(ctx) })
	}
	if t.cfg.AfterCommit != nil {
		t.guard.run(ctx, "after commit", func() { t.cfg.AfterCommit(ctx, j) })
	}
	return nil
}

func (t *Transport) newInboxDrainer() *drainer[*database.InboxEntry] {
	return &drainer[*database.InboxEntry]{
		queue: inboxQueue,
		heads: t.inboxHeads,
		state: func(e *database.InboxEntry) rowState {
			return rowState{id: e.Seq, key: e.Key, attempts: e.Attempts, nextAttempt: e.NextAttempt}
		},
		work:    t.handle,
		timeout: t.cfg.HandlerTimeout,
		giveUp:  t.giveUpEntry,
		plainGiveUp: func(ctx context.Context, seq int64, cause error) error {
			return t.db.Inbox.GiveUp(ctx, seq, t.now(), cause)
		},
		markFailed: t.db.Inbox.MarkFailed,
		retry:      retryPolicy{maxAttempts: maxInboxAttempts, maxBackoff: maxInboxBackoff},
		now:        t.now,
		guard:      &t.guard,
	}
}

// inboxHeads reads a turn's entries, and the room's state for its first job when the
// caller reads that with them (Config.ReadTurn).
func (t *Transport) inboxHeads(ctx context.Context, roomID id.RoomID, limit int) ([]*database.InboxEntry, error) {
	if t.cfg.ReadTurn == nil {
		return t.db.Inbox.Heads(ctx, roomID, limit)
	}
	heads, state, err := t.cfg.ReadTurn(ctx, roomID, limit)
	if err == nil {
		turnMemoOf(ctx).leave(state)
	}
	return heads, err
}

// handle runs the handler on one entry and commits it if the handler did not. The
// rooms that got outbox rows while it ran (in its commit, or in transactions of its
// own) are handed to the outbox at once; when none did, the outbox is left alone.
func (t *Transport) handle(ctx context.Context, entry *database.InboxEntry) error {
	ctx, queued := database.CollectEnqueued(ctx)
	defer func() { t.outbox.HandInOrder(queued.Rooms()) }()
	memo := turnMemoOf(ctx)
	j := &Job{Entry: entry, t: t, reused: memo.take()}
	if err := t.cfg.Handle(ctx, j); err != nil {
		return err
	}
	if !j.committed {
		if err := j.Commit(ctx, nil); err != nil {
			return err
		}
	}
	memo.leave(j.kept)
	return nil
}

// giveUpEntry finishes an entry that cannot be handled, with the reason kept and the
// service's own give-up writes in the same transaction.
func (t *Transport) giveUpEntry(ctx context.Context, entry *database.InboxEntry, cause error) error {
	ctx, queued := database.CollectEnqueued(ctx)
	err := t.inboxTxn(ctx, &pendingWrite{what: "give-up", queue: inboxQueue, room: entry.RoomID, fn: func(ctx context.Context) error {
		if err := t.db.Inbox.GiveUp(ctx, entry.Seq, t.now(), cause); err != nil {
			return err
		}
		if t.cfg.OnGiveUp != nil {
			return t.cfg.OnGiveUp(ctx, entry, cause)
		}
		return nil
	}})
	if err == nil {
		t.outbox.Hand(queued.Rooms()...)
	}
	return err
}
