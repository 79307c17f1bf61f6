// Package contextapi is the HTTP API through which tenants push customer context to
// the service: customer records, page views from their website, and the one-time link
// and visitor codes their site shows to customers. openapi.yaml beside this file
// describes it; a test keeps the two in step.
//
// Every request authenticates with "Authorization: Bearer <API key>", and the key
// alone decides the tenant: nothing in a path or body can name another one. Requests
// are validated in full before anything is stored, and every error is JSON with an
// errcode (see the Err* constants).
package contextapi

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/contactcenter/contactcenter/internal/ratelimit"
	"github.com/contactcenter/contactcenter/internal/strictjson"
)

// PathPrefix is where the service mounts the handler: mux.Handle(PathPrefix, h). The
// handler sees full paths, prefix included.
const PathPrefix = "/_contactcenter/context/v1/"

// Handler serves the context API. It is safe for concurrent use.
type Handler struct {
	store Store
	keys  keyring
	now   func() time.Time // the clock page view times and code expiries are taken from
	// perKey limits each API key's requests (nil: no limit), so that one tenant's
	// runaway script cannot starve the others.
	perKey *ratelimit.Limiter
}

// LimitPerKey limits every API key to limit's rate and burst.
func (h *Handler) LimitPerKey(limit ratelimit.Limit) {
	h.perKey = ratelimit.New(limit, 0)
}

// New returns the API's handler for the given tenants, checking that their IDs are
// set and unique and that no key hash belongs to two tenants.
func New(store Store, tenants []Tenant) (*Handler, error) {
	if store == nil {
		return nil, fmt.Errorf("contextapi: no store")
	}
	keys, err := newKeyring(tenants)
	if err != nil {
		return nil, fmt.Errorf("contextapi: %w", err)
	}
	return &Handler{store: store, keys: keys, now: time.Now}, nil
}

// call is one authenticated request on its way to an endpoint.
type call struct {
	w      http.ResponseWriter
	r      *http.Request
	tenant string
	params []string // the path's {parameters}, in order
}

// endpoint handles a call and returns the JSON to answer with (status 200) or an
// error to answer with instead.
type endpoint func(h *Handler, c call) (any, *apiError)

type route struct {
	method string
	path   string // below PathPrefix; a segment {name} matches any one segment
	serve  endpoint
}

// routes is the whole API; TestOpenAPIMatchesRoutes checks it against openapi.yaml.
var routes = []route{
	{http.MethodPut, "customers/{account_id}", (*Handler).putCustomer},
	{http.MethodPost, "pageviews", (*Handler).postPageViews},
	{http.MethodPost, "linkcodes", (*Handler).postLinkCode},
	{http.MethodPost, "visitorcodes", (*Handler).postVisitorCode},
}

// ServeHTTP authenticates first, so that without a key nothing tells which paths
// exist, then routes.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key, err := bearerKey(r)
	if err != nil {
		h.fail(w, r, "", unauthorized(err.Error()))
		return
	}
	tenant, ok := h.keys.tenantOf(key)
	if !ok {
		h.fail(w, r, "", unauthorized("unknown API key"))
		return
	}
	hash := HashKey(key)
	if ok, _ := h.perKey.Take(string(hash[:]), h.now()); !ok {
		h.fail(w, r, tenant, rateLimited(h.perKey.RetryAfter(string(hash[:]), h.now())))
		return
	}
	serve, params, apiErr := match(r)
	if apiErr != nil {
		h.fail(w, r, tenant, apiErr)
		return
	}
	result, apiErr := serve(h, call{w: w, r: r, tenant: tenant, params: params})
	if apiErr != nil {
		h.fail(w, r, tenant, apiErr)
		return
	}
	strictjson.Write(w, http.StatusOK, result)
}

// match finds the route for the request's path and method. The escaped path is split,
// so an account ID holding an encoded slash stays one segment (and is then refused by
// validation with a clear message rather than a 404).
func match(r *http.Request) (endpoint, []string, *apiError) {
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), PathPrefix)
	if !ok {
		return nil, nil, notFound(r)
	}
	segments := strings.Split(rest, "/")
	var allowed []string
	for _, rt := range routes {
		params, ok := matchPath(strings.Split(rt.path, "/"), segments)
		if !ok {
			continue
		}
		if rt.method == r.Method {
			return rt.serve, params, nil
		}
		allowed = append(allowed, rt.method)
	}
	if len(allowed) > 0 {
		return nil, nil, &apiError{status: http.StatusMethodNotAllowed, code: ErrMethod,
			msg:   fmt.Sprintf("method %s is not allowed here; use %s", r.Method, strings.Join(allowed, ", ")),
			allow: strings.Join(allowed, ", ")}
	}
	return nil, nil, notFound(r)
}

func matchPath(pattern, segments []string) ([]string, bool) {
	if len(pattern) != len(segments) {
		return nil, false
	}
	var params []string
	for i, p := range pattern {
		if strings.HasPrefix(p, "{") {
			value, err := url.PathUnescape(segments[i])
			if err != nil {
				return nil, false
			}
			params = append(params, value)
			continue
		}
		if p != segments[i] {
			return nil, false
		}
	}
	return params, true
}

func notFound(r *http.Request) *apiError {
	return &apiError{status: http.StatusNotFound, code: ErrNotFound, msg: "no such endpoint: " + r.URL.Path}
}

// fail answers with an error. Server errors are logged with their cause (which never
// holds a key or a body); client errors only at debug level, as they are the client's
// to see and could otherwise flood the log.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, tenant string, e *apiError) {
	log := zerolog.Ctx(r.Context())
	if e.status >= 500 {
		log.Err(e.cause).Str("tenant", tenant).Str("method", r.Method).Str("path", r.URL.Path).
			Msg("Context API request failed")
	} else {
		log.Debug().Str("tenant", tenant).Str("method", r.Method).Str("path", r.URL.Path).
			Int("status", e.status).Str("errcode", e.code).Str("error", e.msg).
			Msg("Context API request refused")
	}
	if e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="contactcenter context API"`)
	}
	if e.allow != "" {
		w.Header().Set("Allow", e.allow)
	}
	if e.status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", strconv.Itoa(retrySeconds(e.retry)))
	}
	strictjson.Write(w, e.status, errorBody{Code: e.code, Error: e.msg})
}

type errorBody struct {
	Code  string `json:"errcode"`
	Error string `json:"error"`
}

// storeFailed is the answer to a store error: the client learns nothing of the cause,
// which goes to the log.
func storeFailed(what string, err error) *apiError {
	return &apiError{status: http.StatusInternalServerError, code: ErrInternal,
		msg: "internal error; nothing was stored, try again later", cause: fmt.Errorf("%s: %w", what, err)}
}
