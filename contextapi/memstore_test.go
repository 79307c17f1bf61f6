package contextapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/contactcenter/contactcenter/linkcode"
)

// memStore keeps what it is given per tenant and, like the real store, knows which
// visitor codes exist and refuses views with others, storing nothing then.
type memStore struct {
	mu        sync.Mutex
	customers map[string][]Customer // by tenant, in call order
	views     map[string][]PageView
	codes     map[string][]Code
	fail      error // returned by every call when set
}

func newMemStore() *memStore {
	return &memStore{customers: map[string][]Customer{}, views: map[string][]PageView{}, codes: map[string][]Code{}}
}

func (s *memStore) UpsertCustomer(_ context.Context, tenantID string, c Customer) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	s.customers[tenantID] = append(s.customers[tenantID], c)
	return nil
}

func (s *memStore) AddPageViews(_ context.Context, tenantID string, views []PageView) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	for i, v := range views {
		if v.VisitorCodeHash != "" && !s.hasVisitorCode(tenantID, v.VisitorCodeHash) {
			return fmt.Errorf("view %d: %w", i, ErrUnknownVisitorCode)
		}
	}
	s.views[tenantID] = append(s.views[tenantID], views...)
	return nil
}

func (s *memStore) hasVisitorCode(tenantID, hash string) bool {
	for _, c := range s.codes[tenantID] {
		if c.Kind == linkcode.Visitor && c.Hash == hash {
			return true
		}
	}
	return false
}

func (s *memStore) SaveCode(_ context.Context, tenantID string, c Code) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	s.codes[tenantID] = append(s.codes[tenantID], c)
	return nil
}

// calls counts everything stored, for tests that check nothing was.
func (s *memStore) calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.customers) + len(s.views) + len(s.codes) // tenants with anything stored
}

// The test tenants: bank has two keys (one being rotated out), shop one.
var (
	bankKey    = "cc_bank0000000000000000000000000000"
	bankOldKey = "cc_bankold00000000000000000000000000"
	shopKey    = "cc_shop0000000000000000000000000000"
	testNow    = time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)
)

func newTestHandler(t testing.TB, store Store) *Handler {
	t.Helper()
	h, err := New(store, []Tenant{
		{ID: "bank", KeyHashes: [][32]byte{HashKey(bankKey), HashKey(bankOldKey)}},
		{ID: "shop", KeyHashes: [][32]byte{HashKey(shopKey)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	h.now = func() time.Time { return testNow }
	return h
}

// request is one test request; zero fields take the usual values.
type request struct {
	method      string // default POST
	path        string // below PathPrefix
	key         string // default bankKey; "-" for no Authorization header
	contentType string // default application/json; "-" for none
	body        string
	chunked     bool // hide the length, as a streaming client would
}

type recorder = httptest.ResponseRecorder

func (r request) do(t testing.TB, h http.Handler) *recorder {
	t.Helper()
	return serve(t, h, r, nil)
}

// serve sends the request, letting modify change it first.
func serve(t testing.TB, h http.Handler, r request, modify func(*http.Request)) *recorder {
	t.Helper()
	method := r.method
	if method == "" {
		method = http.MethodPost
	}
	var body io.Reader = strings.NewReader(r.body)
	if r.chunked {
		body = io.MultiReader(body) // not a type httptest can take the length of
	}
	req := httptest.NewRequest(method, PathPrefix+r.path, body)
	if r.chunked {
		req.ContentLength = -1
	}
	switch r.key {
	case "":
		req.Header.Set("Authorization", "Bearer "+bankKey)
	case "-":
	default:
		req.Header.Set("Authorization", "Bearer "+r.key)
	}
	switch r.contentType {
	case "":
		req.Header.Set("Content-Type", "application/json")
	case "-":
	default:
		req.Header.Set("Content-Type", r.contentType)
	}
	if modify != nil {
		modify(req)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// wantError checks an error answer: status, errcode, and that the message names what
// it should.
func wantError(t testing.TB, rec *httptest.ResponseRecorder, status int, errcode, mentions string) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d; body %s", rec.Code, status, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var e errorBody
	dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("error body %q is not an Error: %v", rec.Body, err)
	}
	if e.Code != errcode {
		t.Errorf("errcode %q, want %q (error %q)", e.Code, errcode, e.Error)
	}
	if !strings.Contains(e.Error, mentions) {
		t.Errorf("error %q does not mention %q", e.Error, mentions)
	}
}

// wantOK checks a 200 answer and decodes it.
func wantOK[T any](t testing.TB, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d, want 200; body %s", rec.Code, rec.Body)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("answer %q: %v", rec.Body, err)
	}
	return v
}
