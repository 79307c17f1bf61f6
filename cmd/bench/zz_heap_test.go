package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/contactcenter/contactcenter/bridge"
	"github.com/contactcenter/contactcenter/internal/fakehs"
)

func TestZZHeap(t *testing.T) {
	for _, syncRed := range []bool{true, false} {
		ctx := context.Background()
		dir := t.TempDir()
		port, _ := freePort()
		listen := fmt.Sprintf("127.0.0.1:%d", port)
		fake, _ := fakehs.Start(fakehs.Options{ASToken: asToken, Domain: domain, SenderLocalpart: senderLocalpart, AppserviceURL: "http://" + listen, HSToken: hsToken, Log: zerolog.Nop()})
		cfg, err := benchConfig(ctx, dir, listen, fake.URL, nil, true)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Homeserver.SyncRedactions = syncRed
		svc := bridge.New(cfg, zerolog.Nop())
		if err = svc.Start(ctx); err != nil {
			t.Fatal(err)
		}
		client := newDriver(1)
		open := func(from, n int) {
			for i := from; i < from+n; i++ {
				fake.SetMembership(room(i), customer(i), "join")
				fake.SetMembership(room(i), businessUser, "invite")
			}
			if _, err = sendAll(ctx, client, "http://"+listen, fmt.Sprintf("t%d-", from), conversationTxns(from, n, 10), 1); err != nil {
				t.Fatal(err)
			}
			if err = waitSettled(ctx, svc.DB, from+n); err != nil {
				t.Fatal(err)
			}
			time.Sleep(3 * time.Second) // watcher interval 2 s
		}
		read := func() (uint64, int) {
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			return ms.HeapInuse, runtime.NumGoroutine()
		}
		open(0, 20)
		h0, g0 := read()
		begin := time.Now()
		open(20, 500)
		took := time.Since(begin)
		h1, g1 := read()
		fmt.Fprintf(os.Stderr, "sync_redactions=%v: heap %.1f KiB/conv, goroutines %+d (%.2f/conv), 500 convs in %s\n", syncRed, float64(h1-h0)/500/1024, g1-g0, float64(g1-g0)/500, took)
		svc.Stop()
		fake.Close()
	}
}
