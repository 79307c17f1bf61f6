package bridge

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/contactcenter/contactcenter/internal/metrics"
	"github.com/contactcenter/contactcenter/routing"
)

// TestHomeserverRequestsTimed: the clients' requests are timed by status class, a
// failed connection as an error; long polls are not.
func TestHomeserverRequestsTimed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/missing") {
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer srv.Close()
	b := &Bridge{}
	b.reports.metrics = metrics.New(metrics.Sources{})
	client := &http.Client{}
	b.timeRequests(client)
	b.timeRequests(client) // wrapping twice times once
	for _, path := range []string{"/_matrix/client/v3/rooms", "/_matrix/client/v3/missing", "/_matrix/client/v3/sync"} {
		resp, err := client.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if _, err := client.Get("http://127.0.0.1:1/_matrix/client/v3/rooms"); err == nil {
		t.Fatal("a request to a closed port succeeded")
	}
	families, err := b.reports.metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	timed := map[string]uint64{}
	for _, f := range families {
		if f.GetName() != "contactcenter_homeserver_request_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				timed[l.GetValue()] += m.GetHistogram().GetSampleCount()
			}
		}
	}
	// The long poll is not among them.
	if len(timed) != 3 || timed["2xx"] != 1 || timed["4xx"] != 1 || timed["error"] != 1 {
		t.Errorf("requests timed by status: %v; want one 2xx, one 4xx, one error", timed)
	}
}

// TestStepNames: steps are named by their queue or kind, never by an expression.
func TestStepNames(t *testing.T) {
	expr, err := routing.ParseExpr(`mortgage >= 3`)
	if err != nil {
		t.Fatal(err)
	}
	wf := &routing.Workflow{Steps: []routing.Step{{AccountManager: true}, {Expression: expr}, {Queue: "support"}}}
	for i, want := range []string{"account_manager", "step 2", "support", ""} {
		if got := stepName(wf, i); got != want {
			t.Errorf("step %d named %q, want %q", i, got, want)
		}
	}
}
