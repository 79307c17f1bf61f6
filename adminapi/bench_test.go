package adminapi

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/contactcenter/contactcenter/internal/dbtest"
)

// BenchmarkOutboundAPI measures outbound decisions through the API on PostgreSQL,
// each stored with its inputs and its request, customers all different (no cap
// contention), two requests at a time.
func BenchmarkOutboundAPI(b *testing.B) {
	f := newFixture(b, dbtest.Open(b, "postgres"))
	var n atomic.Int64
	b.SetParallelism(1) // GOMAXPROCS goroutines: 2 on the shared machines
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			customer := fmt.Sprintf("@c%d:customer.test", i)
			f.backend.mu.Lock()
			f.backend.facts[customer] = f.backend.facts["@alice:customer.test"]
			f.backend.mu.Unlock()
			r := httptest.NewRequest(http.MethodPost, PathPrefix+"outbound",
				strings.NewReader(`{"matrix_id":"`+customer+`","reason":"Your offer","agent":"@carol:business.test"}`))
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("Authorization", "Bearer "+acmeKey)
			w := httptest.NewRecorder()
			f.h.ServeHTTP(w, r)
			if w.Code != http.StatusAccepted || !strings.Contains(w.Body.String(), `"state":"routing"`) {
				b.Fatalf("%d %s", w.Code, w.Body.String())
			}
		}
	})
	b.ReportMetric(float64(n.Load())/b.Elapsed().Seconds(), "decisions/s")
}
