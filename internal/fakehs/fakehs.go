// Package fakehs is a fast in-process fake homeserver: just enough of the client-server
// API for an appservice to start, join customer rooms, create its own rooms (with
// state, invites and kicks), set profiles, copy media and send, with no federation and
// no persistence. Of end-to-end encryption it has only what a device needs to exist
// (appservice login, key upload and query); rooms are never encrypted. The benchmarks
// use it so that what they measure is the appservice's own cost, not a real
// homeserver's.
//
// What it does not do, and a real homeserver does: push anything back to the
// appservice. A real server sends the appservice the events its own users sent (each
// relayed copy comes back in a transaction), invites to its users, and what happens in
// the rooms it created; here only the benchmark's driver sends transactions.
package fakehs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Options configure a fake homeserver.
type Options struct {
	// ASToken is the appservice's token (its requests use it for every user, with
	// ?user_id=); the only other tokens accepted are those of devices logged in with it.
	ASToken string
	// Domain is the server name; SenderLocalpart the registration's sender, who is the
	// user when a request has no ?user_id=.
	Domain, SenderLocalpart string
	// AppserviceURL and HSToken, when both set, make the ping endpoint (MSC2659) call
	// the appservice as a real homeserver does; otherwise the ping answers without it.
	AppserviceURL, HSToken string
	Log                    zerolog.Logger
}

// Versions are the spec versions advertised: v1.11 has everything the service uses
// (the appservice ping from v1.7 on, authenticated media downloads from v1.11).
var Versions = []string{"v1.1", "v1.2", "v1.3", "v1.4", "v1.5", "v1.6", "v1.7", "v1.8", "v1.9", "v1.10", "v1.11"}

// Server is a running fake homeserver.
type Server struct {
	URL string

	opts    Options
	srv     *http.Server
	closing chan struct{}

	mu           sync.Mutex
	registered   map[string]bool
	profiles     map[string]map[string]string // user -> field -> value
	members      map[string]map[string]string // room -> user -> membership
	sent         map[string]string            // user|txn -> event ID (dedupe)
	sendsPerRoom map[string]int
	sends        int
	nextID       int
	changed      chan struct{} // closed and replaced on every new send
	unknown      map[string]int
	devices      map[string]device                     // access token -> device
	deviceKeys   map[string]map[string]json.RawMessage // user -> device ID -> keys
	crossSigning map[string]crossSigning               // user -> published cross-signing keys
	// roomState is the state of rooms created here (customer rooms, which "federation"
	// made known through SetMembership, have none but their members).
	roomState map[string]map[stateKey]*stateEvent
	media     map[string]media // "server/id" -> content
	counts    map[string]int   // requests by kind, see Counts
	invitesTo map[string]int   // user -> invites that succeeded, see InvitesTo
}

