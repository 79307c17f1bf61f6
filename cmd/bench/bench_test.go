package main

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/contactcenter/contactcenter/testbed/pgcluster"
)

// TestThroughputSmoke runs the throughput benchmark at a tiny size so that it cannot
// rot unnoticed: every variant must start on the fake homeserver, handle every event
// (verify checks the service's inbox row by row) and call nothing the fake lacks.
func TestThroughputSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the service several times and a PostgreSQL cluster")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	pg, err := pgcluster.Start(ctx, "")
	if err != nil {
		t.Logf("no PostgreSQL, measuring SQLite only: %v", err)
		pg = nil
	} else {
		t.Cleanup(func() { _ = pg.Stop() })
	}
	w := workload{Rooms: 3, Txns: 6, Events: 4}
	vs := variants(pg, true, zerolog.Nop())
	all, err := measureThroughput(ctx, vs, w, []int{1, 2}, 2, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if want := len(vs) * 2; len(all) != want {
		t.Fatalf("%d series, want %d", len(all), want)
	}
	for _, s := range all {
		if len(s.Runs) != 2 {
			t.Errorf("%s C=%d: %d runs, want 2", s.Variant, s.Concurrency, len(s.Runs))
		}
		for _, r := range s.Runs {
			if len(r.Unrecognized) > 0 {
				t.Errorf("%s: the fake homeserver lacks %v", s.Variant, r.Unrecognized)
			}
			if s.Variant == bareEcho && r.Sends != w.total() {
				t.Errorf("echo baseline sent %d, want %d", r.Sends, w.total())
			}
			if r.EventsPerS <= 0 || r.TxnLatencyMS.P50 <= 0 {
				t.Errorf("%s: implausible run %+v", s.Variant, r)
			}
		}
	}
	rs := ratios(all)
	if len(rs) == 0 {
		t.Fatal("no ratios")
	}
	printTable(io.Discard, &results{Workload: &w, Throughput: all, Ratios: rs})
}
