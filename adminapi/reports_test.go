package adminapi

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/contactcenter/contactcenter/internal/dbtest"
	"github.com/contactcenter/contactcenter/reporting/reportingtest"
)

// TestReportRoutes: the reports answer a tenant key with its own tenant's figures
// (the golden day's), another tenant's key with none of them, and refuse a provider
// key and no key, as every endpoint does; the CSV streams one row per conversation.
func TestReportRoutes(t *testing.T) {
	db := dbtest.Open(t, "sqlite")
	f := newFixture(t, db)
	f.h.tenants["acme"].Reports = reportingtest.Settings()
	f.h.tenants["globex"].Reports = reportingtest.Settings()
	f.now = reportingtest.Period("day").Now
	for _, e := range reportingtest.Entries() {
		if _, err := db.ContactLog.Append(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	const period = "from=2025-03-14&to=2025-03-16"
	f.refused("GET", "reports/summary?"+period, "", "", 401, ErrUnauthorized, "Authorization")
	f.refused("GET", "reports/summary?"+period, providerKey, "", 403, ErrForbidden, "Authorization")
	f.refused("POST", "reports/summary?"+period, acmeKey, "", 405, ErrMethod, "")
	f.refused("GET", "reports/summary?from=2025-03-14", acmeKey, "", 422, ErrInvalid, "to")
	f.refused("GET", "reports/summary?"+period+"&tenant=globex", acmeKey, "", 400, ErrUnknownField, "tenant")

	status, out := f.do("GET", "reports/summary?"+period+"&group_by=agent", acmeKey, "")
	total, _ := out["total"].(map[string]any)
	rows, _ := out["rows"].([]any)
	if status != 200 || total["queued"] != float64(8) || total["handled"] != float64(6) || len(rows) != 4 || out["time_zone"] != "Europe/Berlin" {
		t.Errorf("acme's summary: %d %v", status, out)
	}
	status, out = f.do("GET", "reports/summary?"+period, globexKey, "")
	if total, _ := out["total"].(map[string]any); status != 200 || total["queued"] != float64(0) {
		t.Errorf("globex sees acme's figures: %d %v", status, out)
	}

	r := httptest.NewRequest("GET", PathPrefix+"reports/conversations.csv?"+period, nil)
	r.Header.Set("Authorization", "Bearer "+acmeKey)
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	records, err := csv.NewReader(strings.NewReader(w.Body.String())).ReadAll()
	if w.Code != http.StatusOK || err != nil || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/csv") {
		t.Fatalf("CSV: %d %v %q", w.Code, err, w.Body.String())
	}
	// The golden day opens conversations 101-109 and an outbound one on the 14th
	// and 15th (100 opened the day before): a row each, after the header.
	if len(records) < 2 || records[0][0] != "conversation" || records[0][1] != "customer" {
		t.Fatalf("CSV rows %v", records)
	}
	ids := map[string]bool{}
	for _, rec := range records[1:] {
		ids[rec[0]] = true
		if strings.Contains(rec[1], "@") {
			t.Errorf("conversation %s names its customer by Matrix ID: %q", rec[0], rec[1])
		}
	}
	if ids["100"] || !ids["101"] || !ids["109"] {
		t.Errorf("CSV conversations %v: want those opened in the period only", ids)
	}
}
