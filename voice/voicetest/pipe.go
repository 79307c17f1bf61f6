// Package voicetest has the pieces to exercise the relay with real WebRTC
// endpoints: a pion peer that behaves like a Matrix client on the wire (Peer),
// an in-order signalling pipe that passes every m.call.* event through its JSON
// encoding (Pipe), and timestamped, checksummed test payloads. Tests and
// benchmarks use it; nothing here is a mock of WebRTC.
package voicetest

import (
	"encoding/json"
	"sync"

	"github.com/contactcenter/contactcenter/voice"
)

// Wire is one event as it went through a pipe.
type Wire struct {
	Type    string
	Content json.RawMessage
}

// Pipe carries call events one way, in order, like a room: each message is
// encoded as the relay would send it and parsed back before delivery, so the
// wire format is exercised on every event. Delivery waits until a target is set.
type Pipe struct {
	ch    chan voice.Message
	done  chan struct{}
	ready chan struct{}

	mu     sync.Mutex
	target func(voice.Message)
	log    []Wire
	errs   []error
}

// NewPipe starts a pipe; Close stops it.
func NewPipe() *Pipe {
	p := &Pipe{ch: make(chan voice.Message, 1024), done: make(chan struct{}), ready: make(chan struct{})}
	go p.run()
	return p
}

// SetTarget sets where messages go; it can be set once.
func (p *Pipe) SetTarget(f func(voice.Message)) {
	p.mu.Lock()
	p.target = f
	p.mu.Unlock()
	close(p.ready)
}

// Send queues a message. It never blocks for long (it is a leg's Send).
func (p *Pipe) Send(m voice.Message) {
	typ, raw, err := voice.Encode(m)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.errs = append(p.errs, err)
		return
	}
	p.log = append(p.log, Wire{Type: typ, Content: raw})
	parsed, err := voice.Parse(typ, raw)
	if err != nil {
		p.errs = append(p.errs, err)
		return
	}
	select {
	case p.ch <- parsed:
	case <-p.done:
	}
}

// Log returns the events sent so far.
func (p *Pipe) Log() []Wire {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Wire{}, p.log...)
}

// Errors are the encode/parse failures seen.
func (p *Pipe) Errors() []error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]error{}, p.errs...)
}

// Close stops delivering.
func (p *Pipe) Close() {
	select {
	case <-p.done:
	default:
		close(p.done)
	}
}

func (p *Pipe) run() {
	select {
	case <-p.ready:
	case <-p.done:
		return
	}
	p.mu.Lock()
	target := p.target
	p.mu.Unlock()
	for {
		select {
		case m := <-p.ch:
			target(m)
		case <-p.done:
			return
		}
	}
}
