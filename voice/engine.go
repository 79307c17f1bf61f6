package voice

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/rs/zerolog"
)

// ErrClosed is returned by NewCall once the engine is closing.
var ErrClosed = errors.New("voice: engine closed")

// Engine owns the pion API and every call of the service.
type Engine struct {
	cfg    Config
	api    *webrtc.API
	log    zerolog.Logger
	prompt *prompt
	ids    atomic.Uint64
	wg     sync.WaitGroup

	mu     sync.Mutex
	calls  map[*Call]struct{}
	closed bool
}

// New returns an engine for cfg.
func New(cfg Config, log zerolog.Logger) (*Engine, error) {
	cfg = cfg.withDefaults()
	api, err := cfg.API()
	if err != nil {
		return nil, err
	}
	e := &Engine{cfg: cfg, api: api, log: log, calls: map[*Call]struct{}{}}
	if !cfg.NoPrompt {
		b := cfg.Prompt
		if b == nil {
			b = builtinPrompt
		}
		if e.prompt, err = loadPrompt(b); err != nil {
			return nil, err
		}
	}
	return e, nil
}

func (e *Engine) nextID() uint64 { return e.ids.Add(1) }

// spawn runs f in a goroutine that Close waits for.
func (e *Engine) spawn(f func()) {
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		f()
	}()
}

// NewCall starts a call; add its legs with AcceptCustomer and DialAgent.
func (e *Engine) NewCall(opts CallOptions) (*Call, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, ErrClosed
	}
	c := &Call{e: e, id: opts.ID, onEvent: opts.OnEvent, created: time.Now(), done: make(chan struct{}), modes: map[*Leg]Mode{}}
	c.log = e.log.With().Str("call", opts.ID).Logger()
	e.calls[c] = struct{}{}
	return c, nil
}

func (e *Engine) forget(c *Call) {
	e.mu.Lock()
	delete(e.calls, c)
	e.mu.Unlock()
}

// Calls are the calls not yet released.
func (e *Engine) Calls() []*Call {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]*Call, 0, len(e.calls))
	for c := range e.calls {
		out = append(out, c)
	}
	return out
}

// Close hangs up every call (unknown_error: the service is going away, none is
// left ringing) and waits until all media goroutines and PeerConnections ended,
// or ctx ends.
func (e *Engine) Close(ctx context.Context) error {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	for _, c := range e.Calls() {
		c.Hangup(ReasonUnknownError)
	}
	done := make(chan struct{})
	go func() {
		e.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
