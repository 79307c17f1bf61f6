// Command oggsplit rewrites an Ogg/Opus file (as opusenc writes it, many packets
// per page) into one Opus packet per page, the layout the relay's prompt player
// reads with pion's oggreader (which returns whole pages). It regenerates the
// built-in hold prompt:
//
//	opusenc --bitrate 24 --framesize 20 tone.wav tone.opus
//	go run ./voice/internal/oggsplit tone.opus voice/prompt_tone.ogg
//
// Only 20 ms packets are supported: the prompt is sent at 50 packets/s.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/contactcenter/contactcenter/voice"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4/pkg/media/oggwriter"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: oggsplit IN.opus OUT.ogg")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "oggsplit:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	b, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	packets, err := packetsOf(b)
	if err != nil {
		return err
	}
	if len(packets) < 3 {
		return errors.New("no audio packets")
	}
	w, err := oggwriter.New(out, 48000, 1)
	if err != nil {
		return err
	}
	// The first two packets are OpusHead and OpusTags; oggwriter writes its own.
	for i, p := range packets[2:] {
		if n := voice.OpusPacketSamples(p); n != 960 {
			_ = w.Close()
			return fmt.Errorf("packet %d lasts %d samples, want 960 (20 ms)", i, n)
		}
		err := w.WriteRTP(&rtp.Packet{
			Header:  rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: uint16(i), Timestamp: uint32(i * 960)},
			Payload: p,
		})
		if err != nil {
			_ = w.Close()
			return err
		}
	}
	return w.Close()
}

// packetsOf splits the pages of an Ogg stream into packets by their lacing values.
func packetsOf(b []byte) ([][]byte, error) {
	var packets [][]byte
	var cur []byte
	for len(b) > 0 {
		if len(b) < 27 || string(b[:4]) != "OggS" {
			return nil, errors.New("not an Ogg page")
		}
		n := int(b[26])
		if len(b) < 27+n {
			return nil, errors.New("truncated page header")
		}
		lacing := b[27 : 27+n]
		body := b[27+n:]
		for _, l := range lacing {
			if len(body) < int(l) {
				return nil, errors.New("truncated page")
			}
			cur = append(cur, body[:l]...)
			body = body[l:]
			if l < 255 {
				packets = append(packets, cur)
				cur = nil
			}
		}
		b = body
	}
	return packets, nil
}
