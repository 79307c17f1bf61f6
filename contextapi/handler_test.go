package contextapi

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

func TestNewRefusesBadTenants(t *testing.T) {
	k1, k2 := HashKey("one"), HashKey("two")
	tests := []struct {
		name    string
		store   Store
		tenants []Tenant
		want    string
	}{
		{"no store", nil, nil, "no store"},
		{"no ID", newMemStore(), []Tenant{{KeyHashes: [][32]byte{k1}}}, "no ID"},
		{"twice", newMemStore(), []Tenant{{ID: "a", KeyHashes: [][32]byte{k1}}, {ID: "a", KeyHashes: [][32]byte{k2}}}, `"a" is configured twice`},
		{"shared key", newMemStore(), []Tenant{{ID: "a", KeyHashes: [][32]byte{k1}}, {ID: "b", KeyHashes: [][32]byte{k2, k1}}}, `"a" and "b" share`},
		{"zero hash", newMemStore(), []Tenant{{ID: "a", KeyHashes: [][32]byte{{}}}}, "all-zero"},
	}
	for _, tt := range tests {
		_, err := New(tt.store, tt.tenants)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: New error %v, want one mentioning %q", tt.name, err, tt.want)
		}
	}
	if _, err := New(newMemStore(), []Tenant{{ID: "keyless"}}); err != nil {
		t.Errorf("a tenant without keys (API off for it) is refused: %v", err)
	}
}

func TestAuthRefused(t *testing.T) {
	const body = `{"name":"Ann"}`
	tests := []struct {
		name   string
		header string // "" for none
	}{
		{"missing", ""},
		{"wrong key", "Bearer cc_wrong"},
		{"key with a character more", "Bearer " + bankKey + "x"},
		{"key of a character less", "Bearer " + bankKey[:len(bankKey)-1]},
		{"hash instead of key", "Bearer " + hashHex(bankKey)},
		{"basic scheme", "Basic " + bankKey},
		{"no scheme", bankKey},
		{"empty bearer", "Bearer "},
		{"bearer only", "Bearer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newMemStore()
			h := newTestHandler(t, store)
			req := request{method: http.MethodPut, path: "customers/c1", key: "-", body: body}
			rec := requestWithAuth(t, h, req, tt.header)
			wantError(t, rec, http.StatusUnauthorized, ErrUnauthorized, "")
			if !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate %q", rec.Header().Get("WWW-Authenticate"))
			}
			if store.calls() != 0 {
				t.Fatal("an unauthenticated request reached the store")
			}
		})
	}
}

// TestAuthBeforeRouting: without a key, no answer tells which paths exist.
func TestAuthBeforeRouting(t *testing.T) {
	h := newTestHandler(t, newMemStore())
	for _, path := range []string{"nothing-here", "customers/c1"} {
		rec := request{method: http.MethodGet, path: path, key: "-"}.do(t, h)
		wantError(t, rec, http.StatusUnauthorized, ErrUnauthorized, "Authorization")
	}
}

// TestTenantComesFromKey: each key reaches its own tenant only, whatever the body says.
func TestTenantComesFromKey(t *testing.T) {
	store := newMemStore()
	h := newTestHandler(t, store)
	wantOK[map[string]string](t, request{method: http.MethodPut, path: "customers/c1", key: shopKey, body: `{"name":"Shop customer"}`}.do(t, h))
	wantOK[map[string]string](t, request{method: http.MethodPut, path: "customers/c1", key: bankOldKey, body: `{"name":"Bank customer"}`}.do(t, h))
	wantOK[map[string]string](t, requestWithAuth(t, h, request{method: http.MethodPut, path: "customers/c2", body: `{}`}, "bearer "+bankKey))
	// A body that names a tenant is refused rather than obeyed.
	rec := request{method: http.MethodPut, path: "customers/c1", key: shopKey, body: `{"tenant":"bank"}`}.do(t, h)
	wantError(t, rec, http.StatusBadRequest, ErrUnknownField, `"tenant"`)

	if got := store.customers["shop"]; len(got) != 1 || got[0].Name != "Shop customer" {
		t.Errorf("shop's customers: %+v", got)
	}
	if got := store.customers["bank"]; len(got) != 2 || got[0].Name != "Bank customer" || got[1].AccountID != "c2" {
		t.Errorf("bank's customers: %+v", got)
	}
	if len(store.customers) != 2 {
		t.Errorf("customers stored for tenants %v", store.customers)
	}
}

