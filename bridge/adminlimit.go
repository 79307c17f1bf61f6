package bridge

import (
	"crypto/sha256"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/contactcenter/contactcenter/internal/ratelimit"
)

// limitPerBearer limits the requests of each bearer key (by its hash: keys are never
// kept) to limit, as the context API limits its keys, so that one tenant's runaway
// script cannot starve the others. Requests without a key pass on to be refused.
func limitPerBearer(next http.Handler, limit ratelimit.Limit) http.Handler {
	perKey := ratelimit.New(limit, 0)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || key == "" {
			next.ServeHTTP(w, r)
			return
		}
		hash := sha256.Sum256([]byte(key))
		now := time.Now()
		if ok, _ := perKey.Take(string(hash[:]), now); !ok {
			wait := perKey.RetryAfter(string(hash[:]), now)
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			_ = json.NewEncoder(w).Encode(map[string]string{"errcode": "CC_RATE_LIMITED", "error": "too many requests with this key; retry later"})
			return
		}
		next.ServeHTTP(w, r)
	})
}
