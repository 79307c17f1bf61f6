package voice_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/contactcenter/contactcenter/voice"
	"github.com/contactcenter/contactcenter/voice/voicetest"
)

// TestRecordingEachDirection: nothing is written before StartRecording; then
// each direction goes to its own valid Ogg/Opus stream, the packets as sent;
// StopRecording stops it before the next packet.
func TestRecordingEachDirection(t *testing.T) {
	b := newBed(t, voice.Config{NoPrompt: true})
	c, cust, ag := b.connectedCall("rec", false)
	sup := b.newSide("rec-supervisor", false)
	b.dialSupervisor(c, sup, voice.ModeBarge)
	waitReady(t, cust.leg, ag.leg, sup.leg)

	stream(t, false, 0, 20, voicetest.OpusPacketSize, cust.peer, ag.peer) // not recorded
	dir := t.TempDir()
	open := func(name string) *os.File {
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	if err := c.StartRecording(voice.RecordingSinks{Customer: open("customer.ogg"), Agent: open("agent.ogg")}); err != nil {
		t.Fatal(err)
	}
	if err := c.StartRecording(voice.RecordingSinks{Customer: open("c2.ogg"), Agent: open("a2.ogg")}); err != voice.ErrRecording {
		t.Errorf("a second recording started: %v", err)
	}
	const n = 50
	// The supervisor talks too: a recording holds the customer and the agent only.
	stream(t, false, 100, n, voicetest.OpusPacketSize, cust.peer, ag.peer, sup.peer)
	time.Sleep(200 * time.Millisecond)
	st, ok, err := c.StopRecording()
	if err != nil || !ok {
		t.Fatalf("stop: %v, %v", ok, err)
	}
	sizes := map[string]int64{}
	for _, name := range []string{"customer.ogg", "agent.ogg"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v", name, fi.Mode().Perm())
		}
		sizes[name] = fi.Size()
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		o, err := voicetest.ReadOggOpus(raw)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		// Test payloads start with a TOC byte of 0: 10 ms each.
		if o.Packets != n || o.Granule != uint64(n*480) || !o.EndOfStream || o.Channels != 2 {
			t.Errorf("%s: %+v; want %d packets, granule %d (pre-skip %d), end of stream", name, o, n, n*480, o.PreSkip)
		}
	}
	if st.Customer.Packets != n || st.Agent.Packets != n || st.Customer.Samples != n*480 {
		t.Errorf("recording stats %+v", st)
	}
	// Stopped: nothing more is written.
	stream(t, false, 200, 20, voicetest.OpusPacketSize, cust.peer, ag.peer)
	time.Sleep(200 * time.Millisecond)
	for name, size := range sizes {
		if fi, _ := os.Stat(filepath.Join(dir, name)); fi.Size() != size {
			t.Errorf("%s grew from %d to %d bytes after the stop", name, size, fi.Size())
		}
	}
	if _, ok, _ := c.StopRecording(); ok || c.Recording() {
		t.Error("a recording still runs")
	}
}
