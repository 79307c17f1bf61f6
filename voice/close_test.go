package voice_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/contactcenter/contactcenter/voice"
	"github.com/contactcenter/contactcenter/voice/voicetest"
	"github.com/rs/zerolog"
)

// TestCloseHangsUpEverythingAndLeavesNoGoroutine: a service stop hangs up every
// live call (none left ringing) and the goroutine count returns to where it was.
func TestCloseHangsUpEverythingAndLeavesNoGoroutine(t *testing.T) {
	base := runtime.NumGoroutine()
	b := &bed{t: t, events: make(chan voice.Event, 256)}
	e, err := voice.New(voice.LoopbackConfig(), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	b.e = e
	if b.api, err = voice.LoopbackConfig().API(); err != nil {
		t.Fatal(err)
	}
	_, cust1, ag1 := b.connectedCall("close-1", false)
	_, cust2, ag2 := b.connectedCall("close-2", true)
	ringing := b.newCall("close-3")
	cust3 := b.newSide("close-3-customer", false)
	b.customerCalls(ringing, cust3)
	stream(t, false, 0, 10, voicetest.OpusPacketSize, cust1.peer, ag2.peer)
	if runtime.NumGoroutine() <= base {
		t.Fatal("calls started no goroutine")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.Close(ctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*voicetest.Peer{cust1.peer, ag1.peer, cust2.peer, ag2.peer, cust3.peer} {
		waitEnded(t, p, voice.ReasonUnknownError)
	}
	if n := len(e.Calls()); n != 0 {
		t.Errorf("%d calls left after Close", n)
	}
	if _, err := e.NewCall(voice.CallOptions{}); err != voice.ErrClosed {
		t.Errorf("NewCall after Close: %v", err)
	}
	for i := len(b.closer) - 1; i >= 0; i-- {
		b.closer[i]()
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines left over the %d before:\n%s", n-base, base, buf[:runtime.Stack(buf, true)])
	}
}
