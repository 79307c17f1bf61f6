// Package voicebench measures the relay: per-packet latency it adds and packets
// it loses compared with a direct pion↔pion call, CPU, memory and goroutines per
// relayed call, all on loopback in this process, with Opus-sized packets at
// 50 packets/s each way. cmd/bench and the package's benchmarks call Run.
package voicebench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/contactcenter/contactcenter/voice"
	"github.com/contactcenter/contactcenter/voice/voicetest"
	"github.com/pion/webrtc/v4"
	"github.com/rs/zerolog"
)

// Options of a run.
type Options struct {
	Calls    int           // concurrent calls
	Duration time.Duration // of streaming, both ways at once
	Relayed  bool          // through the relay, or peer to peer
	// Listeners puts a supervisor listening on each relayed call (supervised.go);
	// the supervisor's client talks too, heard by nobody.
	Listeners bool
	// RecordDir records each relayed call, both directions, into files there.
	RecordDir string
}

// Result of a run. CPU covers the whole process (both pion clients of each call
// as well as the relay): the relay's own share is a relayed run minus a direct
// run of the same size (RelayCost).
type Result struct {
	Options
	Setup          time.Duration // all calls set up (sequentially)
	Sent, Received int
	Lost           int
	Corrupt        int
	P50, P95, Max  time.Duration // one-way latency, sender to receiver
	CPUCores       float64       // process CPU time ÷ streaming wall time
	HeapPerCall    float64       // bytes of heap in use per call after setup
	GoroutinesCall float64       // goroutines per call after setup
	LeftGoroutines int           // goroutines left over after every call ended
	RecordedBytes  int64         // of every recording file, when recording
}

func (r Result) String() string {
	kind := "direct"
	if r.Relayed {
		kind = "relayed"
	}
	if r.Listeners {
		kind += "+listener"
	}
	if r.RecordDir != "" {
		kind += "+recording"
	}
	return fmt.Sprintf("%s calls=%d sent=%d received=%d lost=%d corrupt=%d latency p50=%s p95=%s max=%s cpu=%.3f cores heap/call=%.0f KiB goroutines/call=%.1f left=%d setup=%s",
		kind, r.Calls, r.Sent, r.Received, r.Lost, r.Corrupt, r.P50, r.P95, r.Max, r.CPUCores, r.HeapPerCall/1024, r.GoroutinesCall, r.LeftGoroutines, r.Setup)
}

// RelayCost is what the relay adds per call, from a relayed and a direct run of
// the same size: latency p50/p95 difference and CPU cores per call.
type RelayCost struct {
	AddedP50, AddedP95 time.Duration
	CPUPerCall         float64 // cores
	GoroutinesPerCall  float64
	HeapPerCall        float64
	// CallsAt70Pct2Cores is how many relayed calls 70 % of 2 cores hold at this
	// per-call cost (the relay alone; clients run elsewhere in production).
	CallsAt70Pct2Cores int
}

// Cost compares a relayed run with a direct one.
func Cost(relayed, direct Result) RelayCost {
	c := RelayCost{
		AddedP50:          relayed.P50 - direct.P50,
		AddedP95:          relayed.P95 - direct.P95,
		CPUPerCall:        (relayed.CPUCores - direct.CPUCores) / float64(relayed.Calls),
		GoroutinesPerCall: relayed.GoroutinesCall - direct.GoroutinesCall,
		HeapPerCall:       relayed.HeapPerCall - direct.HeapPerCall,
	}
	if c.CPUPerCall > 0 {
		c.CallsAt70Pct2Cores = int(1.4 / c.CPUPerCall)
	}
	return c
}

type call struct {
	a, b  *voicetest.Peer
	sup   *voicetest.Peer // the listener, if any
	pipes []*voicetest.Pipe
	leg   *voice.Call
	files []*os.File // the recording's
}

// peers are the call's clients that talk.
func (c *call) peers() []*voicetest.Peer {
	if c.sup != nil {
		return []*voicetest.Peer{c.a, c.b, c.sup}
	}
	return []*voicetest.Peer{c.a, c.b}
}

