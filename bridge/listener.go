package bridge

import (
	"net"
	"net/http"
	"time"

	"golang.org/x/net/netutil"

	"github.com/contactcenter/contactcenter/config"
)

// Time limits of the listener. The homeserver's transactions and the tenants' API
// calls are small and quick; a client that sends its request slowly, or never,
// holds a connection no longer than these.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 60 * time.Second
	maxHeaderBytes    = 64 << 10
)

// newHTTPServer is the listener's server with its time limits; idle keep-alive
// connections are closed after idle (0: the config's default).
func newHTTPServer(handler http.Handler, idle time.Duration) *http.Server {
	if idle <= 0 {
		idle = config.DefaultIdleTimeout
	}
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idle,
		MaxHeaderBytes:    maxHeaderBytes,
	}
}

// limitListener caps the open connections (0: the config's default); the ones over
// the cap wait to be accepted, so a flood of idle connections cannot exhaust the
// process's file descriptors.
func limitListener(ln net.Listener, max int) net.Listener {
	if max <= 0 {
		max = config.DefaultMaxConnections
	}
	return netutil.LimitListener(ln, max)
}
