package integration

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bridge"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/internal/metrics"
	"github.com/contactcenter/contactcenter/reporting"
)

// The contact log and the Prometheus metrics after the journeys: what the log holds
// must be what happened, each thing once, and the metrics must carry no identifier.

// logCounts counts a tenant's contact log entries by kind.
func logCounts(ctx context.Context, t *testing.T, db *database.Database, tenant string) map[reporting.Kind]int {
	t.Helper()
	rows, err := db.Query(ctx, `SELECT kind, COUNT(*) FROM contact_log WHERE tenant_id = $1 GROUP BY kind`, tenant)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	counts := map[reporting.Kind]int{}
	for rows.Next() {
		var kind string
		var n int
		if err = rows.Scan(&kind, &n); err != nil {
			t.Fatal(err)
		}
		counts[reporting.Kind(kind)] = n
	}
	if err = rows.Err(); err != nil {
		t.Fatal(err)
	}
	return counts
}

// checkConversationLog checks one served conversation's log: queued (with a
// pseudonym for the customer), offered to the agent, accepted by them, their first
// response, the consent answers, ended by staff; in that order, each once.
func checkConversationLog(t *testing.T, db *database.Database, conv *database.Conversation, agent id.UserID) {
	t.Helper()
	ctx := context.Background()
	entries, err := db.ContactLog.Conversation(ctx, conv.TenantID, conv.OpenedAt, conv.ID)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	seen := map[reporting.Kind]int{}
	for _, e := range entries {
		kinds = append(kinds, string(e.Kind))
		seen[e.Kind]++
		if strings.Contains(e.Customer, "@") || strings.Contains(e.Detail, "@") {
			t.Errorf("entry %s names someone: customer %q, detail %q", e.Kind, e.Customer, e.Detail)
		}
		switch e.Kind {
		case reporting.Offered, reporting.Accepted, reporting.FirstResponse:
			if e.Agent != agent.String() {
				t.Errorf("%s by %q, want %s", e.Kind, e.Agent, agent)
			}
		case reporting.Queued:
			if !strings.HasPrefix(e.Customer, "Visitor") || e.Step == "" {
				t.Errorf("queued entry: customer %q, step %q; want a pseudonym and a step", e.Customer, e.Step)
			}
		case reporting.Ended:
			if e.Detail != reporting.EndedByAgent {
				t.Errorf("ended by %q, want %q", e.Detail, reporting.EndedByAgent)
			}
		}
	}
	order := []reporting.Kind{reporting.Queued, reporting.Offered, reporting.Accepted, reporting.FirstResponse, reporting.Ended}
	last := -1
	for _, kind := range order {
		i := slices.Index(kinds, string(kind))
		if i < 0 || seen[kind] != 1 || i < last {
			t.Errorf("conversation %d logged %v; want %v once each, in that order", conv.ID, kinds, order)
			break
		}
		last = i
	}
	if seen[reporting.ConsentGiven] == 0 {
		t.Errorf("conversation %d logged %v; want the consent given", conv.ID, kinds)
	}
	c := reporting.Fold(entries)
	if c.Outcome(time.Second) != reporting.OutcomeHandled {
		t.Errorf("conversation %d folds to %s: %+v", conv.ID, c.Outcome(time.Second), c)
	}
}

// scrapeMetrics reads the service's /metrics and returns the contact center's series
// ("name{label=value,…}" → value; histograms by their sample count). No label value
// may be an identifier: a user, room, event or alias ID, or a Matrix server name.
func scrapeMetrics(t *testing.T, url string, forbidden ...string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("scraping %s: %v", url, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("scraping %s: %d %v", url, resp.StatusCode, err)
	}
	for _, s := range forbidden {
		if s != "" && strings.Contains(string(body), s) {
			t.Errorf("the metrics contain %q", s)
		}
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("parsing the metrics: %v", err)
	}
	series := map[string]float64{}
	for name, f := range families {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				if strings.ContainsAny(l.GetValue(), "@!$#:") {
					t.Errorf("%s has the label %s=%q, which looks like an identifier", name, l.GetName(), l.GetValue())
				}
				if strings.HasPrefix(name, "contactcenter_") && !slices.Contains(metrics.Allowed, l.GetName()) {
					t.Errorf("%s has the label %s", name, l.GetName())
				}
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			if !strings.HasPrefix(name, "contactcenter_") {
				continue
			}
			v := m.GetCounter().GetValue() + m.GetGauge().GetValue() + float64(m.GetHistogram().GetSampleCount())
			series[name+"{"+strings.Join(labels, ",")+"}"] += v
		}
	}
	return series
}

// sumSeries adds the series of a metric whose labels include all of match.
func sumSeries(series map[string]float64, name string, match ...string) float64 {
	var sum float64
	for key, v := range series {
		metric, labels, _ := strings.Cut(key, "{")
		if metric != name {
			continue
		}
		ok := true
		for _, m := range match {
			ok = ok && strings.Contains(labels, m)
		}
		if ok {
			sum += v
		}
	}
	return sum
}

