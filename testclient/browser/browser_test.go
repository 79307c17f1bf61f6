package browser

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWriteToneWAV(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tone.wav")
	if err := WriteToneWAV(path, 660, time.Second); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	if string(data[0:4]) != "RIFF" || string(data[8:16]) != "WAVEfmt " || string(data[36:40]) != "data" {
		t.Fatalf("not a WAV header: %q", data[:44])
	}
	if rate, ch, bits := le.Uint32(data[24:]), le.Uint16(data[22:]), le.Uint16(data[34:]); rate != 48000 || ch != 1 || bits != 16 {
		t.Fatalf("format %d Hz, %d channels, %d bits; want 48000, 1, 16", rate, ch, bits)
	}
	n := int(le.Uint32(data[40:])) / 2
	if n != 48000 || len(data) != 44+2*n {
		t.Fatalf("%d samples in %d bytes", n, len(data))
	}
	// A 660 Hz sine crosses zero upwards 660 times a second.
	crossings := 0
	prev := int16(le.Uint16(data[44:]))
	for i := 1; i < n; i++ {
		s := int16(le.Uint16(data[44+2*i:]))
		if prev < 0 && s >= 0 {
			crossings++
		}
		prev = s
	}
	if crossings < 659 || crossings > 660 {
		t.Fatalf("%d upward zero crossings in 1 s; want 660", crossings)
	}
}

// TestBrowserHearsItsMicrophone starts a real headless Chromium, loads the call
// page, feeds the fake microphone to the tone detector and checks it hears its
// own tone and not another; Close leaves no Chromium behind.
func TestBrowserHearsItsMicrophone(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	ctx := context.Background()
	b, err := Start(ctx, Options{ToneHz: 550})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	profile := b.Profile()
	if err := b.call(ctx, "listenToMicrophone", nil, 0, nil); err != nil {
		t.Fatal(err)
	}
	tone, err := b.HearsTone(ctx, 550, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("heard %.1f Hz at %.1f dBFS, %.1f dB over the floor", tone.PeakHz, tone.PeakDB, tone.SNRDB)
	if _, err := b.HearsTone(ctx, 440, time.Second); err == nil {
		t.Fatal("the detector heard 440 Hz in a 550 Hz tone")
	}
	st, err := b.State(ctx)
	if err != nil || st.State != "" {
		t.Fatalf("state before any call: %+v, %v", st, err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if left := processesWith(t, profile); len(left) > 0 {
		t.Fatalf("processes left after Close: %v", left)
	}
}

// processesWith lists the PIDs whose command line mentions s.
func processesWith(t *testing.T, s string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []string
	for _, e := range entries {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(cmdline), s) {
			pids = append(pids, e.Name())
		}
	}
	return pids
}
