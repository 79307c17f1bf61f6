package dashboard

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/internal/ratelimit"
)

// maxSignInBody bounds a sign-in request's body.
const maxSignInBody = 8 << 10

// signInRequest is what the page posts after the widget API gave it an OpenID token
// (the token's fields as Element hands them over, plus the tenant).
type signInRequest struct {
	Tenant           string `json:"tenant"`
	AccessToken      string `json:"access_token"`
	MatrixServerName string `json:"matrix_server_name"`
}

// sessionAnswer is what a sign-in or renewal answers.
type sessionAnswer struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	ExpiresIn int       `json:"expires_in"` // seconds
	Tenant    string    `json:"tenant"`
	UserID    id.UserID `json:"user_id"`
	Role      Role      `json:"role"`
}

func decodeBody(w http.ResponseWriter, r *http.Request, v any) *apiError {
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxSignInBody)).Decode(v); err != nil {
		return &apiError{http.StatusBadRequest, "M_BAD_JSON", "The request body must be a JSON object"}
	}
	return nil
}

// postSession signs in with a Matrix OpenID token: the user's homeserver says who holds
// it, and the tenant's staff list says what they may see.
func (s *Server) postSession(w http.ResponseWriter, r *http.Request) {
	var req signInRequest
	if e := decodeBody(w, r, &req); e != nil {
		writeError(w, e)
		return
	}
	if req.Tenant == "" || req.AccessToken == "" || req.MatrixServerName == "" {
		writeError(w, &apiError{http.StatusBadRequest, "M_MISSING_PARAM", "tenant, access_token and matrix_server_name are required"})
		return
	}
	log := s.opts.Log.With().Str("tenant", req.Tenant).Str("server_name", req.MatrixServerName).Logger()
	now := s.opts.Now()
	for _, l := range []struct {
		limiter *ratelimit.Limiter
		key     string
	}{{s.signIns, req.MatrixServerName}, {s.allSignIns, ""}} {
		if ok, _ := l.limiter.Take(l.key, now); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(l.limiter.RetryAfter(l.key, now).Seconds())+1))
			writeError(w, &apiError{http.StatusTooManyRequests, "M_LIMIT_EXCEEDED", "Too many sign-ins; try again shortly"})
			return
		}
	}
	user, err := s.opts.Verifier.Verify(r.Context(), req.MatrixServerName, req.AccessToken)
	if err != nil {
		log.Warn().Err(err).Msg("Dashboard sign-in refused: OpenID token not confirmed")
		if errors.Is(err, ErrHomeserverUnreachable) {
			writeError(w, &apiError{http.StatusBadGateway, "M_UNKNOWN", "Your homeserver could not be reached to confirm who you are"})
			return
		}
		writeError(w, &apiError{http.StatusUnauthorized, "M_UNKNOWN_TOKEN", "Your homeserver did not confirm who you are"})
		return
	}
	s.startSession(w, r, log, req.Tenant, user, "openid")
}

// postLinkSession spends a one-time link.
func (s *Server) postLinkSession(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Token string `json:"token"`
	}
	if e := decodeBody(w, r, &req); e != nil {
		writeError(w, e)
		return
	}
	l, _, err := s.links.find(req.Token, s.opts.Now(), true)
	if err != nil {
		s.opts.Log.Warn().Msg("Dashboard sign-in refused: unknown, spent or expired link")
		writeError(w, &apiError{http.StatusUnauthorized, "M_UNKNOWN_TOKEN", "This link has been used or has expired: send !dashboard again"})
		return
	}
	log := s.opts.Log.With().Str("tenant", l.Tenant).Logger()
	s.startSession(w, r, log, l.Tenant, l.UserID, "link")
}

// postRenew replaces a valid session with a new one, after checking the staff list
// again: someone removed from the staff loses the dashboard at the next renewal.
func (s *Server) postRenew(w http.ResponseWriter, r *http.Request) {
	sess, token, e := s.authenticate(r)
	if e != nil {
		writeError(w, e)
		return
	}
	s.sessions.remove(token, s.opts.Now())
	log := s.opts.Log.With().Str("tenant", sess.Tenant).Logger()
	s.startSession(w, r, log, sess.Tenant, sess.UserID, "renew")
}

func (s *Server) deleteSession(w http.ResponseWriter, r *http.Request) {
	_, token, e := s.authenticate(r)
	if e != nil {
		writeError(w, e)
		return
	}
	s.sessions.remove(token, s.opts.Now())
	w.WriteHeader(http.StatusNoContent)
}

// startSession checks that user is staff of tenant and answers with a new session.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, log zerolog.Logger, tenant string, user id.UserID, how string) {
	role, ok, err := s.opts.Staff.StaffRole(r.Context(), tenant, user)
	if err != nil {
		log.Err(err).Str("user_id", user.String()).Msg("Dashboard sign-in failed: staff lookup")
		writeError(w, &apiError{http.StatusInternalServerError, "M_UNKNOWN", "Could not check the staff list"})
		return
	}
	if !ok || (role != RoleSupervisor && role != RoleAgent) {
		log.Warn().Str("user_id", user.String()).Str("how", how).Msg("Dashboard sign-in refused: not staff of the tenant")
		writeError(w, errNotStaff)
		return
	}
	now := s.opts.Now()
	sess := Session{Tenant: tenant, UserID: user, Role: role, Expires: now.Add(s.opts.SessionLifetime)}
	token, err := s.sessions.add(sess, sess.Expires, now)
	if err != nil {
		log.Err(err).Msg("Dashboard sign-in failed")
		writeError(w, &apiError{http.StatusServiceUnavailable, "M_UNKNOWN", "Too many open sessions"})
		return
	}
	log.Info().Str("user_id", user.String()).Str("role", string(role)).Str("how", how).Msg("Dashboard session started")
	writeJSON(w, http.StatusOK, sessionAnswer{
		Token: token, ExpiresAt: sess.Expires, ExpiresIn: int(s.opts.SessionLifetime.Seconds()),
		Tenant: tenant, UserID: user, Role: role,
	})
}
