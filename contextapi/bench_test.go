package contextapi

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// nopStore accepts everything and keeps nothing, so the benchmark measures the
// handler alone: auth, routing, decoding and validation. The figure with PostgreSQL
// is the store's to measure.
type nopStore struct{}

func (nopStore) UpsertCustomer(context.Context, string, Customer) error { return nil }
func (nopStore) AddPageViews(context.Context, string, []PageView) error { return nil }
func (nopStore) SaveCode(context.Context, string, Code) error           { return nil }

// pageViewBody is one benchmark request: a single view or a batch.
type pageViewBody struct {
	name  string
	body  string
	views int
}

// pageViewBodies are the requests the page-view benchmarks post.
func pageViewBodies() []pageViewBody {
	view := func(i int) string {
		return fmt.Sprintf(`{"account_id":"cust-%d","url":"https://bank.example/mortgages/fixed-rate?ref=%d","title":"Fixed-rate mortgages","time":"2025-03-14T09:%02d:00Z"}`, i%50, i, i%30)
	}
	views := make([]string, 100)
	for i := range views {
		views[i] = view(i)
	}
	return []pageViewBody{{"single", view(1), 1}, {"batch100", `{"views":[` + strings.Join(views, ",") + `]}`, 100}}
}

// postPageViews posts a body through the handler as the bank's client and wants 200.
func postPageViews(b *testing.B, h *Handler, body string) {
	req := httptest.NewRequest(http.MethodPost, PathPrefix+"pageviews", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+bankKey)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
}

// BenchmarkPageViews posts one view, and a batch of 100 (one request each), through
// the whole handler:
//
//	go test ./contextapi -run '^$' -bench PageViews -benchmem
func BenchmarkPageViews(b *testing.B) {
	for _, bc := range pageViewBodies() {
		b.Run(bc.name, func(b *testing.B) {
			h := newTestHandler(b, nopStore{})
			b.SetBytes(int64(len(bc.body)))
			b.ReportAllocs()
			for b.Loop() {
				postPageViews(b, h, bc.body)
			}
		})
	}
}
