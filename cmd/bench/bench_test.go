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
// (verify checks the service's inbox, outbox and event map) and call nothing the fake
// lacks.
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
			// Each message is relayed to the desk room and mirrored to the side room.
			if (s.Variant == oursSQLite || s.Variant == oursPostgres || s.Variant == simpleRelayPG) && r.Sends != 2*w.total() {
				t.Errorf("%s sent %d, want %d", s.Variant, r.Sends, 2*w.total())
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

// TestMemorySmoke builds the service and opens a few conversations in it on the fake
// homeserver, so that the memory benchmark cannot rot: the process must start, every
// conversation must be created and drained, and nothing the fake lacks be called.
func TestMemorySmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the service")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	opts := memoryOptions{Databases: []string{"sqlite"}, Conversations: 4, Warmup: 1, PerTxn: 3}
	all, err := measureMemory(ctx, opts, nil, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	m := all[0]
	if m.BeforeRSSKiB <= 0 || m.AfterRSSKiB <= 0 || m.ConvsPerS <= 0 {
		t.Fatalf("implausible reading %+v", m)
	}
	// Per conversation: two rooms; sends: the customer room's start (welcome, consent
	// poll and text, 6 reaction buttons; the place in the queue comes with the routing
	// loop, within a second, so it may or may not be counted yet), the side room's
	// introduction and context card, the relayed message twice; state: the rooms'
	// place in the space and the card's pin.
	sends := m.HomeserverCalls["send"]
	if got := m.HomeserverCalls; got["createRoom"] != 2*opts.Conversations || sends < 13*opts.Conversations || sends > 14*opts.Conversations || got["state"] != 3*opts.Conversations {
		t.Errorf("homeserver calls %v for %d conversations", got, opts.Conversations)
	}
	printTable(io.Discard, &results{MemorySize: &opts, Memory: all})
}

// TestRelaySmoke runs the relay benchmarks on the real test bed at a tiny size: the
// agent must get the conversation, and every message must arrive on both paths, once
// and in order.
func TestRelaySmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two Dendrites and the service")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	opts := relayOptions{Databases: []string{"sqlite"}, Messages: 3, Burst: 5, Rounds: 1}
	all, err := measureRelay(ctx, opts, nil, zerolog.Nop(), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	r := all[0]
	if r.Latency.Relayed.N != 3 || r.Latency.Direct.N != 3 || r.Latency.Bare.N != 3 || r.Latency.RatioP50 <= 0 || r.Latency.RatioBareP50 <= 0 {
		t.Errorf("latency %+v", r.Latency)
	}
	for _, b := range r.Burst.Runs {
		if b.Seen != 5 || b.Missing+b.Duplicates+b.OutOfOrder != 0 || b.MsgsPerS <= 0 {
			t.Errorf("burst %+v", b)
		}
	}
	printTable(io.Discard, &results{RelaySizes: &opts, Relay: all})
}

// TestFloodSmoke floods at a small size: the quiet customers get their welcomes and
// relays, and nothing the limit admitted is lost.
func TestFloodSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the service")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	opts := floodOptions{Databases: []string{"sqlite"}, Messages: 200, PerTxn: 10, Rounds: 1, MinSamples: 3}
	all, err := measureFlood(ctx, opts, nil, zerolog.Nop(), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	r := all[0]
	if r.QuietWelcome.N < 3 || r.FloodRelay.N < 1 || r.RelayRatioP50 <= 0 || r.WelcomeRatioP50 <= 0 {
		t.Errorf("latencies %+v", r)
	}
	if rd := r.Rounds[0]; !rd.OK || rd.Admitted < 60 || rd.SlowDownNotices != 1 {
		t.Errorf("round %+v", rd)
	}
	printFlood(io.Discard, &opts, all)
}