// Run sets up opts.Calls calls, streams for opts.Duration and hangs up.
func Run(ctx context.Context, opts Options) (Result, error) {
	res := Result{Options: opts}
	api, err := voice.LoopbackConfig().API()
	if err != nil {
		return res, err
	}
	runtime.GC()
	baseG := runtime.NumGoroutine()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	baseHeap := ms.HeapInuse

	var eng *voice.Engine
	if opts.Relayed {
		if eng, err = voice.New(voice.Config{Loopback: true, NoPrompt: true}, zerolog.Nop()); err != nil {
			return res, err
		}
	}
	calls := make([]*call, 0, opts.Calls)
	cleanup := func() {
		if eng != nil {
			cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			_ = eng.Close(cctx)
			cancel()
		}
		for _, c := range calls {
			for _, p := range c.pipes {
				p.Close()
			}
			c.a.Close()
			c.b.Close()
			if c.sup != nil {
				c.sup.Close()
			}
			for _, f := range c.files {
				_ = f.Close()
			}
		}
	}
	start := time.Now()
	for i := 0; i < opts.Calls; i++ {
		var c *call
		if opts.Relayed {
			c, err = relayedCall(ctx, api, eng, i)
			if err == nil {
				err = supervise(ctx, api, c, i, opts)
			}
		} else {
			c, err = directCall(ctx, api, i)
		}
		if c != nil {
			calls = append(calls, c)
		}
		if err != nil {
			cleanup()
			return res, err
		}
	}
	res.Setup = time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&ms)
	res.HeapPerCall = float64(int64(ms.HeapInuse)-int64(baseHeap)) / float64(opts.Calls)
	res.GoroutinesCall = float64(runtime.NumGoroutine()-baseG) / float64(opts.Calls)

	n := int(opts.Duration / (20 * time.Millisecond))
	cpu0, wall0 := cpuTime(), time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 2*len(calls))
	for _, c := range calls {
		for _, p := range c.peers() {
			wg.Add(1)
			go func(p *voicetest.Peer) {
				defer wg.Done()
				if err := p.Stream(ctx, false, 0, n, voicetest.OpusPacketSize, 20*time.Millisecond); err != nil {
					errs <- err
				}
			}(p)
		}
	}
	wg.Wait()
	time.Sleep(200 * time.Millisecond) // the last packets in flight
	res.CPUCores = (cpuTime() - cpu0).Seconds() / time.Since(wall0).Seconds()
	close(errs)
	for err := range errs {
		cleanup()
		return res, err
	}
	var lat []time.Duration
	for _, c := range calls {
		if c.sup != nil {
			// The listener hears the customer and the agent.
			res.Sent += 2 * n
			res.Received += c.sup.Audio.Stats().Count
		}
		for _, p := range []*voicetest.Peer{c.a, c.b} {
			s := p.Audio.Stats()
			res.Sent += n
			res.Received += s.Count
			res.Corrupt += s.Corrupt
			lat = append(lat, p.Audio.Latencies()...)
		}
	}
	res.Lost = res.Sent - res.Received
	res.RecordedBytes = recordedBytes(calls)
	if len(lat) > 0 {
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		res.P50, res.P95, res.Max = lat[len(lat)/2], lat[len(lat)*95/100], lat[len(lat)-1]
	}
	cleanup()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > baseG && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	res.LeftGoroutines = runtime.NumGoroutine() - baseG
	return res, nil
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func waitConnected(ps ...*voicetest.Peer) error {
	for _, p := range ps {
		select {
		case <-p.Connected:
		case <-time.After(10 * time.Second):
			return fmt.Errorf("%s not connected", p.Name)
		}
	}
	return nil
}

// directCall connects two peers to each other.
func directCall(ctx context.Context, api *webrtc.API, i int) (*call, error) {
	ab, ba := voicetest.NewPipe(), voicetest.NewPipe()
	c := &call{pipes: []*voicetest.Pipe{ab, ba}}
	var err error
	if c.a, err = voicetest.NewPeer(api, voicetest.PeerOptions{Name: fmt.Sprintf("a%d", i), Send: ab.Send}); err != nil {
		return nil, err
	}
	if c.b, err = voicetest.NewPeer(api, voicetest.PeerOptions{Name: fmt.Sprintf("b%d", i), Send: ba.Send}); err != nil {
		c.a.Close()
		return nil, err
	}
	ab.SetTarget(c.b.Handle)
	ba.SetTarget(c.a.Handle)
	if _, err := c.a.Invite("@b:hs"); err != nil {
		return c, err
	}
	select {
	case inv := <-c.b.Invites:
		if err := c.b.Answer(inv); err != nil {
			return c, err
		}
	case <-time.After(5 * time.Second):
		return c, errors.New("no invite")
	}
	return c, waitConnected(c.a, c.b)
}

// relayedCall connects a customer peer and an agent peer through the relay.
func relayedCall(ctx context.Context, api *webrtc.API, e *voice.Engine, i int) (*call, error) {
	toA, fromA, toB, fromB := voicetest.NewPipe(), voicetest.NewPipe(), voicetest.NewPipe(), voicetest.NewPipe()
	c := &call{pipes: []*voicetest.Pipe{toA, fromA, toB, fromB}}
	var err error
	if c.a, err = voicetest.NewPeer(api, voicetest.PeerOptions{Name: fmt.Sprintf("customer%d", i), Send: fromA.Send}); err != nil {
		return nil, err
	}
	if c.b, err = voicetest.NewPeer(api, voicetest.PeerOptions{Name: fmt.Sprintf("agent%d", i), Send: fromB.Send}); err != nil {
		c.a.Close()
		return nil, err
	}
	toA.SetTarget(c.a.Handle)
	toB.SetTarget(c.b.Handle)
	vc, err := e.NewCall(voice.CallOptions{ID: fmt.Sprint(i)})
	if err != nil {
		return c, err
	}
	c.leg = vc
	custLeg := make(chan *voice.Leg, 1)
	var cust *voice.Leg
	fromA.SetTarget(func(m voice.Message) {
		if inv, ok := m.(*voice.Invite); ok {
			l, err := vc.AcceptCustomer(ctx, inv, voice.LegOptions{Send: toA.Send})
			if err != nil {
				close(custLeg)
				return
			}
			custLeg <- l
			return
		}
		if cust != nil {
			_ = cust.Handle(ctx, m)
		}
	})
	if _, err := c.a.Invite("@acme:hs"); err != nil {
		return c, err
	}
	cust = <-custLeg
	if cust == nil {
		return c, errors.New("customer invite refused")
	}
	ag, err := vc.DialAgent(ctx, voice.LegOptions{Send: toB.Send, Invitee: "@agent:hs"})
	if err != nil {
		return c, err
	}
	fromB.SetTarget(func(m voice.Message) { _ = ag.Handle(ctx, m) })
	select {
	case inv := <-c.b.Invites:
		if err := c.b.Answer(inv); err != nil {
			return c, err
		}
	case <-time.After(5 * time.Second):
		return c, errors.New("agent not rung")
	}
	if err := waitConnected(c.a, c.b); err != nil {
		return c, err
	}
	deadline := time.Now().Add(5 * time.Second)
	for !(cust.MediaReady() && ag.MediaReady()) {
		if time.Now().After(deadline) {
			return c, errors.New("relay legs not ready")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return c, nil
}
