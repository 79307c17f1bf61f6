package transport

import (
	"context"
	"errors"
	"sync"

	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/database"
)

// maxRecordBatch bounds the sends recorded in one transaction.
const maxRecordBatch = 64

// sentRecord is a send waiting to be written down.
type sentRecord struct {
	ctx     context.Context
	entry   *database.OutboxEntry
	eventID id.EventID
	done    chan error
}

// recorder writes down the sends of all rooms, several in one transaction: the rooms
// send in parallel, and each waits for its own record before its next send (so a
// room's order and the event map its next row may refer to are as before), but the
// records that arrive while a transaction commits share the next one.
type recorder struct {
	t       *Transport
	mu      sync.Mutex
	running bool
	queue   chan *sentRecord
	stopped chan struct{}
}

func newRecorder(t *Transport) *recorder {
	return &recorder{t: t, queue: make(chan *sentRecord, maxRecordBatch)}
}

// record writes one send down, in a shared transaction while the recorder runs and in
// one of its own otherwise.
func (r *recorder) record(ctx context.Context, entry *database.OutboxEntry, eventID id.EventID) error {
	r.mu.Lock()
	running, stopped := r.running, r.stopped
	r.mu.Unlock()
	if !running {
		return r.t.recordSent(ctx, entry, eventID)
	}
	rec := &sentRecord{ctx: ctx, entry: entry, eventID: eventID, done: make(chan error, 1)}
	select {
	case r.queue <- rec:
	case <-stopped:
		return r.t.recordSent(ctx, entry, eventID)
	}
	return <-rec.done
}

// run records until stop is closed and nothing is left to record.
func (r *recorder) run(stop <-chan struct{}) {
	r.mu.Lock()
	r.running, r.stopped = true, make(chan struct{})
	stopped := r.stopped
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.running = false
		close(stopped)
		r.mu.Unlock()
		// Records queued while stopping.
		for {
			select {
			case rec := <-r.queue:
				rec.done <- r.t.recordSent(rec.ctx, rec.entry, rec.eventID)
			default:
				return
			}
		}
	}()
	for {
		var batch []*sentRecord
		select {
		case rec := <-r.queue:
			batch = append(batch, rec)
		case <-stop:
			return
		}
	more:
		for len(batch) < maxRecordBatch {
			select {
			case rec := <-r.queue:
				batch = append(batch, rec)
			default:
				break more
			}
		}
		r.t.guard.run(batch[0].ctx, "record sends", func() { r.write(batch) })
	}
}

// write records a batch in one transaction; if that fails, each record is tried in
// a transaction of its own, so that one record's failure (a lost lease) is its own.
func (r *recorder) write(batch []*sentRecord) {
	answered := false
	defer func() {
		if !answered {
			for _, rec := range batch {
				select {
				case rec.done <- ErrPanicked:
				default: // answered before the panic
				}
			}
		}
	}()
	if len(batch) > 1 {
		err := r.t.txn(context.WithoutCancel(batch[0].ctx), "record sends", func(ctx context.Context) error {
			var errs []error
			for _, rec := range batch {
				errs = append(errs, r.t.writeSent(ctx, rec.entry, rec.eventID))
			}
			return errors.Join(errs...)
		})
		if err == nil {
			answered = true
			for _, rec := range batch {
				rec.done <- nil
			}
			return
		}
	}
	answered = true
	for _, rec := range batch {
		rec.done <- r.t.recordSent(rec.ctx, rec.entry, rec.eventID)
	}
}

// recordSent records one send in a transaction of its own.
func (t *Transport) recordSent(ctx context.Context, entry *database.OutboxEntry, eventID id.EventID) error {
	return t.txn(ctx, "record send", func(ctx context.Context) error {
		return t.writeSent(ctx, entry, eventID)
	})
}

// writeSent is a send's record: the row marked sent with its event ID, and the
// service's own writes (the event map).
func (t *Transport) writeSent(ctx context.Context, entry *database.OutboxEntry, eventID id.EventID) error {
	if err := t.checkLease(ctx, outboxQueue, entry.RoomID); err != nil {
		return err
	}
	if err := t.db.Outbox.MarkSent(ctx, entry.ID, eventID, t.now()); err != nil {
		return err
	}
	if t.cfg.OnSent != nil {
		return t.cfg.OnSent(ctx, entry, eventID)
	}
	return nil
}
