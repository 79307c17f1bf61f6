package testbed

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
)

// SlowServer is a third homeserver, for customers whose own server is slow. Its
// federation listener is reached only through an in-process proxy (stallProxy): the
// port in its server name is the proxy's, and Dendrite binds another. Stall makes
// every federation request to it (a join, a media download, a key query) wait as it
// would on an overloaded or hostile server, on new and kept-alive connections alike,
// until Resume lets the held bytes through. Its own requests to other servers go to
// them directly and are never held, so its users' invites and messages keep arriving.
type SlowServer struct {
	*Server
	proxy *stallProxy
}

// Stall holds every byte to and from the server's federation listener.
func (s *SlowServer) Stall() { s.proxy.stall() }

// Resume lets what was held, and everything after it, through.
func (s *SlowServer) Resume() { s.proxy.resume() }

// Stalled reports whether the server's federation traffic is held.
func (s *SlowServer) Stalled() bool { return s.proxy.stalled() }

// Waiting is how many federation connections have traffic held right now, counted
// once per direction: above zero, someone is waiting on the server. Requests share
// connections (keep-alive, HTTP/2), so it does not count requests.
func (s *SlowServer) Waiting() int { return int(s.proxy.held.Load()) }

// close stops the server and its proxy.
func (s *SlowServer) close() {
	_ = s.Stop(context.Background())
	s.proxy.close()
}

// StartSlowServer starts a third server named name (its directory is Dir/name) next to
// the bed's two, and returns once it and the business server can each fetch the
// other's signing keys: the business server then has the keys cached, which it needs
// to accept the server's invites and events while the server is stalled. Close stops
// it with the others.
func (b *Bed) StartSlowServer(ctx context.Context, name string) (*SlowServer, error) {
	proxy, err := listenStallProxy()
	if err != nil {
		return nil, err
	}
	proxy.serve()
	s, err := b.startBehindProxy(ctx, name, proxy)
	if err != nil {
		proxy.close()
		return nil, err
	}
	slow := &SlowServer{Server: s, proxy: proxy}
	b.mu.Lock()
	b.extra = append(b.extra, slow)
	b.mu.Unlock()
	if err := waitKeyExchange(ctx, b.Business, s); err != nil {
		return nil, err
	}
	return slow, nil
}

// startBehindProxy configures and starts a server whose name carries the proxy's
// port. A port taken between picking it and Dendrite binding it is picked again once;
// the name, and so the config, stays the same.
func (b *Bed) startBehindProxy(ctx context.Context, name string, proxy *stallProxy) (*Server, error) {
	secret, err := randomHex(16)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(b.Dir, name)
	s := &Server{
		Name:         name,
		ServerName:   "localhost:" + strconv.Itoa(proxy.port()),
		SharedSecret: secret,
		Dir:          dir,
		binDir:       b.Business.binDir,
		files:        serverFiles{dir: dir},
	}
	if err := writeServerConfig(ctx, s.binDir, s.files, s.ServerName, secret, nil); err != nil {
		return nil, fmt.Errorf("testbed: configure %s server: %w", name, err)
	}
	for attempt := 0; ; attempt++ {
		if s.clientPort, err = FreePort(); err != nil {
			return nil, err
		}
		if s.fedPort, err = FreePort(); err != nil {
			return nil, err
		}
		if s.fedPort == s.clientPort {
			continue
		}
		s.URL = "http://127.0.0.1:" + strconv.Itoa(s.clientPort)
		proxy.setTarget("127.0.0.1:" + strconv.Itoa(s.fedPort))
		err = s.Start(ctx)
		if err == nil || attempt > 0 || !s.bindFailed() {
			return s, err
		}
	}
}
