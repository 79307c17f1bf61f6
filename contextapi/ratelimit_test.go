package contextapi

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/contactcenter/contactcenter/internal/ratelimit"
)

// A key over its limit gets 429 with Retry-After and the errcode, stores nothing, and
// does not slow down another tenant's key.
func TestRequestsLimitedPerKey(t *testing.T) {
	store := newMemStore()
	h := newTestHandler(t, store)
	h.LimitPerKey(ratelimit.Limit{Per: time.Minute, Burst: 2})
	put := request{method: http.MethodPut, path: "customers/a1", body: `{"name":"Alice"}`}
	for i := range 2 {
		if rec := put.do(t, h); rec.Code != http.StatusOK {
			t.Fatalf("request %d: %d %s", i, rec.Code, rec.Body)
		}
	}
	rec := put.do(t, h)
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("third request: %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	var body errorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Code != ErrRateLimited {
		t.Fatalf("body %s (%v)", rec.Body, err)
	}
	shop := put
	shop.key = shopKey
	if rec := shop.do(t, h); rec.Code != http.StatusOK {
		t.Fatalf("another tenant's key was limited too: %d", rec.Code)
	}
}
