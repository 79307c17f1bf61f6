package voicebench

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"
)

// TestRelayAgainstDirect runs a small relayed and direct load and checks the
// relay loses nothing and leaves no goroutine. VOICEBENCH_CALLS and
// VOICEBENCH_SECONDS make it a measurement (go test -run TestRelayAgainstDirect -v).
func TestRelayAgainstDirect(t *testing.T) {
	calls, secs := 2, 2
	if v, err := strconv.Atoi(os.Getenv("VOICEBENCH_CALLS")); err == nil {
		calls = v
	}
	if v, err := strconv.Atoi(os.Getenv("VOICEBENCH_SECONDS")); err == nil {
		secs = v
	}
	ctx := context.Background()
	d := time.Duration(secs) * time.Second
	direct, err := Run(ctx, Options{Calls: calls, Duration: d})
	if err != nil {
		t.Fatal(err)
	}
	relayed, err := Run(ctx, Options{Calls: calls, Duration: d, Relayed: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(direct)
	t.Log(relayed)
	t.Logf("relay cost: %+v", Cost(relayed, direct))
	for _, r := range []Result{direct, relayed} {
		if r.Lost != 0 || r.Corrupt != 0 {
			t.Errorf("%s: packets lost or corrupt", r)
		}
		if r.LeftGoroutines > 0 {
			t.Errorf("%s: goroutines left", r)
		}
	}
}

func BenchmarkRelayedCall(b *testing.B) {
	for i := 0; i < b.N; i++ {
		r, err := Run(context.Background(), Options{Calls: 1, Duration: time.Second, Relayed: true})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(r.P50.Microseconds()), "p50-µs")
		b.ReportMetric(float64(r.P95.Microseconds()), "p95-µs")
		b.ReportMetric(float64(r.Lost), "lost")
		b.ReportMetric(r.GoroutinesCall, "goroutines/call")
	}
}

// TestListenedAndRecorded: a listener on each relayed call hears both parties,
// nobody loses a packet, and a recorded run writes files that grow with the call.
func TestListenedAndRecorded(t *testing.T) {
	ctx := context.Background()
	listened, err := Run(ctx, Options{Calls: 2, Duration: 2 * time.Second, Relayed: true, Listeners: true})
	if err != nil {
		t.Fatal(err)
	}
	recorded, err := Run(ctx, Options{Calls: 2, Duration: 2 * time.Second, Relayed: true, RecordDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(listened)
	t.Log(recorded)
	if listened.Lost != 0 || listened.Sent != 2*4*100 || listened.LeftGoroutines > 0 {
		t.Errorf("listened: %s; want 800 packets (each call's two parties, and its listener hearing both), none lost", listened)
	}
	// 2 calls × 2 directions × 100 packets of 160 bytes, plus the pages' headers.
	if recorded.Lost != 0 || recorded.RecordedBytes < 2*2*100*160 || recorded.LeftGoroutines > 0 {
		t.Errorf("recorded: %s, %d bytes written", recorded, recorded.RecordedBytes)
	}
}