// Start listens on a free loopback port and serves until Close.
func Start(opts Options) (*Server, error) {
	if opts.ASToken == "" || opts.Domain == "" {
		return nil, errors.New("fakehs: ASToken and Domain are required")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{
		URL: "http://" + ln.Addr().String(), opts: opts, closing: make(chan struct{}),
		registered: map[string]bool{}, profiles: map[string]map[string]string{},
		members: map[string]map[string]string{}, sent: map[string]string{},
		sendsPerRoom: map[string]int{}, changed: make(chan struct{}), unknown: map[string]int{},
		devices: map[string]device{}, deviceKeys: map[string]map[string]json.RawMessage{}, crossSigning: map[string]crossSigning{},
		roomState: map[string]map[stateKey]*stateEvent{}, media: map[string]media{}, counts: map[string]int{},
		invitesTo: map[string]int{},
	}
	s.srv = &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// Close stops the server at once, ending long-polling /sync requests.
func (s *Server) Close() {
	close(s.closing)
	_ = s.srv.Close()
}

func (s *Server) routes() http.Handler {
	const c = "/_matrix/client/"
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+c+"versions", s.versions)
	auth := func(pattern string, h func(w http.ResponseWriter, r *http.Request, user string)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			if user, ok := s.authorize(w, r); ok {
				h(w, r, user)
			}
		})
	}
	auth("GET "+c+"v3/account/whoami", func(w http.ResponseWriter, r *http.Request, user string) {
		writeJSON(w, http.StatusOK, map[string]string{"user_id": user})
	})
	auth("POST "+c+"v3/register", s.register)
	auth("POST "+c+"v3/login", s.login)
	auth("POST "+c+"v3/keys/upload", s.uploadKeys)
	auth("POST "+c+"v3/keys/query", s.queryKeys)
	auth("POST "+c+"v3/keys/device_signing/upload", s.uploadCrossSigning)
	auth("POST "+c+"v3/keys/signatures/upload", s.uploadSignatures)
	auth("GET "+c+"v3/profile/{user}/{field}", s.getProfile)
	auth("PUT "+c+"v3/profile/{user}/{field}", s.putProfile)
	auth("POST "+c+"v3/join/{room}", s.join)
	auth("POST "+c+"v3/rooms/{room}/join", s.join)
	auth("POST "+c+"v3/rooms/{room}/leave", s.leave)
	auth("GET "+c+"v3/rooms/{room}/state", s.state)
	auth("GET "+c+"v3/rooms/{room}/joined_members", s.joinedMembers)
	auth("GET "+c+"v3/rooms/{room}/messages", s.messages)
	auth("PUT "+c+"v3/rooms/{room}/send/{type}/{txn}", s.send)
	auth("PUT "+c+"v3/rooms/{room}/redact/{event}/{txn}", s.send)
	auth("POST "+c+"v3/createRoom", s.createRoom)
	// An empty state key makes mautrix's URL end in "/"; "{key...}" matches that too.
	auth("PUT "+c+"v3/rooms/{room}/state/{type}/{key...}", s.putState)
	auth("PUT "+c+"v3/rooms/{room}/state/{type}", s.putState)
	auth("GET "+c+"v3/rooms/{room}/state/{type}/{key...}", s.getState)
	auth("GET "+c+"v3/rooms/{room}/state/{type}", s.getState)
	auth("POST "+c+"v3/rooms/{room}/invite", s.memberChange("invite"))
	auth("POST "+c+"v3/rooms/{room}/kick", s.memberChange("kick"))
	auth("POST /_matrix/media/v3/upload", s.upload)
	auth("GET "+c+"v1/media/download/{server}/{id}", s.download)
	auth("GET "+c+"v1/media/download/{server}/{id}/{name}", s.download)
	auth("POST "+c+"v3/user/{user}/filter", func(w http.ResponseWriter, r *http.Request, user string) {
		writeJSON(w, http.StatusOK, map[string]string{"filter_id": "1"})
	})
	auth("GET "+c+"v3/sync", s.countedSync)
	auth("PUT "+c+"v3/rooms/{room}/typing/{user}", s.counted("typing"))
	auth("POST "+c+"v3/rooms/{room}/receipt/{type}/{event}", s.counted("receipt"))
	auth("POST "+c+"v1/appservice/{id}/ping", s.ping)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		// Logged so that a benchmark notices when the service starts calling an
		// endpoint this fake does not have (its numbers would then be off).
		s.opts.Log.Debug().Str("method", r.Method).Str("path", r.URL.Path).Msg("fakehs: unrecognized request")
		s.mu.Lock()
		s.unknown[r.Method+" "+r.URL.Path]++
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "M_UNRECOGNIZED", "Unrecognized request")
	})
	return mux
}

// authorize checks the appservice token and returns the user the request acts as.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) (string, bool) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		writeError(w, http.StatusUnauthorized, "M_MISSING_TOKEN", "Missing access token")
		return "", false
	}
	if token != s.opts.ASToken {
		s.mu.Lock()
		dev, ok := s.devices[token]
		s.mu.Unlock()
		if !ok {
			writeError(w, http.StatusUnauthorized, "M_UNKNOWN_TOKEN", "Unknown access token")
		}
		return dev.user, ok
	}
	if user := r.URL.Query().Get("user_id"); user != "" {
		return user, true
	}
	return "@" + s.opts.SenderLocalpart + ":" + s.opts.Domain, true
}

// Sends is the number of distinct events sent so far.
func (s *Server) Sends() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sends
}

// SendsIn is the number of distinct events sent into room.
func (s *Server) SendsIn(room string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sendsPerRoom[room]
}

// WaitSends blocks until at least n distinct events were sent in total, or ctx ends.
func (s *Server) WaitSends(ctx context.Context, n int) error {
	for {
		s.mu.Lock()
		got, changed := s.sends, s.changed
		s.mu.Unlock()
		if got >= n {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("fakehs: %d of %d sends: %w", got, n, ctx.Err())
		}
	}
}

// Counts is how many requests of each kind succeeded: "send" (messages and
// redactions, first time each), "state", "createRoom", "invite", "kick", "upload",
// "download", "register", "profile" (PUTs), "messages" (timeline pages). Benchmarks report it, so that what the
// appservice asks of its homeserver per event is visible next to its speed.
func (s *Server) Counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.counts))
	for k, v := range s.counts {
		out[k] = v
	}
	return out
}

// InvitesTo is how many invites of a user succeeded, in any room.
func (s *Server) InvitesTo(user string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.invitesTo[user]
}

// Unrecognized lists the requests answered M_UNRECOGNIZED, with counts.
func (s *Server) Unrecognized() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.unknown))
	for k, v := range s.unknown {
		out[k] = v
	}
	return out
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]string{"errcode": code, "error": msg})
}
