package config

import (
	"strings"
	"testing"
	"time"

	"github.com/contactcenter/contactcenter/routing"
)

// TestMetricsAndReportSettings: metrics are off by default in the example; report
// settings take their defaults, the business hours' zone, and refuse nonsense.
func TestMetricsAndReportSettings(t *testing.T) {
	if ex := Example(); ex.Metrics.Listen != "" {
		t.Fatalf("the example turns metrics on at %q", ex.Metrics.Listen)
	}
	if errs := (&MetricsConfig{Listen: "9100"}).validate(); len(errs) != 1 {
		t.Fatalf("listen without a host: %v", errs)
	}
	if errs := (&MetricsConfig{Listen: "127.0.0.1:9100"}).validate(); len(errs) != 0 {
		t.Fatal(errs)
	}
	tenant := Tenant{Hours: routing.Hours{TimeZone: "Europe/Berlin"}}
	s, err := tenant.ReportSettings()
	if err != nil || s.Location.String() != "Europe/Berlin" || s.ShortAbandon != DefaultShortAbandon ||
		s.ServiceLevelThreshold != DefaultServiceLevelThreshold || s.ServiceLevelTarget != DefaultServiceLevelTarget || !s.AbandonsCount {
		t.Fatalf("defaults: %+v, %v", s, err)
	}
	no := false
	tenant.Reports = ReportsConfig{TimeZone: "Asia/Tokyo", ServiceLevelThreshold: 45 * time.Second, AbandonsCount: &no}
	if s, err = tenant.ReportSettings(); err != nil || s.Location.String() != "Asia/Tokyo" || s.ServiceLevelThreshold != 45*time.Second || s.AbandonsCount {
		t.Fatalf("set: %+v, %v", s, err)
	}
	for _, bad := range []ReportsConfig{{TimeZone: "Mars/Olympus"}, {ServiceLevelTarget: 1.5}, {ShortAbandon: -time.Second}} {
		tenant.Reports = bad
		if errs := tenant.validateReports("tenants[0]"); len(errs) != 1 || !strings.Contains(errs[0].Error(), "tenants[0].reports") {
			t.Errorf("%+v: %v", bad, errs)
		}
	}
}
