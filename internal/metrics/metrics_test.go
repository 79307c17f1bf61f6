package metrics_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/rs/zerolog"

	"github.com/contactcenter/contactcenter/internal/metrics"
	"github.com/contactcenter/contactcenter/reporting"
)

// TestScrapeOverTheListener: the listener on loopback serves every metric with
// only tenant, step and status labels; identifiers passed by mistake never become
// label values; a failing source is reported, not fatal.
func TestScrapeOverTheListener(t *testing.T) {
	m := metrics.New(metrics.Sources{
		Transport: func(context.Context) (metrics.Transport, error) {
			return metrics.Transport{InboxDepth: 3, InboxOldest: 2 * time.Second, OutboxDepth: 1, OutboxOldest: time.Second}, nil
		},
		Queues: func(context.Context) ([]metrics.Queue, error) {
			return []metrics.Queue{{Tenant: "acme", Step: "support", Waiting: 2, OldestWait: 40 * time.Second},
				{Tenant: "acme", Step: "!room:x", Waiting: 1}, {Tenant: "acme", Step: "@carol:x", Waiting: 4}}, nil
		},
		Agents: func(context.Context) ([]metrics.AgentCount, error) { return nil, errors.New("database down") },
	})
	m.ContactEvent("acme", "support", reporting.Queued)
	m.ContactEvent("acme", "support", reporting.Queued)
	m.ContactEvent("acme", "@carol:biz.example", reporting.Accepted)
	m.ContactEvent("acme", "", reporting.AgentStatus)
	m.ContactWait("acme", "support", 12*time.Second)
	m.ContactFirstResponse("acme", "support", 30*time.Second)
	m.ContactHandled("acme", "support", 10*time.Minute)
	m.HandlerError(false)
	m.HandlerError(true)
	m.Panic("handler")
	m.HomeserverRequest(200, 30*time.Millisecond)
	m.HomeserverRequest(0, time.Second)

	if s, err := m.Listen("", zerolog.Nop()); s != nil || err != nil {
		t.Fatalf("no listen address: %v, %v; want nothing started", s, err)
	}
	s, err := m.Listen("127.0.0.1:0", zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	resp, err := http.Get("http://" + s.Addr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatal(resp.Status, string(body))
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	series := map[string]float64{}
	for name, f := range families {
		if !strings.HasPrefix(name, "contactcenter_") {
			continue
		}
		for _, metric := range f.GetMetric() {
			var labels []string
			for _, l := range metric.GetLabel() {
				if !slices.Contains(metrics.Allowed, l.GetName()) {
					t.Errorf("%s has label %s", name, l.GetName())
				}
				if strings.ContainsAny(l.GetValue(), "@!:") {
					t.Errorf("%s has the identifier %q as a label value", name, l.GetValue())
				}
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			v := metric.GetCounter().GetValue() + metric.GetGauge().GetValue() + float64(metric.GetHistogram().GetSampleCount())
			series[name+"{"+strings.Join(labels, ",")+"}"] = v
		}
	}
	for key, want := range map[string]float64{
		"contactcenter_contacts_total{status=queued,step=support,tenant=acme}":   2,
		"contactcenter_contacts_total{status=accepted,step=invalid,tenant=acme}": 1,
		"contactcenter_contact_wait_seconds{step=support,tenant=acme}":           1,
		"contactcenter_contact_first_response_seconds{step=support,tenant=acme}": 1,
		"contactcenter_contact_handle_seconds{step=support,tenant=acme}":         1,
		"contactcenter_handler_errors_total{status=failed}":                      1,
		"contactcenter_handler_errors_total{status=given_up}":                    1,
		"contactcenter_panics_total{status=handler}":                             1,
		"contactcenter_homeserver_request_seconds{status=2xx}":                   1,
		"contactcenter_homeserver_request_seconds{status=error}":                 1,
		"contactcenter_inbox_depth{}":                                            3,
		"contactcenter_inbox_oldest_seconds{}":                                   2,
		"contactcenter_outbox_depth{}":                                           1,
		"contactcenter_queue_waiting{step=support,tenant=acme}":                  2,
		"contactcenter_queue_waiting{step=invalid,tenant=acme}":                  5,
		"contactcenter_queue_oldest_wait_seconds{step=support,tenant=acme}":      40,
		"contactcenter_scrape_source_errors{status=agents}":                      1,
	} {
		if got, ok := series[key]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", key, got, ok, want)
		}
	}
	for key := range series {
		if strings.Contains(key, "agent_status") {
			t.Errorf("staff statuses are counted as contacts: %s", key)
		}
	}
	if _, ok := families["go_goroutines"]; !ok {
		t.Error("the Go runtime's metrics are missing")
	}
}
