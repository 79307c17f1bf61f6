package testbed

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
)

// stallProxy forwards TCP connections from its own loopback port to a target port and
// can stall: while stalled, no byte passes in either direction on any connection,
// whether it was open before the stall or accepted during it. Connections stay open,
// so a peer sees a server that accepts and then does not answer (no reset, no error),
// which is what an overloaded or hostile homeserver looks like. Resume lets everything
// held through, in order.
//
// Gating bytes rather than refusing connections matters: Go's HTTP client keeps
// federation connections alive (and multiplexes HTTP/2 streams over one), so a
// request may never open a new connection.
type stallProxy struct {
	ln   net.Listener
	done chan struct{} // closed by close

	mu      sync.Mutex
	target  string
	passing chan struct{} // closed while bytes pass; open while stalled
	conns   map[net.Conn]struct{}

	held atomic.Int64 // copy loops holding a chunk until the stall ends (one per connection and direction)
	wg   sync.WaitGroup
}

// listenStallProxy listens on a free loopback port; it forwards nothing until
// setTarget and serve.
func listenStallProxy() (*stallProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	passing := make(chan struct{})
	close(passing)
	return &stallProxy{ln: ln, done: make(chan struct{}), passing: passing, conns: map[net.Conn]struct{}{}}, nil
}

// port is the port the proxy listens on.
func (p *stallProxy) port() int { return p.ln.Addr().(*net.TCPAddr).Port }

// setTarget names where new connections go ("127.0.0.1:<port>").
func (p *stallProxy) setTarget(addr string) {
	p.mu.Lock()
	p.target = addr
	p.mu.Unlock()
}

// serve accepts connections until close.
func (p *stallProxy) serve() {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := p.ln.Accept()
			if err != nil {
				return
			}
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				p.forward(c)
			}()
		}
	}()
}

// stall holds every byte from now on, until resume.
func (p *stallProxy) stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.passing:
		p.passing = make(chan struct{})
	default: // already stalled
	}
}

// resume lets what was held and everything after it through.
func (p *stallProxy) resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.passing:
	default:
		close(p.passing)
	}
}

// stalled reports whether bytes are being held.
func (p *stallProxy) stalled() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.passing:
		return false
	default:
		return true
	}
}

// close stops listening and drops every connection.
func (p *stallProxy) close() {
	p.mu.Lock()
	select {
	case <-p.done:
		p.mu.Unlock()
		return
	default:
	}
	close(p.done)
	_ = p.ln.Close()
	for c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// forward connects c to the target and copies both ways through the gate.
func (p *stallProxy) forward(c net.Conn) {
	p.mu.Lock()
	target := p.target
	p.mu.Unlock()
	if target == "" {
		_ = c.Close()
		return
	}
	up, err := net.Dial("tcp", target)
	if err != nil {
		_ = c.Close()
		return
	}
	if !p.track(c, up) {
		return
	}
	var both sync.WaitGroup
	both.Add(2)
	go func() { defer both.Done(); p.pipe(up, c) }()
	go func() { defer both.Done(); p.pipe(c, up) }()
	both.Wait()
	p.untrack(c, up)
}

// track registers open connections so close can drop them; false (with both closed)
// once the proxy is closing.
func (p *stallProxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.done:
		for _, c := range conns {
			_ = c.Close()
		}
		return false
	default:
	}
	for _, c := range conns {
		p.conns[c] = struct{}{}
	}
	return true
}

func (p *stallProxy) untrack(conns ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
		delete(p.conns, c)
	}
}

// pipe copies src to dst, holding each chunk while the proxy is stalled. The end of
// src is passed on as a half-close, so a peer that finished writing can still read;
// a failure closes both ends.
func (p *stallProxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !p.gate() {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				_, _ = src.Close(), dst.Close()
				return
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				if tc, ok := dst.(*net.TCPConn); ok {
					_ = tc.CloseWrite()
					return
				}
			}
			_, _ = src.Close(), dst.Close()
			return
		}
	}
}

// gate waits while the proxy is stalled; false once it is closing.
func (p *stallProxy) gate() bool {
	p.mu.Lock()
	passing := p.passing
	p.mu.Unlock()
	select {
	case <-passing:
		return true
	default:
	}
	p.held.Add(1)
	defer p.held.Add(-1)
	select {
	case <-passing:
		return true
	case <-p.done:
		return false
	}
}
