package transport

import (
	"context"
	"sync"
)

// inFlight are the sends whose records are being written. A room sends its rows one
// after the other without waiting for each record (the send's transaction ID makes a
// resend harmless if a record is lost to a crash); what needs those records waits
// here: the end of the room's turn, so that the next turn does not read the rows again
// (and, with replicas, the room's lease is still held), and senders that read what
// earlier sends recorded (Recorded).
type inFlight struct {
	mu   sync.Mutex
	rows map[int64]chan struct{}
}

func newInFlight() *inFlight { return &inFlight{rows: map[int64]chan struct{}{}} }

// add notes a send whose record is on its way; done must follow.
func (f *inFlight) add(rowID int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rows[rowID] = make(chan struct{})
}

// done notes that a send's record was written, or failed (the row is then sent again,
// deduplicated by the homeserver).
func (f *inFlight) done(rowID int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ch := f.rows[rowID]; ch != nil {
		close(ch)
		delete(f.rows, rowID)
	}
}

// wait returns once the records of the given rows (all rows in flight now, for nil)
// are written or have failed.
func (f *inFlight) wait(ctx context.Context, rowIDs []int64) error {
	f.mu.Lock()
	var chans []chan struct{}
	if rowIDs == nil {
		for _, ch := range f.rows {
			chans = append(chans, ch)
		}
	} else {
		for _, id := range rowIDs {
			if ch := f.rows[id]; ch != nil {
				chans = append(chans, ch)
			}
		}
	}
	f.mu.Unlock()
	for _, ch := range chans {
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
