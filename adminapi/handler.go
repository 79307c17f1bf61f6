// Package adminapi is the HTTP API a tenant's own systems run their contact center
// with: staff, the routing workflow, conversations and outbound contact; and, with a
// provider-level key, the audited reveal of the Matrix ID behind a pseudonym.
// openapi.json beside this file describes it and is served at PathPrefix+"openapi.json".
//
// A tenant key decides the tenant: nothing in a path or body can name another one.
// Bodies are strict JSON; errors are {"errcode", "error", "field"} as in the context
// API. The API writes its tables itself and tells the running service through
// Backend.
package adminapi

import (
	_ "embed"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/internal/strictjson"
	"github.com/contactcenter/contactcenter/outbound"
	"github.com/contactcenter/contactcenter/reportapi"
	"github.com/contactcenter/contactcenter/reporting"
	"github.com/contactcenter/contactcenter/routing"
)

// PathPrefix is where the service mounts the handler: mux.Handle(PathPrefix, h).
const PathPrefix = "/_contactcenter/admin/v1/"

//go:embed openapi.json
var openAPI []byte

// Tenant is what the API needs of a tenant's configuration.
type Tenant struct {
	ID string
	// Policy is the compiled contact policy (outbound.Config.Compile).
	Policy *outbound.Policy
	// TimeZone is the default zone of customers whose own is unknown.
	TimeZone string
	// Workflow is the config's workflow (nil: routing.DefaultWorkflow), used until
	// one is set through the API.
	Workflow *routing.Workflow
	// CheckStaff refuses staff the config could not hold (another homeserver without
	// allow_remote_agents, one of the service's own users); nil accepts any.
	CheckStaff func(userID string) error
	// Reports are the tenant's report settings (config.Tenant.ReportSettings).
	Reports reporting.Settings
	// CannedReplies are the config's canned replies by name (canned.go).
	CannedReplies map[string]string
}

// Handler serves the admin API. It is safe for concurrent use.
type Handler struct {
	db      *database.Database
	backend Backend
	tenants map[string]*Tenant
	keys    *keyring
	now     func() time.Time
	reports *reportapi.Handler
	// recordingsDir holds the call recordings' files (recordings.go).
	recordingsDir string
}

// New returns the API's handler.
func New(db *database.Database, backend Backend, tenants []Tenant) (*Handler, error) {
	if db == nil || backend == nil {
		return nil, fmt.Errorf("adminapi: a database and a backend are required")
	}
	h := &Handler{db: db, backend: backend, tenants: map[string]*Tenant{}, now: time.Now}
	for i := range tenants {
		t := &tenants[i]
		if t.ID == "" || h.tenants[t.ID] != nil {
			return nil, fmt.Errorf("adminapi: tenant %d: missing or repeated ID %q", i, t.ID)
		}
		if t.Policy == nil {
			return nil, fmt.Errorf("adminapi: tenant %s has no contact policy", t.ID)
		}
		h.tenants[t.ID] = t
	}
	h.keys = &keyring{db: db.AdminKeys, now: func() time.Time { return h.now() }}
	h.reports = reportapi.New(db.ContactLog, func() time.Time { return h.now() }, PathPrefix)
	return h, nil
}

// SetClock replaces the clock (tests, and the sandbox's injected clock).
func (h *Handler) SetClock(now func() time.Time) { h.now = now }

type call struct {
	w      http.ResponseWriter
	r      *http.Request
	who    principal
	tenant *Tenant
	params []string
}

type endpoint func(h *Handler, c *call) (int, any, *apiError)

type route struct {
	method string
	path   string
	scope  string
	serve  endpoint
}

// routes is the whole API; a test checks it against openapi.json.
var routes = []route{
	{http.MethodGet, "staff", database.ScopeTenant, (*Handler).listStaff},
	{http.MethodPost, "staff", database.ScopeTenant, (*Handler).addStaff},
	{http.MethodPut, "staff/{user_id}", database.ScopeTenant, (*Handler).changeStaff},
	{http.MethodDelete, "staff/{user_id}", database.ScopeTenant, (*Handler).removeStaff},
	{http.MethodGet, "workflow", database.ScopeTenant, (*Handler).getWorkflow},
	{http.MethodPost, "workflow/validate", database.ScopeTenant, (*Handler).validateWorkflow},
	{http.MethodPut, "workflow", database.ScopeTenant, (*Handler).replaceWorkflow},
	{http.MethodGet, "conversations", database.ScopeTenant, (*Handler).listConversations},
	{http.MethodGet, "conversations/{id}", database.ScopeTenant, (*Handler).getConversation},
	{http.MethodPost, "outbound", database.ScopeTenant, (*Handler).createOutbound},
	{http.MethodGet, "outbound/{id}", database.ScopeTenant, (*Handler).getOutbound},
	{http.MethodPost, "reveal", database.ScopeProvider, (*Handler).reveal},
	{http.MethodGet, "reports/summary", database.ScopeTenant, (*Handler).reportSummary},
	{http.MethodGet, "reports/conversations.csv", database.ScopeTenant, (*Handler).reportCSV},
	{http.MethodGet, "recordings", database.ScopeTenant, (*Handler).listRecordings},
	{http.MethodGet, "recordings/{id}/{direction}", database.ScopeTenant, (*Handler).getRecording},
	{http.MethodGet, "canned_replies", database.ScopeTenant, (*Handler).listCanned},
	{http.MethodPut, "canned_replies/{name}", database.ScopeTenant, (*Handler).putCanned},
	{http.MethodDelete, "canned_replies/{name}", database.ScopeTenant, (*Handler).deleteCanned},
}

