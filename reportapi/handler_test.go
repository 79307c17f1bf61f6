package reportapi_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/contactcenter/contactcenter/internal/dbtest"
	"github.com/contactcenter/contactcenter/reportapi"
	"github.com/contactcenter/contactcenter/reporting"
	"github.com/contactcenter/contactcenter/reporting/reportingtest"
)

const prefix = "/_contactcenter/admin/v1/"

// golden serves the golden day from a real database (SQLite), for acme or another
// tenant.
func golden(t *testing.T) *reportapi.Handler {
	t.Helper()
	db := dbtest.Open(t, "sqlite")
	for _, e := range reportingtest.Entries() {
		if _, err := db.ContactLog.Append(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	now := reportingtest.Period("").Now
	return reportapi.New(db.ContactLog, func() time.Time { return now }, prefix)
}

func get(h http.Handler, tenant, target string) *httptest.ResponseRecorder {
	return do(h, tenant, http.MethodGet, target)
}

func do(h http.Handler, tenant, method, target string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, prefix+target, nil)
	if tenant != "" {
		r = r.WithContext(reportapi.WithTenant(r.Context(), reportapi.Tenant{ID: tenant, Settings: reportingtest.Settings()}))
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// TestSummaryAnswersTheGoldenFigures: the JSON summary of the golden day is the
// hand-computed one for every grouping; another tenant sees none of it.
func TestSummaryAnswersTheGoldenFigures(t *testing.T) {
	h := golden(t)
	for _, groupBy := range []reporting.GroupBy{reporting.ByDay, reporting.ByAgent, reporting.ByStep} {
		w := get(h, reportingtest.Tenant, "reports/summary?from=2025-03-14&to=2025-03-16&group_by="+string(groupBy))
		if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/json" {
			t.Fatalf("%s: %d %s", groupBy, w.Code, w.Body)
		}
		var got reportapi.SummaryResponse
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if got.TimeZone != "Europe/Berlin" || got.ServiceLevelThresholdSeconds != 30 || !got.From.Equal(reportingtest.At(0, 0, 0, 0)) {
			t.Errorf("settings and period: %+v", got)
		}
		rows, total := reportingtest.Expected(groupBy, true)
		for _, d := range reportingtest.Diff(got.Summary, rows, total) {
			t.Errorf("%s: %s", groupBy, d)
		}
	}
	w := get(h, "globex", "reports/summary?from=2025-03-14&to=2025-03-16")
	var other reportapi.SummaryResponse
	if err := json.Unmarshal(w.Body.Bytes(), &other); err != nil || w.Code != http.StatusOK {
		t.Fatal(w.Code, err)
	}
	if other.Total.Queued != 0 || other.Total.Occupancy != nil || len(other.Rows) != 2 || other.Rows[0].Queued != 0 {
		t.Fatalf("another tenant sees %+v", other.Total)
	}
}

// TestConversationsCSV: one row per conversation opened in the period, in order,
// with the pseudonymous reference, times in the tenant's zone and the outcome.
func TestConversationsCSV(t *testing.T) {
	h := golden(t)
	w := get(h, reportingtest.Tenant, "reports/conversations.csv?from=2025-03-14&to=2025-03-15")
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/csv") {
		t.Fatal(w.Code, w.Body)
	}
	records, err := csv.NewReader(w.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(records) != 10 || strings.Join(records[0], ",") != strings.Join(reportapi.CSVHeader, ",") {
		t.Fatalf("%d records, header %v", len(records), records[0])
	}
	want := map[string]string{
		"101": "101,Visitor 65,support,@carol:biz.example,2025-03-14T09:00:00+01:00,2025-03-14T09:00:00+01:00,2025-03-14T09:00:20+01:00,2025-03-14T09:00:50+01:00,2025-03-14T09:10:20+01:00,20,660,0,handled,agent",
		"103": "103,Visitor 67,support,@dave:biz.example,2025-03-14T11:00:00+01:00,2025-03-14T11:00:00+01:00,2025-03-14T11:00:10+01:00,2025-03-14T11:00:20+01:00,2025-03-14T11:08:10+01:00,10,510,1,handled,agent",
		"104": "104,Visitor 68,sales,,2025-03-14T12:00:00+01:00,2025-03-14T12:00:00+01:00,,,2025-03-14T12:00:03+01:00,3,,0,short_abandon,",
		"105": "105,Visitor 69,support,,2025-03-14T13:40:00+01:00,2025-03-14T13:40:00+01:00,,,2025-03-14T13:42:00+01:00,120,,0,abandoned,",
		"106": "106,Visitor 6a,support,@dave:biz.example,2025-03-14T23:58:00+01:00,2025-03-14T23:58:00+01:00,2025-03-14T23:58:25+01:00,2025-03-14T23:59:00+01:00,2025-03-15T00:04:25+01:00,25,360,0,handled,system",
		"107": "107,Visitor 6b,support,@carol:biz.example,2025-03-14T14:00:00+01:00,2025-03-14T14:00:00+01:00,2025-03-14T14:00:40+01:00,2025-03-14T14:01:00+01:00,2025-03-14T14:20:40+01:00,40,1200,0,handled,customer",
		"109": "109,,,,2025-03-14T16:00:00+01:00,,,,,,,0,outbound_declined,",
	}
	var order []string
	for _, rec := range records[1:] {
		order = append(order, rec[0])
		if line, ok := want[rec[0]]; ok && strings.Join(rec, ",") != line {
			t.Errorf("row %s:\n got %s\nwant %s", rec[0], strings.Join(rec, ","), line)
		}
	}
	if strings.Join(order, " ") != "101 102 103 104 105 107 108 109 106" {
		t.Errorf("rows in order %v; want by opening time", order)
	}
}

// TestParametersAreStrict: every malformed request is refused with its errcode
// and the parameter at fault.
func TestParametersAreStrict(t *testing.T) {
	h := golden(t)
	for _, c := range []struct {
		tenant, method, target string
		status                 int
		code, field            string
	}{
		{"acme", "GET", "reports/summary?to=2025-03-16", 422, "CC_INVALID", "from"},
		{"acme", "GET", "reports/summary?from=2025-03-14", 422, "CC_INVALID", "to"},
		{"acme", "GET", "reports/summary?from=14.3.2025&to=2025-03-16", 422, "CC_INVALID", "from"},
		{"acme", "GET", "reports/summary?from=2025-03-16&to=2025-03-14", 422, "CC_INVALID", "to"},
		{"acme", "GET", "reports/summary?from=2025-03-14&to=2025-03-14", 422, "CC_INVALID", "to"},
		{"acme", "GET", "reports/summary?from=2024-01-01&to=2025-03-14", 422, "CC_INVALID", "to"},
		{"acme", "GET", "reports/summary?from=2025-03-14&to=2025-03-16&group_by=week", 422, "CC_INVALID", "group_by"},
		{"acme", "GET", "reports/summary?from=2025-03-14&to=2025-03-16&from=2025-03-13", 422, "CC_INVALID", "from"},
		{"acme", "GET", "reports/summary?from=2025-03-14&to=2025-03-16&tenant=globex", 400, "CC_UNKNOWN_FIELD", "tenant"},
		{"acme", "GET", "reports/conversations.csv?from=2025-03-14&to=2025-03-16&group_by=day", 400, "CC_UNKNOWN_FIELD", "group_by"},
		{"acme", "GET", "reports/summary?from=%zz", 400, "CC_INVALID", "query"},
		{"acme", "POST", "reports/summary?from=2025-03-14&to=2025-03-16", 405, "CC_METHOD", ""},
		{"acme", "GET", "reports/other", 404, "CC_NOT_FOUND", ""},
		{"", "GET", "reports/summary?from=2025-03-14&to=2025-03-16", 401, "CC_UNAUTHORIZED", "Authorization"},
	} {
		w := do(h, c.tenant, c.method, c.target)
		var body struct{ Errcode, Error, Field string }
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatalf("%s %s: %v: %s", c.method, c.target, err, w.Body)
		}
		if w.Code != c.status || body.Errcode != c.code || body.Field != c.field || body.Error == "" {
			t.Errorf("%s %s: %d %+v; want %d %s field %q", c.method, c.target, w.Code, body, c.status, c.code, c.field)
		}
		if c.status == 405 && w.Header().Get("Allow") != "GET, HEAD" {
			t.Errorf("405 without Allow")
		}
	}
}
