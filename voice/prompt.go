package voice

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"
)

// builtinPrompt is a 2 s Opus recording (a 425 Hz tone for 1 s, then 1 s of
// silence), encoded once with opusenc and split to one packet per page with
// internal/oggsplit: no encoder is needed to build or run the service.
//
//go:embed prompt_tone.ogg
var builtinPrompt []byte

// prompt is a pre-encoded Opus recording, sent as it is (never transcoded).
type prompt struct {
	packets [][]byte // 20 ms each
}

// loadPrompt reads an Ogg/Opus file with one 20 ms Opus packet per page.
func loadPrompt(b []byte) (*prompt, error) {
	r, _, err := oggreader.NewWith(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("voice: prompt: %w", err)
	}
	p := &prompt{}
	for {
		payload, _, err := r.ParseNextPage()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("voice: prompt: %w", err)
		}
		if bytes.HasPrefix(payload, []byte("OpusTags")) {
			continue
		}
		if n := OpusPacketSamples(payload); n != 960 {
			return nil, fmt.Errorf("voice: prompt: page %d holds %d samples, want one 20 ms packet", len(p.packets), n)
		}
		p.packets = append(p.packets, payload)
	}
	if len(p.packets) == 0 {
		return nil, errors.New("voice: prompt: no audio")
	}
	return p, nil
}

// OpusPacketSamples is the duration at 48 kHz of an Opus packet, from its TOC
// byte and frame count (RFC 6716 section 3.1); 0 for an invalid packet.
func OpusPacketSamples(p []byte) int {
	if len(p) == 0 {
		return 0
	}
	cfg := p[0] >> 3
	var frame int
	switch {
	case cfg < 12: // SILK: 10, 20, 40, 60 ms
		frame = []int{480, 960, 1920, 2880}[cfg%4]
	case cfg < 16: // hybrid: 10, 20 ms
		frame = []int{480, 960}[cfg%2]
	default: // CELT: 2.5, 5, 10, 20 ms
		frame = []int{120, 240, 480, 960}[cfg%4]
	}
	switch p[0] & 0x3 {
	case 0:
		return frame
	case 1, 2:
		return 2 * frame
	default:
		if len(p) < 2 {
			return 0
		}
		return int(p[1]&0x3f) * frame
	}
}

// play sends the prompt in a loop to out, at 50 packets/s, while feeder is the
// output's feeder and ctx lives.
func (p *prompt) play(ctx context.Context, e *Engine, out *output, feeder uint64) {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	src := e.nextID()
	var seq uint16
	var ts uint32
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if out.currentFeeder() != feeder {
			return
		}
		pk := rtp.Packet{
			Header:  rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: seq, Timestamp: ts, Marker: i == 0},
			Payload: p.packets[i%len(p.packets)],
		}
		out.write(feeder, src, &pk)
		seq++
		ts += 960
	}
}

// startPrompt plays the prompt to the customer until an agent is bridged.
func (c *Call) startPrompt() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.e.prompt == nil || c.stopPrompt != nil || c.state == CallEnded || c.customer == nil {
		return
	}
	out := c.customer.out[kindAudio].Load()
	if out == nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.stopPrompt = cancel
	feeder := c.e.nextID()
	out.setFeeder(feeder)
	c.e.spawn(func() { c.e.prompt.play(ctx, c.e, out, feeder) })
}
