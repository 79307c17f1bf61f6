package voicetest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/pion/webrtc/v4/pkg/media/oggreader"
)

// OggOpus is what a recording holds, read back page by page with checksums
// verified.
type OggOpus struct {
	Channels    uint8
	SampleRate  uint32
	PreSkip     uint16
	Packets     int    // audio pages (the recorder writes one packet per page)
	Granule     uint64 // of the last page: samples at 48 kHz, pre-skip included
	EndOfStream bool   // the last page carries the end-of-stream flag
}

// Duration is the playing time the stream declares.
func (o OggOpus) Duration() time.Duration {
	if o.Granule <= uint64(o.PreSkip) {
		return 0
	}
	return time.Duration(o.Granule-uint64(o.PreSkip)) * time.Second / 48000
}

// ReadOggOpus checks that b is an Ogg/Opus stream (OpusHead, OpusTags, then
// audio pages whose granule positions never go back) and returns its figures.
func ReadOggOpus(b []byte) (*OggOpus, error) {
	r, head, err := oggreader.NewWith(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("ogg/opus head: %w", err)
	}
	o := &OggOpus{Channels: head.Channels, SampleRate: head.SampleRate, PreSkip: head.PreSkip}
	tags := false
	for {
		payload, page, err := r.ParseNextPage()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("ogg page %d: %w", o.Packets, err)
		}
		if !tags {
			if !bytes.HasPrefix(payload, []byte("OpusTags")) {
				return nil, errors.New("ogg/opus: no OpusTags page after the head")
			}
			tags = true
			continue
		}
		if page.GranulePosition < o.Granule {
			return nil, fmt.Errorf("ogg page %d: granule %d goes back from %d", o.Packets, page.GranulePosition, o.Granule)
		}
		o.Granule = page.GranulePosition
		if len(payload) > 0 {
			o.Packets++
		}
	}
	if !tags {
		return nil, errors.New("ogg/opus: no OpusTags page")
	}
	// The last page's header type (byte 5 of its header) carries the flag.
	if i := bytes.LastIndex(b, []byte("OggS")); i >= 0 && i+5 < len(b) {
		o.EndOfStream = b[i+5]&0x04 != 0
	}
	return o, nil
}
