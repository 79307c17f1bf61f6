// Package reportapi serves a tenant's reports over HTTP: the summary (JSON) and
// the conversations export (CSV), computed by reporting from the contact log. It
// authenticates nobody: the admin API decides the tenant and hands it over.
package reportapi

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/contactcenter/contactcenter/reporting"
)

// The endpoints, relative to the admin API's base.
const (
	PathSummary = "reports/summary"
	PathCSV     = "reports/conversations.csv"
)

// Store reads the contact log (database.ContactLogQuery).
type Store interface {
	EachForReport(ctx context.Context, tenantID string, from, to time.Time, lookback time.Duration, fn func(reporting.Entry) error) error
	EachForExport(ctx context.Context, tenantID string, from, to time.Time, fn func(reporting.Entry) error) error
}

// Tenant is the tenant a request is for and its report settings.
type Tenant struct {
	ID       string
	Settings reporting.Settings
}

// Handler serves the reports.
type Handler struct {
	store Store
	now   func() time.Time
	// Prefix is the admin API's base path, which ServeHTTP expects before the
	// endpoints' paths (e.g. "/_contactcenter/admin/v1/").
	Prefix string
}

// New makes a handler; now is the clock (time.Now in the service).
func New(store Store, now func() time.Time, prefix string) *Handler {
	return &Handler{store: store, now: now, Prefix: prefix}
}

type tenantKey struct{}

// WithTenant is the request context the admin API hands to ServeHTTP once it has
// authenticated the tenant.
func WithTenant(ctx context.Context, t Tenant) context.Context {
	return context.WithValue(ctx, tenantKey{}, t)
}

// ServeHTTP serves Prefix+PathSummary and Prefix+PathCSV for the tenant in the
// request's context (WithTenant); without one it answers 401.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t, ok := r.Context().Value(tenantKey{}).(Tenant)
	if !ok || t.ID == "" {
		fail(w, r, "", &apiError{status: http.StatusUnauthorized, code: ErrUnauthorized, field: "Authorization", msg: "no tenant"})
		return
	}
	path, ok := strings.CutPrefix(r.URL.Path, h.Prefix)
	if !ok {
		fail(w, r, t.ID, &apiError{status: http.StatusNotFound, code: ErrNotFound, msg: "no such endpoint: " + r.URL.Path})
		return
	}
	h.Serve(w, r, t, path)
}

// Serve answers a request for the tenant at path (PathSummary or PathCSV).
func (h *Handler) Serve(w http.ResponseWriter, r *http.Request, t Tenant, path string) {
	if path != PathSummary && path != PathCSV {
		fail(w, r, t.ID, &apiError{status: http.StatusNotFound, code: ErrNotFound, msg: "no such endpoint: " + r.URL.Path})
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		fail(w, r, t.ID, &apiError{status: http.StatusMethodNotAllowed, code: ErrMethod,
			msg: "method " + r.Method + " is not allowed here; use GET"})
		return
	}
	if t.Settings.Location == nil {
		t.Settings.Location = time.UTC
	}
	if path == PathSummary {
		h.summary(w, r, t)
	} else {
		h.csv(w, r, t)
	}
}

// SummaryResponse is the answer of PathSummary: the figures and the settings they
// were computed with.
type SummaryResponse struct {
	reporting.Summary
	TimeZone                     string  `json:"time_zone"`
	ShortAbandonSeconds          float64 `json:"short_abandon_seconds"`
	ServiceLevelThresholdSeconds float64 `json:"service_level_threshold_seconds"`
	ServiceLevelTarget           float64 `json:"service_level_target"`
	AbandonsCount                bool    `json:"abandons_count"`
}

func (h *Handler) summary(w http.ResponseWriter, r *http.Request, t Tenant) {
	p, apiErr := parseParams(r, t.Settings.Location, "from", "to", "group_by")
	if apiErr != nil {
		fail(w, r, t.ID, apiErr)
		return
	}
	b := reporting.NewBuilder(reporting.Query{From: p.from, To: p.to, Now: h.now(), GroupBy: p.groupBy}, t.Settings)
	err := h.store.EachForReport(r.Context(), t.ID, p.from, p.to, reporting.Lookback, func(e reporting.Entry) error {
		b.Add(e)
		return nil
	})
	if err != nil {
		fail(w, r, t.ID, internal("reading the contact log", err))
		return
	}
	s := t.Settings
	writeJSON(w, http.StatusOK, SummaryResponse{Summary: b.Summary(), TimeZone: s.Location.String(),
		ShortAbandonSeconds: s.ShortAbandon.Seconds(), ServiceLevelThresholdSeconds: s.ServiceLevelThreshold.Seconds(),
		ServiceLevelTarget: s.ServiceLevelTarget, AbandonsCount: s.AbandonsCount})
}
