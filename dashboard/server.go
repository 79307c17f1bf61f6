package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/internal/ratelimit"
)

// PathPrefix is where the service mounts the dashboard: mux.Handle(PathPrefix, s). The
// handler sees full paths, prefix included.
const PathPrefix = "/_contactcenter/dashboard/"

// TokenVerifier tells who holds a Matrix OpenID token; *Verifier asks the homeserver.
type TokenVerifier interface {
	Verify(ctx context.Context, serverName, accessToken string) (id.UserID, error)
}

// Options configure a Server. Source, Staff and Verifier are required.
type Options struct {
	Source   Source
	Staff    Staff
	Verifier TokenVerifier
	// PublicURL is where browsers reach PathPrefix (config dashboard.public_url); one-time
	// links and widget URLs start with it.
	PublicURL string
	// SessionLifetime (0: 1 h) and LinkLifetime (0: 10 min).
	SessionLifetime time.Duration
	LinkLifetime    time.Duration
	// KeepAlive is how often an idle stream gets a comment line, so that proxies keep
	// it open and a dead client is noticed (0: 15 s).
	KeepAlive time.Duration
	// Refresh is how often snapshots are read again without a change notice, for the
	// figures that move with the clock (0: 30 s).
	Refresh time.Duration
	// SignInLimit bounds sign-ins per homeserver, each of which costs a request to it
	// (zero: a burst of 30, then one every 2 s).
	SignInLimit ratelimit.Limit
	Log         zerolog.Logger
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// Server is the dashboard's http.Handler. It is safe for concurrent use.
type Server struct {
	opts     Options
	public   *url.URL
	sessions *tokenTable[Session]
	links    *tokenTable[link]
	signIns  *ratelimit.Limiter // per homeserver
	// allSignIns bounds them all together, ten times one server's rate.
	allSignIns *ratelimit.Limiter
	hub        *hub
	mux        *http.ServeMux
}

// New checks the options and builds the server.
func New(opts Options) (*Server, error) {
	if opts.Source == nil || opts.Staff == nil || opts.Verifier == nil {
		return nil, errors.New("dashboard: Source, Staff and Verifier are required")
	}
	s := &Server{opts: opts}
	if opts.PublicURL != "" {
		u, err := url.Parse(opts.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || !strings.HasSuffix(u.Path, "/") {
			return nil, fmt.Errorf("dashboard: public URL must be an http(s) URL ending in /, got %q", opts.PublicURL)
		}
		s.public = u
	}
	if s.opts.SessionLifetime <= 0 {
		s.opts.SessionLifetime = time.Hour
	}
	if s.opts.LinkLifetime <= 0 {
		s.opts.LinkLifetime = 10 * time.Minute
	}
	if s.opts.KeepAlive <= 0 {
		s.opts.KeepAlive = 15 * time.Second
	}
	if s.opts.Refresh <= 0 {
		s.opts.Refresh = 30 * time.Second
	}
	if s.opts.SignInLimit == (ratelimit.Limit{}) {
		s.opts.SignInLimit = ratelimit.Limit{Per: 2 * time.Second, Burst: 30}
	}
	if s.opts.Now == nil {
		s.opts.Now = time.Now
	}
	s.sessions = newTokenTable[Session](maxTokens)
	s.links = newTokenTable[link](maxTokens)
	s.signIns = ratelimit.New(s.opts.SignInLimit, 0)
	s.allSignIns = ratelimit.New(ratelimit.Limit{Per: s.opts.SignInLimit.Per / 10, Burst: 10 * s.opts.SignInLimit.Burst}, 0)
	s.hub = newHub(opts.Source, s.opts.Refresh, s.opts.Log)
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("GET "+PathPrefix+"{$}", s.serveAsset("index.html"))
	s.mux.HandleFunc("GET "+PathPrefix+"app.js", s.serveAsset("app.js"))
	s.mux.HandleFunc("GET "+PathPrefix+"app.css", s.serveAsset("app.css"))
	s.mux.HandleFunc("POST "+PathPrefix+"session", s.postSession)
	s.mux.HandleFunc("POST "+PathPrefix+"session/link", s.postLinkSession)
	s.mux.HandleFunc("POST "+PathPrefix+"session/renew", s.postRenew)
	s.mux.HandleFunc("DELETE "+PathPrefix+"session", s.deleteSession)
	s.mux.HandleFunc("GET "+PathPrefix+"snapshot", s.getSnapshot)
	s.mux.HandleFunc("GET "+PathPrefix+"events", s.getEvents)
	return s, nil
}

// ServeHTTP sets the headers every answer carries and routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	// matrix.to links must not tell where the dashboard is.
	h.Set("Referrer-Policy", "no-referrer")
	s.mux.ServeHTTP(w, r)
}

// Close ends every open stream.
func (s *Server) Close() { s.hub.close() }

// NewOneTimeLink returns a link that signs user in to tenant's dashboard once, within
// the link lifetime: the answer to !dashboard outside Element. The secret is in the
// fragment, which browsers never send to a server, so it stays out of access logs and
// link previews cannot spend it; the page spends it with a POST.
func (s *Server) NewOneTimeLink(tenant string, user id.UserID) (string, error) {
	if s.public == nil {
		return "", errors.New("dashboard: no public URL configured")
	}
	if tenant == "" || user == "" {
		return "", errors.New("dashboard: a link needs a tenant and a user")
	}
	now := s.opts.Now()
	token, err := s.links.add(link{Tenant: tenant, UserID: user}, now.Add(s.opts.LinkLifetime), now)
	if err != nil {
		return "", err
	}
	u := *s.public
	u.RawQuery = url.Values{"tenant": {tenant}}.Encode()
	u.Fragment = "link=" + token
	return u.String(), nil
}

// apiError is a JSON error answer, Matrix style.
type apiError struct {
	status int
	code   string
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, e *apiError) {
	if e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="dashboard"`)
	}
	writeJSON(w, e.status, map[string]string{"errcode": e.code, "error": e.msg})
}

var (
	errNoSession = &apiError{http.StatusUnauthorized, "M_UNKNOWN_TOKEN", "Sign in again: the session is unknown or has expired"}
	errNotStaff  = &apiError{http.StatusForbidden, "M_FORBIDDEN", "You are not on this tenant's staff"}
)

// authenticate finds the session of the request's bearer token.
func (s *Server) authenticate(r *http.Request) (Session, string, *apiError) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" {
		return Session{}, "", errNoSession
	}
	sess, _, err := s.sessions.find(token, s.opts.Now(), false)
	if err != nil {
		return Session{}, "", errNoSession
	}
	return sess, token, nil
}
