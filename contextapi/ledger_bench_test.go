package contextapi

import (
	"context"
	"os"
	"testing"

	"github.com/contactcenter/contactcenter/consent"
	"github.com/contactcenter/contactcenter/internal/dbtest"
	"github.com/contactcenter/contactcenter/testbed/pgcluster"
)

func TestMain(m *testing.M) { os.Exit(pgcluster.Main(m)) }

// ledgerHandler is the API over the real ledger, on a fresh database.
func ledgerHandler(b *testing.B, dbType string) *Handler {
	ledger := consent.NewLedger(dbtest.Open(b, dbType).Database)
	if err := ledger.Upgrade(context.Background()); err != nil {
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
	for _, dbType := range []string{"postgres", "sqlite"} {
		for _, bc := range pageViewBodies() {
			b.Run(dbType+"/"+bc.name, func(b *testing.B) {
				h := ledgerHandler(b, dbType)
				for b.Loop() {
					postPageViews(b, h, bc.body)
				}
				b.ReportMetric(float64(b.N*bc.views)/b.Elapsed().Seconds(), "views/s")
			})
		}
	}
}