// metricsURL is a running service's metrics endpoint.
func metricsURL(t *testing.T, svc *bridge.Bridge) string {
	t.Helper()
	addr := svc.MetricsAddr()
	if addr == "" {
		t.Fatal("the service serves no metrics")
	}
	return fmt.Sprintf("http://%s/metrics", addr)
}

// checkConversationMetrics scrapes the service after one served conversation: the
// contact counters and histograms, the health gauges and the homeserver's latency
// are there, and none of the customer's, the rooms' or the agent's IDs.
func checkConversationMetrics(t *testing.T, svc *bridge.Bridge, customer id.UserID, room id.RoomID, conv *database.Conversation) {
	t.Helper()
	url := metricsURL(t, svc)
	var series map[string]float64
	eventually(t, 10*time.Second, "the conversation's metrics", func() (bool, error) {
		series = scrapeMetrics(t, url, customer.String(), room.String(), conv.DeskRoom.String(), conv.SideRoom.String(), conv.Agent.String())
		return sumSeries(series, "contactcenter_contacts_total", "status=ended", "tenant=acme") >= 1, nil
	})
	for _, want := range []struct {
		name  string
		match []string
	}{
		{"contactcenter_contacts_total", []string{"status=queued", "tenant=acme"}},
		{"contactcenter_contacts_total", []string{"status=offered", "tenant=acme"}},
		{"contactcenter_contacts_total", []string{"status=accepted", "tenant=acme"}},
		{"contactcenter_contacts_total", []string{"status=first_agent_response", "tenant=acme"}},
		{"contactcenter_contact_wait_seconds", []string{"tenant=acme"}},
		{"contactcenter_contact_first_response_seconds", []string{"tenant=acme"}},
		{"contactcenter_contact_handle_seconds", []string{"tenant=acme"}},
		{"contactcenter_homeserver_request_seconds", []string{"status=2xx"}},
		{"contactcenter_agents", []string{"status=ready", "tenant=acme"}},
	} {
		if sumSeries(series, want.name, want.match...) < 1 {
			t.Errorf("no %s%v in the metrics", want.name, want.match)
		}
	}
	for _, gauge := range []string{"contactcenter_inbox_depth", "contactcenter_outbox_depth", "contactcenter_queue_waiting"} {
		found := false
		for key := range series {
			found = found || strings.HasPrefix(key, gauge+"{")
		}
		if !found {
			t.Errorf("no %s in the metrics", gauge)
		}
	}
	if sumSeries(series, "contactcenter_scrape_source_errors") != 0 {
		t.Errorf("a live source failed: %v", series)
	}
}

// checkReplicaContactLog: with two replicas racing over 200 conversations, the log
// holds each conversation queued once and accepted once, and the replicas' counters
// add up to the same: each counted what it committed, nothing twice.
func checkReplicaContactLog(ctx context.Context, t *testing.T, replicas []*bridge.Bridge) {
	t.Helper()
	counts := logCounts(ctx, t, replicas[0].DB, "acme")
	if counts[reporting.Queued] != replicaCustomers || counts[reporting.Accepted] != replicaCustomers {
		t.Errorf("contact log after %d conversations: %v; want each queued and accepted once", replicaCustomers, counts)
	}
	var dups int
	err := replicas[0].DB.QueryRow(ctx, `SELECT COUNT(*) FROM (SELECT conversation_id FROM contact_log
		WHERE tenant_id = 'acme' AND kind = 'accepted' GROUP BY conversation_id HAVING COUNT(*) > 1) d`).Scan(&dups)
	if err != nil || dups != 0 {
		t.Errorf("%d conversations accepted more than once (%v)", dups, err)
	}
	var queued, accepted float64
	eventually(t, 10*time.Second, "the replicas' counters", func() (bool, error) {
		queued, accepted = 0, 0
		for _, r := range replicas {
			series := scrapeMetrics(t, metricsURL(t, r), replicaBusiness, "remote.example")
			queued += sumSeries(series, "contactcenter_contacts_total", "status=queued", "tenant=acme")
			accepted += sumSeries(series, "contactcenter_contacts_total", "status=accepted", "tenant=acme")
		}
		return queued == replicaCustomers && accepted == replicaCustomers, nil
	})
	t.Logf("contact log: %v; the replicas counted %v queued, %v accepted", counts, queued, accepted)
}

// checkSandboxMetrics: the sandbox's metrics are on loopback where sandbox.json says,
// and count the customer's conversation without naming them or their room.
func checkSandboxMetrics(t *testing.T, url string, forbidden ...string) {
	t.Helper()
	if !strings.HasPrefix(url, "http://127.0.0.1:") || !strings.HasSuffix(url, "/metrics") {
		t.Fatalf("the sandbox's metrics URL %q: want loopback", url)
	}
	eventually(t, 10*time.Second, "the sandbox's conversation in the metrics", func() (bool, error) {
		series := scrapeMetrics(t, url, forbidden...)
		return sumSeries(series, "contactcenter_contacts_total", "status=queued") >= 1, nil
	})
}
