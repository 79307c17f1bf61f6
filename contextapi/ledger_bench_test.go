package contextapi

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rs/zerolog"

	"github.com/contactcenter/contactcenter/consent"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/testbed/pgcluster"
)

func TestMain(m *testing.M) { os.Exit(pgcluster.Main(m)) }

var benchDBs atomic.Int64

// ledgerHandler is the API over the real ledger, on a fresh database.
func ledgerHandler(b *testing.B, dbType string) *Handler {
	cfg := database.Config{Type: dbType, URI: filepath.Join(b.TempDir(), "cc.db")}
	if dbType == "postgres" {
		cluster, _, err := pgcluster.Shared(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if cfg.URI, err = cluster.CreateDatabase(context.Background(), fmt.Sprintf("api_%d_%d", os.Getpid(), benchDBs.Add(1))); err != nil {
			b.Fatal(err)
		}
	}
	db, err := database.Open(cfg, zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	ledger := consent.NewLedger(db.Database)
	if err = ledger.Upgrade(context.Background()); err != nil {
		b.Fatal(err)
	}
	return newTestHandler(b, LedgerStore{Ledger: ledger})
}

// BenchmarkPageViewIngestion posts page views through the whole API into the ledger:
// one view per request, and batches of 100, on PostgreSQL and SQLite, reporting
// views stored per second:
//
//	go test ./contextapi -run '^$' -bench PageViewIngestion
func BenchmarkPageViewIngestion(b *testing.B) {
	view := func(i int) string {
		return fmt.Sprintf(`{"account_id":"cust-%d","url":"https://bank.example/mortgages/fixed-rate?ref=%d","title":"Fixed-rate mortgages","time":"2025-03-14T09:%02d:00Z"}`, i%50, i, i%30)
	}
	views := make([]string, 100)
	for i := range views {
		views[i] = view(i)
	}
	for _, dbType := range []string{"postgres", "sqlite"} {
		for _, bc := range []struct {
			name  string
			body  string
			views int
		}{{"single", view(1), 1}, {"batch100", `{"views":[` + strings.Join(views, ",") + `]}`, 100}} {
			b.Run(dbType+"/"+bc.name, func(b *testing.B) {
				h := ledgerHandler(b, dbType)
				for b.Loop() {
					req := httptest.NewRequest(http.MethodPost, PathPrefix+"pageviews", strings.NewReader(bc.body))
					req.Header.Set("Authorization", "Bearer "+bankKey)
					req.Header.Set("Content-Type", "application/json")
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if rec.Code != http.StatusOK {
						b.Fatalf("status %d: %s", rec.Code, rec.Body)
					}
				}
				b.ReportMetric(float64(b.N*bc.views)/b.Elapsed().Seconds(), "views/s")
			})
		}
	}
}
