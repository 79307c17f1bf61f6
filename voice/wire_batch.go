package voice

import (
	"sync"
	"time"
)

// CandidateBatchDelay is how long local candidates are gathered into one
// m.call.candidates event: one event per candidate would hit homeserver rate
// limits, and matrix-js-sdk batches the same way.
const CandidateBatchDelay = 200 * time.Millisecond

// CandidateBatcher collects local ICE candidates and hands them out in batches.
// It starts held: nothing goes out before Release, so candidates never precede
// the invite or answer they belong to. Flush calls are serialised and in order.
type CandidateBatcher struct {
	delay time.Duration
	flush func([]Candidate)

	sendMu sync.Mutex // serialises flush calls

	mu      sync.Mutex
	pending []Candidate
	timer   *time.Timer
	held    bool
	stopped bool
}

// NewCandidateBatcher returns a held batcher calling flush with each batch.
func NewCandidateBatcher(delay time.Duration, flush func([]Candidate)) *CandidateBatcher {
	return &CandidateBatcher{delay: delay, flush: flush, held: true}
}

// Add queues a candidate; a batch goes out delay after the first queued one.
func (b *CandidateBatcher) Add(c Candidate) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.stopped {
		return
	}
	b.pending = append(b.pending, c)
	b.scheduleLocked()
}

// End queues the end-of-candidates marker (an empty candidate for the first
// media section) and sends the batch without waiting.
func (b *CandidateBatcher) End(sdpMid string) {
	var idx uint16
	b.mu.Lock()
	if b.stopped {
		b.mu.Unlock()
		return
	}
	b.pending = append(b.pending, Candidate{Candidate: "", SDPMid: &sdpMid, SDPMLineIndex: &idx})
	held := b.held
	b.mu.Unlock()
	if !held {
		b.send()
	}
}

// Release lets batches go out, starting with what was queued while held.
func (b *CandidateBatcher) Release() {
	b.mu.Lock()
	b.held = false
	n := len(b.pending)
	b.mu.Unlock()
	if n > 0 {
		b.send()
	}
}

// Stop drops what is queued and sends nothing more.
func (b *CandidateBatcher) Stop() {
	b.mu.Lock()
	b.stopped = true
	b.pending = nil
	if b.timer != nil {
		b.timer.Stop()
	}
	b.mu.Unlock()
}

func (b *CandidateBatcher) scheduleLocked() {
	if b.held || b.timer != nil {
		return
	}
	b.timer = time.AfterFunc(b.delay, b.send)
}

func (b *CandidateBatcher) send() {
	b.sendMu.Lock()
	defer b.sendMu.Unlock()
	b.mu.Lock()
	if b.timer != nil {
		b.timer.Stop()
		b.timer = nil
	}
	batch := b.pending
	b.pending = nil
	stopped := b.stopped
	b.mu.Unlock()
	if len(batch) > 0 && !stopped {
		b.flush(batch)
	}
}