// ServeHTTP serves the description to anyone, and everything else to a key only,
// so that without one nothing tells which paths exist.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == PathPrefix+"openapi.json" && r.Method == http.MethodGet {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openAPI)
		return
	}
	key, ok := bearerKey(r)
	if !ok {
		h.fail(w, r, "", &apiError{status: http.StatusUnauthorized, code: ErrUnauthorized, field: "Authorization",
			msg: "missing Authorization: Bearer <admin API key> header"})
		return
	}
	if err := h.keys.refresh(r.Context()); err != nil {
		h.fail(w, r, "", internal("reading the admin keys", err))
		return
	}
	who, ok := h.keys.lookup(key)
	if !ok {
		h.fail(w, r, "", &apiError{status: http.StatusUnauthorized, code: ErrUnauthorized, field: "Authorization", msg: "unknown API key"})
		return
	}
	rt, params, apiErr := match(r)
	if apiErr == nil && rt.scope != who.scope {
		apiErr = &apiError{status: http.StatusForbidden, code: ErrForbidden, field: "Authorization",
			msg: fmt.Sprintf("a %s key cannot use this endpoint; it needs a %s key", who.scope, rt.scope)}
	}
	c := &call{w: w, r: r, who: who, params: params}
	if apiErr == nil && who.scope == database.ScopeTenant {
		if c.tenant = h.tenants[who.tenant]; c.tenant == nil {
			apiErr = &apiError{status: http.StatusForbidden, code: ErrForbidden, field: "Authorization", msg: "the key's tenant is not configured"}
		}
	}
	if apiErr != nil {
		h.fail(w, r, who.tenant, apiErr)
		return
	}
	status, result, apiErr := rt.serve(h, c)
	if status == answered {
		return
	}
	if apiErr != nil {
		h.fail(w, r, who.tenant, apiErr)
		return
	}
	strictjson.Write(w, status, result)
}

func match(r *http.Request) (*route, []string, *apiError) {
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), PathPrefix)
	if !ok {
		return nil, nil, notFoundErr("", "no such endpoint: %s", r.URL.Path)
	}
	segments := strings.Split(rest, "/")
	var allowed []string
	for i := range routes {
		params, ok := matchPath(strings.Split(routes[i].path, "/"), segments)
		if !ok {
			continue
		}
		if routes[i].method == r.Method {
			return &routes[i], params, nil
		}
		allowed = append(allowed, routes[i].method)
	}
	if len(allowed) > 0 {
		return nil, nil, &apiError{status: http.StatusMethodNotAllowed, code: ErrMethod, allow: strings.Join(allowed, ", "),
			msg: fmt.Sprintf("method %s is not allowed here; use %s", r.Method, strings.Join(allowed, ", "))}
	}
	return nil, nil, notFoundErr("", "no such endpoint: %s", r.URL.Path)
}

func matchPath(pattern, segments []string) ([]string, bool) {
	if len(pattern) != len(segments) {
		return nil, false
	}
	var params []string
	for i, p := range pattern {
		if strings.HasPrefix(p, "{") {
			value, err := url.PathUnescape(segments[i])
			if err != nil || value == "" {
				return nil, false
			}
			params = append(params, value)
		} else if p != segments[i] {
			return nil, false
		}
	}
	return params, true
}

// fail answers with an error; server errors are logged with their cause, client
// errors at debug level only (never a key or a body).
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, tenant string, e *apiError) {
	log := zerolog.Ctx(r.Context())
	if e.status >= 500 {
		log.Err(e.cause).Str("tenant", tenant).Str("method", r.Method).Str("path", r.URL.Path).Msg("Admin API request failed")
	} else {
		log.Debug().Str("tenant", tenant).Str("method", r.Method).Str("path", r.URL.Path).Int("status", e.status).
			Str("errcode", e.code).Str("field", e.field).Msg("Admin API request refused")
	}
	if e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="contactcenter admin API"`)
	}
	if e.allow != "" {
		w.Header().Set("Allow", e.allow)
	}
	strictjson.Write(w, e.status, e.body())
}

// notify tells the backend of a committed change; a failure is logged, not
// answered: the change is stored and the service's periodic reading catches up.
func (h *Handler) notify(c *call, what string, err error) {
	if err != nil {
		zerolog.Ctx(c.r.Context()).Err(err).Str("tenant", c.who.tenant).Str("change", what).
			Msg("Admin API change stored, but the service could not apply it at once")
	}
}

// idParam reads a numeric path parameter.
func idParam(c *call, name string) (int64, *apiError) {
	id, err := strconv.ParseInt(c.params[0], 10, 64)
	if err != nil || id <= 0 {
		return 0, invalid(name, "must be a positive whole number")
	}
	return id, nil
}

// checkQuery refuses query parameters the endpoint does not know.
func checkQuery(r *http.Request, known ...string) *apiError {
	for name := range r.URL.Query() {
		ok := false
		for _, k := range known {
			ok = ok || k == name
		}
		if !ok {
			return &apiError{status: http.StatusBadRequest, code: ErrUnknownField, field: name, msg: "unknown query parameter"}
		}
	}
	return nil
}