func TestKeyringFindsEveryKey(t *testing.T) {
	var tenants []Tenant
	keys := map[string]string{}
	for _, id := range []string{"a", "b", "c"} {
		tenant := Tenant{ID: id}
		for range 3 {
			key := NewKey()
			keys[key] = id
			tenant.KeyHashes = append(tenant.KeyHashes, HashKey(key))
		}
		tenants = append(tenants, tenant)
	}
	k, err := newKeyring(tenants)
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range keys {
		if got, ok := k.tenantOf(key); !ok || got != want {
			t.Errorf("tenantOf(key of %s) = %q, %v", want, got, ok)
		}
	}
	if got, ok := k.tenantOf(NewKey()); ok {
		t.Errorf("an unknown key found tenant %q", got)
	}
	if got, ok := (keyring{}).tenantOf(""); ok {
		t.Errorf("an empty keyring found tenant %q", got)
	}
}

func TestRouting(t *testing.T) {
	h := newTestHandler(t, newMemStore())
	tests := []struct {
		method, path string
		status       int
		errcode      string
		allow        string
	}{
		{http.MethodGet, "", http.StatusNotFound, ErrNotFound, ""},
		{http.MethodGet, "healthz", http.StatusNotFound, ErrNotFound, ""},
		{http.MethodPost, "pageviews/", http.StatusNotFound, ErrNotFound, ""},
		{http.MethodPut, "customers", http.StatusNotFound, ErrNotFound, ""},
		{http.MethodPut, "customers/a/b", http.StatusNotFound, ErrNotFound, ""},
		{http.MethodPost, "PageViews", http.StatusNotFound, ErrNotFound, ""},
		{http.MethodGet, "pageviews", http.StatusMethodNotAllowed, ErrMethod, "POST"},
		{http.MethodPut, "linkcodes", http.StatusMethodNotAllowed, ErrMethod, "POST"},
		{http.MethodDelete, "visitorcodes", http.StatusMethodNotAllowed, ErrMethod, "POST"},
		{http.MethodGet, "customers/c1", http.StatusMethodNotAllowed, ErrMethod, "PUT"},
		{http.MethodPost, "customers/c1", http.StatusMethodNotAllowed, ErrMethod, "PUT"},
	}
	for _, tt := range tests {
		rec := request{method: tt.method, path: tt.path, body: `{}`}.do(t, h)
		wantError(t, rec, tt.status, tt.errcode, "")
		if got := rec.Header().Get("Allow"); got != tt.allow {
			t.Errorf("%s %s: Allow %q, want %q", tt.method, tt.path, got, tt.allow)
		}
	}
	// Mounted under another prefix by mistake: nothing matches.
	req := request{method: http.MethodPost, body: `{}`}
	rec := requestAt(t, h, req, "/other/v1/visitorcodes")
	wantError(t, rec, http.StatusNotFound, ErrNotFound, "/other/v1/visitorcodes")
}

func TestAccountIDInPath(t *testing.T) {
	store := newMemStore()
	h := newTestHandler(t, store)
	rec := request{method: http.MethodPut, path: "customers/a%2Fb", body: `{}`}.do(t, h)
	wantError(t, rec, http.StatusUnprocessableEntity, ErrInvalid, "account_id (in the path)")
	rec = request{method: http.MethodPut, path: "customers/" + strings.Repeat("x", 129), body: `{}`}.do(t, h)
	wantError(t, rec, http.StatusUnprocessableEntity, ErrInvalid, "account_id")
	// Percent-encoding of allowed characters is undone.
	wantOK[map[string]string](t, request{method: http.MethodPut, path: "customers/ann%40example.com", body: `{}`}.do(t, h))
	if got := store.customers["bank"]; len(got) != 1 || got[0].AccountID != "ann@example.com" {
		t.Errorf("stored %+v", got)
	}
}

