package bridge

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/appservice"

	"github.com/contactcenter/contactcenter/contextapi"
)

// brokenStore fails every write, as a database that is down does.
type brokenStore struct{}

var errDown = errors.New("database is down")

func (brokenStore) UpsertCustomer(context.Context, string, contextapi.Customer) error { return errDown }
func (brokenStore) AddPageViews(context.Context, string, []contextapi.PageView) error { return errDown }
func (brokenStore) SaveCode(context.Context, string, contextapi.Code) error           { return errDown }

// A context API request that fails on the server's side is logged with its cause.
func TestContextAPIServerErrorsAreLogged(t *testing.T) {
	var logged bytes.Buffer
	key := contextapi.NewKey()
	api, err := contextapi.New(brokenStore{}, []contextapi.Tenant{{ID: "acme", KeyHashes: [][32]byte{contextapi.HashKey(key)}}})
	if err != nil {
		t.Fatal(err)
	}
	b := &Bridge{Log: zerolog.New(&logged), AS: appservice.Create()}
	req := httptest.NewRequest(http.MethodPut, contextapi.PathPrefix+"customers/a1", strings.NewReader(`{"name":"Alice"}`))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	b.routes(api).ServeHTTP(rec, req)
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if !strings.Contains(logged.String(), "Context API request failed") || !strings.Contains(logged.String(), errDown.Error()) {
		t.Fatalf("the failure was not logged with its cause; log: %q", logged.String())
	}
	if strings.Contains(logged.String(), key) {
		t.Fatal("the API key reached the log")
	}
}
