package dashboard

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// snapshotTimeout bounds one read of the Source.
const snapshotTimeout = 10 * time.Second

// hub keeps one feed per tenant that has open streams: one subscription to the
// Source's notices, and on each notice one snapshot per distinct viewer (all the
// tenant's supervisors share one), encoded once and handed to every stream of that
// viewer. A slow stream skips to the newest frame instead of queueing old ones.
type hub struct {
	src     Source
	refresh time.Duration
	log     zerolog.Logger

	mu     sync.Mutex
	feeds  map[string]*feed
	closed bool
}

type feed struct {
	tenant  string
	streams map[*stream]struct{}
	stop    chan struct{}
}

// stream is one open event stream.
type stream struct {
	viewer Viewer
	out    chan []byte // the newest frame not yet written; capacity 1
	ended  chan struct{}
}

func newHub(src Source, refresh time.Duration, log zerolog.Logger) *hub {
	return &hub{src: src, refresh: refresh, log: log, feeds: map[string]*feed{}}
}

// join adds a stream to its tenant's feed, starting the feed if it is the first.
func (h *hub) join(tenant string, st *stream) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	f := h.feeds[tenant]
	if f == nil {
		f = &feed{tenant: tenant, streams: map[*stream]struct{}{}, stop: make(chan struct{})}
		h.feeds[tenant] = f
		notices, cancel := h.src.Subscribe(tenant)
		go h.pump(f, notices, cancel)
	}
	f.streams[st] = struct{}{}
	return true
}

// leave removes a stream; the last one out stops the feed.
func (h *hub) leave(tenant string, st *stream) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f := h.feeds[tenant]
	if f == nil {
		return
	}
	delete(f.streams, st)
	if len(f.streams) == 0 {
		delete(h.feeds, tenant)
		close(f.stop)
	}
}

// close ends every stream and feed.
func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for tenant, f := range h.feeds {
		for st := range f.streams {
			close(st.ended)
		}
		close(f.stop)
		delete(h.feeds, tenant)
	}
}

func (h *hub) pump(f *feed, notices <-chan struct{}, cancel func()) {
	defer cancel()
	tick := time.NewTicker(h.refresh)
	defer tick.Stop()
	for {
		select {
		case <-f.stop:
			return
		case <-notices:
		case <-tick.C:
		}
		h.publish(f)
	}
}

// publish reads a snapshot for each viewer of the feed and hands it to their streams.
func (h *hub) publish(f *feed) {
	h.mu.Lock()
	byViewer := map[Viewer][]*stream{}
	for st := range f.streams {
		byViewer[st.viewer] = append(byViewer[st.viewer], st)
	}
	h.mu.Unlock()
	for viewer, streams := range byViewer {
		frame, err := h.frame(context.Background(), f.tenant, viewer)
		if err != nil {
			h.log.Warn().Err(err).Str("tenant", f.tenant).Str("role", string(viewer.Role)).Msg("Dashboard snapshot failed")
			continue
		}
		for _, st := range streams {
			st.offer(frame)
		}
	}
}

// frame reads, narrows and encodes one snapshot as a server-sent event.
func (h *hub) frame(ctx context.Context, tenant string, viewer Viewer) ([]byte, error) {
	view, err := h.view(ctx, tenant, viewer)
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(view)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Grow(len(data) + 32)
	b.WriteString("event: snapshot\ndata: ")
	b.Write(data) // JSON from Marshal holds no raw newline
	b.WriteString("\n\n")
	return b.Bytes(), nil
}

func (h *hub) view(ctx context.Context, tenant string, viewer Viewer) (*Snapshot, error) {
	ctx, cancel := context.WithTimeout(ctx, snapshotTimeout)
	defer cancel()
	snap, err := h.src.Snapshot(ctx, tenant, viewer)
	if err != nil {
		return nil, err
	}
	view, err := ForViewer(snap, tenant, viewer)
	if err != nil {
		return nil, err
	}
	if view.At.IsZero() { // the page counts ages from this clock
		view.At = time.Now()
	}
	return view, nil
}