// TestBodyErrors runs the rules every endpoint shares on each of them.
func TestBodyErrors(t *testing.T) {
	endpoints := []struct {
		method, path string
		limit        int
	}{
		{http.MethodPut, "customers/c1", maxBody},
		{http.MethodPost, "pageviews", maxBatchBody},
		{http.MethodPost, "linkcodes", maxBody},
		{http.MethodPost, "visitorcodes", maxBody},
	}
	tests := []struct {
		name        string
		contentType string
		body        string
		status      int
		errcode     string
		mentions    string
	}{
		{"no content type", "-", `{}`, http.StatusUnsupportedMediaType, ErrBadJSON, "Content-Type"},
		{"text/plain", "text/plain", `{}`, http.StatusUnsupportedMediaType, ErrBadJSON, "Content-Type"},
		{"form", "application/x-www-form-urlencoded", `{}`, http.StatusUnsupportedMediaType, ErrBadJSON, "Content-Type"},
		{"latin-1", "application/json; charset=latin1", `{}`, http.StatusUnsupportedMediaType, ErrBadJSON, "charset"},
		{"other parameter", "application/json; x=y", `{}`, http.StatusUnsupportedMediaType, ErrBadJSON, "x"},
		{"bad media type", "application/json;;", `{}`, http.StatusUnsupportedMediaType, ErrBadJSON, "Content-Type"},
		{"empty", "", ``, http.StatusBadRequest, ErrBadJSON, "JSON object"},
		{"spaces", "", "  \n", http.StatusBadRequest, ErrBadJSON, "JSON object"},
		{"null", "", `null`, http.StatusBadRequest, ErrBadJSON, "JSON object"},
		{"array", "", `[{}]`, http.StatusBadRequest, ErrBadJSON, "JSON object"},
		{"string", "", `"x"`, http.StatusBadRequest, ErrBadJSON, "JSON object"},
		{"malformed", "", `{"ttl_seconds":}`, http.StatusBadRequest, ErrBadJSON, "invalid JSON"},
		{"truncated", "", `{"ttl_seconds":6`, http.StatusBadRequest, ErrBadJSON, "JSON"},
		{"unclosed", "", `{`, http.StatusBadRequest, ErrBadJSON, "JSON"},
		{"trailing object", "", `{}{}`, http.StatusBadRequest, ErrBadJSON, "after the JSON object"},
		{"trailing garbage", "", `{} x`, http.StatusBadRequest, ErrBadJSON, "after the JSON object"},
		{"unknown field", "", `{"colour":"red"}`, http.StatusBadRequest, ErrUnknownField, `"colour"`},
		{"field case differs", "", `{"TTL_SECONDS":5}`, http.StatusBadRequest, ErrUnknownField, `"TTL_SECONDS"`},
		{"Kelvin sign for k", "", "{\"\u212a\":1}", http.StatusBadRequest, ErrUnknownField, "\u212a"},
	}
	for _, ep := range endpoints {
		for _, tt := range tests {
			t.Run(ep.path+"/"+tt.name, func(t *testing.T) {
				store := newMemStore()
				h := newTestHandler(t, store)
				rec := request{method: ep.method, path: ep.path, contentType: tt.contentType, body: tt.body}.do(t, h)
				wantError(t, rec, tt.status, tt.errcode, tt.mentions)
				if store.calls() != 0 {
					t.Fatal("a refused request stored something")
				}
			})
		}
		t.Run(ep.path+"/too large", func(t *testing.T) {
			store := newMemStore()
			h := newTestHandler(t, store)
			big := `{"x":"` + strings.Repeat("a", ep.limit) + `"}`
			for _, chunked := range []bool{false, true} {
				rec := request{method: ep.method, path: ep.path, body: big, chunked: chunked}.do(t, h)
				wantError(t, rec, http.StatusRequestEntityTooLarge, ErrTooLarge, "limit")
			}
			if store.calls() != 0 {
				t.Fatal("a refused request stored something")
			}
		})
	}
}

