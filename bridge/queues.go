package bridge

import (
	"context"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bridge/transport"
)

// leaseTTL is how long a replica's lease lasts without renewal.
const leaseTTL = transport.LeaseTTL

// startQueues starts the transport and the loops that work on what it carries:
// retention, SQLite's checkpoints, and, unless the inbox is held, consent prompt timeouts, routing and the
// desk rooms' redactions.
func (b *Bridge) startQueues(ctx context.Context) error {
	t := b.queues()
	b.wg.Add(3)
	go func() {
		defer b.wg.Done()
		t.Run(ctx)
	}()
	go func() {
		defer b.wg.Done()
		b.retentionLoop(ctx)
	}()
	go func() {
		defer b.wg.Done()
		b.DB.CheckpointLoop(ctx)
	}()
	if !b.HoldInbox {
		b.wg.Add(2)
		go func() {
			defer b.wg.Done()
			b.expirePrompts(ctx)
		}()
		go func() {
			defer b.wg.Done()
			b.routeLoop(ctx)
		}()
	}
	if b.Config.Homeserver.SyncRedactions && !b.HoldInbox {
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			b.watchDeskRedactions(ctx)
		}()
	}
	return nil
}

// queueWaker wakes one of the transport's queues; before the transport exists (the
// database is not open yet) there is nothing to wake.
type queueWaker struct {
	b    *Bridge
	wake func(*transport.Transport)
}

// Wake makes the queue look for due rows now.
func (w queueWaker) Wake() {
	if w.b == nil {
		return
	}
	if t := w.b.transport.Load(); t != nil {
		w.wake(t)
	}
}

// handInbox starts the inbox's work on rooms just given new entries.
func (b *Bridge) handInbox(rooms ...id.RoomID) {
	if t := b.transport.Load(); t != nil && len(rooms) > 0 {
		t.HandInbox(rooms...)
	}
}

// queues returns the transport over the bridge's database, making it on first use.
func (b *Bridge) queues() *transport.Transport {
	b.transportOnce.Do(func() {
		t := transport.New(transport.Config{
			DB:       b.DB,
			Handle:   b.countFailures(b.handleEntry),
			ReadTurn: b.readTurn,
			OnGiveUp: b.countGiveUps(b.giveUp),
			OnPanic:  b.countPanic,
			Send:     b.sendEndingTyping,
			// What a handler's writes register with afterCommit runs once they commit.
			AroundCommit: b.commitWithAfter,
			HoldInbox:    b.HoldInbox,
			Now:          func() time.Time { return b.now() },
		})
		b.holder = t.Holder()
		b.setupLease = t.Lease("setup")
		b.transport.Store(t)
	})
	return b.transport.Load()
}

// drainInbox handles a room's due inbox entries in the caller's goroutine.
func (b *Bridge) drainInbox(ctx context.Context, roomID id.RoomID) {
	b.queues().DrainInbox(ctx, roomID)
}

// Panics counts the panics the transport recovered from (in handlers, sends and its
// own loops).
func (b *Bridge) Panics() int64 {
	if t := b.transport.Load(); t != nil {
		return t.Panics()
	}
	return 0
}