// offer replaces whatever frame the stream has not written yet with the newer one.
func (st *stream) offer(frame []byte) {
	for {
		select {
		case st.out <- frame:
			return
		default:
		}
		select {
		case <-st.out:
		default:
		}
	}
}

// currentViewer authenticates the request and checks the staff list again, so that a
// stream or snapshot never outlives the user's place on the staff by more than a
// session.
func (s *Server) currentViewer(r *http.Request) (Session, *apiError) {
	sess, _, e := s.authenticate(r)
	if e != nil {
		return Session{}, e
	}
	role, ok, err := s.opts.Staff.StaffRole(r.Context(), sess.Tenant, sess.UserID)
	if err != nil {
		s.opts.Log.Err(err).Str("tenant", sess.Tenant).Msg("Dashboard staff lookup failed")
		return Session{}, &apiError{http.StatusInternalServerError, "M_UNKNOWN", "Could not check the staff list"}
	}
	if !ok || role != sess.Role {
		return Session{}, errNoSession
	}
	return sess, nil
}

func (s *Server) getSnapshot(w http.ResponseWriter, r *http.Request) {
	sess, e := s.currentViewer(r)
	if e != nil {
		writeError(w, e)
		return
	}
	view, err := s.hub.view(r.Context(), sess.Tenant, sess.Viewer())
	if err != nil {
		s.opts.Log.Err(err).Str("tenant", sess.Tenant).Msg("Dashboard snapshot failed")
		writeError(w, &apiError{http.StatusInternalServerError, "M_UNKNOWN", "Could not read the figures"})
		return
	}
	writeJSON(w, http.StatusOK, view)
}

// getEvents streams snapshots as server-sent events until the client goes, the
// session expires (an "expired" event; the page renews and reconnects) or the server
// closes.
func (s *Server) getEvents(w http.ResponseWriter, r *http.Request) {
	sess, e := s.currentViewer(r)
	if e != nil {
		writeError(w, e)
		return
	}
	rc := http.NewResponseController(w)
	st := &stream{viewer: sess.Viewer(), out: make(chan []byte, 1), ended: make(chan struct{})}
	if !s.hub.join(sess.Tenant, st) {
		writeError(w, &apiError{http.StatusServiceUnavailable, "M_UNKNOWN", "Shutting down"})
		return
	}
	defer s.hub.leave(sess.Tenant, st)
	first, err := s.hub.frame(r.Context(), sess.Tenant, st.viewer)
	if err != nil {
		s.opts.Log.Err(err).Str("tenant", sess.Tenant).Msg("Dashboard snapshot failed")
		writeError(w, &apiError{http.StatusInternalServerError, "M_UNKNOWN", "Could not read the figures"})
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no") // nginx: pass events on at once
	w.WriteHeader(http.StatusOK)
	// The listener's write timeout is for ordinary answers; a stream instead gets a
	// deadline per write, so a client that stops reading is dropped.
	write := func(b []byte) bool {
		if err := rc.SetWriteDeadline(time.Now().Add(2 * s.opts.KeepAlive)); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return false
		}
		if _, err := w.Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write([]byte("retry: 2000\n\n")) || !write(first) {
		return
	}
	keepAlive := time.NewTicker(s.opts.KeepAlive)
	defer keepAlive.Stop()
	expiry := time.NewTimer(sess.Expires.Sub(s.opts.Now()))
	defer expiry.Stop()
	for {
		select {
		case frame := <-st.out:
			if !write(frame) {
				return
			}
		case <-keepAlive.C:
			if !write([]byte(": keep-alive\n\n")) {
				return
			}
		case <-expiry.C:
			write([]byte("event: expired\ndata: {}\n\n"))
			return
		case <-st.ended:
			return
		case <-r.Context().Done():
			return
		}
	}
}