// TestKeyTwice: encoding/json would keep the last value without a word.
func TestKeyTwice(t *testing.T) {
	h := newTestHandler(t, newMemStore())
	tests := []struct{ method, path, body, mentions string }{
		{http.MethodPut, "customers/c1", `{"name":"a","tier":"b","name":"c"}`, "name: given twice"},
		{http.MethodPost, "pageviews", `{"views":[{"account_id":"a","url":"https://x.example/","url":"https://y.example/"}]}`, "url: given twice"},
		{http.MethodPost, "linkcodes", `{"account_id":"a","ttl_seconds":5,"ttl_seconds":6}`, "ttl_seconds: given twice"},
		{http.MethodPost, "visitorcodes", `{"ttl_seconds":5, "ttl_seconds" :6}`, "ttl_seconds: given twice"},
	}
	for _, tt := range tests {
		rec := request{method: tt.method, path: tt.path, body: tt.body}.do(t, h)
		wantError(t, rec, http.StatusBadRequest, ErrBadJSON, tt.mentions)
	}
	// The same key in two objects, or as a value, is fine.
	body := `{"views":[{"account_id":"url","url":"https://x.example/"},{"account_id":"b","url":"https://x.example/"}]}`
	wantOK[map[string]int](t, request{path: "pageviews", body: body}.do(t, h))
}

func TestWrongJSONTypeNamesField(t *testing.T) {
	h := newTestHandler(t, newMemStore())
	tests := []struct{ path, body, mentions string }{
		{"visitorcodes", `{"ttl_seconds":"600"}`, "ttl_seconds"},
		{"visitorcodes", `{"ttl_seconds":1.5}`, "ttl_seconds"},
		{"linkcodes", `{"account_id":7}`, "account_id"},
		{"pageviews", `{"views":{}}`, "views"},
		{"pageviews", `{"views":[{"url":5}]}`, "url"},
	}
	for _, tt := range tests {
		rec := request{path: tt.path, body: tt.body}.do(t, h)
		wantError(t, rec, http.StatusBadRequest, ErrBadJSON, tt.mentions)
	}
}

// TestStoreFailure: the client gets a generic 500, the log gets the cause and the
// tenant, and neither gets the key or the body.
func TestStoreFailure(t *testing.T) {
	store := newMemStore()
	store.fail = errors.New("connection refused by db.internal:5432")
	h := newTestHandler(t, store)
	bodies := map[string]string{
		"customers/c1": `{"name":"Secret Name"}`,
		"pageviews":    `{"account_id":"c1","url":"https://bank.example/secret"}`,
		"linkcodes":    `{"account_id":"c1"}`,
		"visitorcodes": `{}`,
	}
	for path, body := range bodies {
		var logs bytes.Buffer
		method := http.MethodPost
		if strings.HasPrefix(path, "customers/") {
			method = http.MethodPut
		}
		rec := requestWithLogger(t, h, request{method: method, path: path, body: body}, zerolog.New(&logs))
		wantError(t, rec, http.StatusInternalServerError, ErrInternal, "internal error")
		if strings.Contains(rec.Body.String(), "db.internal") {
			t.Errorf("%s: the answer holds the store's error: %s", path, rec.Body)
		}
		log := logs.String()
		if !strings.Contains(log, "db.internal") || !strings.Contains(log, `"tenant":"bank"`) {
			t.Errorf("%s: the log lacks the cause or tenant: %s", path, log)
		}
		for _, secret := range []string{bankKey, "Secret Name", "/secret"} {
			if strings.Contains(log, secret) {
				t.Errorf("%s: the log holds %q: %s", path, secret, log)
			}
		}
	}
}

func requestAt(t testing.TB, h http.Handler, r request, path string) *recorder {
	t.Helper()
	return serve(t, h, r, func(req *http.Request) { req.URL.Path = path; req.URL.RawPath = "" })
}

func requestWithAuth(t testing.TB, h http.Handler, r request, header string) *recorder {
	t.Helper()
	return serve(t, h, r, func(req *http.Request) {
		if header != "" {
			req.Header.Set("Authorization", header)
		}
	})
}

func requestWithLogger(t testing.TB, h http.Handler, r request, log zerolog.Logger) *recorder {
	t.Helper()
	return serve(t, h, r, func(req *http.Request) {
		*req = *req.WithContext(log.WithContext(context.Background()))
	})
}

func hashHex(key string) string {
	h := HashKey(key)
	return hex.EncodeToString(h[:])
}
