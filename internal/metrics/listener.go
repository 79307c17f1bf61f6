package metrics

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"
)

// Server is the metrics listener.
type Server struct {
	srv  *http.Server
	addr net.Addr
	done chan struct{}
}

// Listen starts serving GET /metrics on listen (host:port); with listen empty it
// starts nothing and returns nil: metrics are off unless configured. Keep it on
// loopback or a private network: it needs no authentication.
func (m *Metrics) Listen(listen string, log zerolog.Logger) (*Server, error) {
	if listen == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{
		Registry: m.Registry, MaxRequestsInFlight: 4, Timeout: 10 * time.Second}))
	s := &Server{addr: ln.Addr(), done: make(chan struct{}), srv: &http.Server{Handler: mux,
		ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second,
		IdleTimeout: time.Minute, MaxHeaderBytes: 16 << 10}}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Err(err).Str("listen", listen).Msg("Metrics listener stopped")
		}
	}()
	log.Info().Str("listen", ln.Addr().String()).Msg("Serving metrics")
	return s, nil
}

// Addr is the address the listener is bound to.
func (s *Server) Addr() net.Addr { return s.addr }

// Close stops the listener, letting scrapes under way finish until ctx ends.
func (s *Server) Close(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	<-s.done
	return err
}
