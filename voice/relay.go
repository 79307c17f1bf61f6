package voice

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Media kinds, as indexes of a leg's outputs.
const (
	kindAudio = 0
	kindVideo = 1
)

func kindIndex(k webrtc.RTPCodecType) int {
	if k == webrtc.RTPCodecTypeVideo {
		return kindVideo
	}
	return kindAudio
}

// boundTrack is a TrackLocalStaticRTP that knows whether pion bound it to its
// sender yet: before that a write is silently discarded, and the relay counts it
// as dropped rather than sent.
type boundTrack struct {
	*webrtc.TrackLocalStaticRTP
	bound atomic.Int32
}

func (t *boundTrack) Bind(c webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	p, err := t.TrackLocalStaticRTP.Bind(c)
	if err == nil {
		t.bound.Add(1)
	}
	return p, err
}

func (t *boundTrack) Unbind(c webrtc.TrackLocalContext) error {
	t.bound.Add(-1)
	return t.TrackLocalStaticRTP.Unbind(c)
}

// output is one outgoing stream of a leg: a TrackLocalStaticRTP (which stamps
// the leg's SSRC and payload type) fed by one source at a time. Sequence numbers
// and timestamps are offset so the stream stays continuous when the source
// changes: the first packet of a new source follows the last one sent, its
// timestamp advanced by the wall time elapsed (at least one frame).
type output struct {
	leg      *Leg
	kind     int
	streamID string
	track    *boundTrack
	sender   *webrtc.RTPSender
	clock    uint32 // RTP clock rate
	frame    uint32 // minimum timestamp step between two sources

	mu      sync.Mutex
	feeder  uint64 // the leg or prompt allowed to write; 0 = none
	src     uint64 // the remote track (or prompt run) last written
	started bool
	seqOff  uint16
	tsOff   uint32
	lastSeq uint16
	lastTS  uint32
	lastAt  time.Time
}

func newOutput(l *Leg, kind int, track *boundTrack, sender *webrtc.RTPSender) *output {
	o := &output{leg: l, kind: kind, streamID: l.streamID, track: track, sender: sender, clock: 48000, frame: 960}
	if kind == kindVideo {
		o.clock, o.frame = 90000, 3000
	}
	return o
}

// setFeeder lets only feeder write from now on.
func (o *output) setFeeder(feeder uint64) {
	o.mu.Lock()
	o.feeder = feeder
	o.mu.Unlock()
}

func (o *output) currentFeeder() uint64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.feeder
}

// write rewrites p (in place) and sends it. rebased tells that src replaced
// another source on this output (video then needs a keyframe); ok that the
// packet was sent.
func (o *output) write(feeder, src uint64, p *rtp.Packet) (rebased, ok bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if feeder != o.feeder {
		return false, false
	}
	if o.track.bound.Load() <= 0 {
		o.leg.st.sentDropped.Add(1)
		return false, false
	}
	now := time.Now()
	if src != o.src {
		rebased = o.started
		if o.started {
			step := uint32(now.Sub(o.lastAt).Seconds() * float64(o.clock))
			if step < o.frame {
				step = o.frame
			}
			o.seqOff = o.lastSeq + 1 - p.SequenceNumber
			o.tsOff = o.lastTS + step - p.Timestamp
		}
		o.src = src
	}
	p.SequenceNumber += o.seqOff
	p.Timestamp += o.tsOff
	// Header extension IDs are negotiated per leg: the other leg's would be
	// misread here, and none is needed to play the media.
	p.Extension = false
	p.Extensions = nil
	p.ExtensionProfile = 0
	if err := o.track.WriteRTP(p); err != nil {
		o.leg.st.sentDropped.Add(1)
		return rebased, false
	}
	o.started = true
	o.lastSeq, o.lastTS, o.lastAt = p.SequenceNumber, p.Timestamp, now
	o.leg.st.sent.add(p.MarshalSize())
	return rebased, true
}

// forward reads one remote track of l and writes it to the matching output of
// the leg it is bridged to. It returns when the track ends (the PeerConnection
// closed).
func (l *Leg) forward(track *webrtc.TrackRemote) {
	kind := kindIndex(track.Kind())
	pt := uint8(track.PayloadType())
	src := l.e.nextID()
	if kind == kindVideo {
		l.videoSSRC.Store(uint32(track.SSRC()))
	}
	buf := make([]byte, 1500)
	var p rtp.Packet
	for {
		n, _, err := track.Read(buf)
		if err != nil {
			return
		}
		l.st.received.add(n)
		if p.Unmarshal(buf[:n]) != nil || p.PayloadType != pt {
			l.st.recvDropped.Add(1)
			continue
		}
		if kind == kindAudio {
			l.forwardAudio(src, &p, n)
			continue
		}
		var dst *output
		if peer := l.peer.Load(); peer != nil {
			dst = peer.out[kind].Load()
		}
		if dst == nil {
			l.st.recvDropped.Add(1)
			continue
		}
		rebased, ok := dst.write(l.id, src, &p)
		if !ok {
			l.st.recvDropped.Add(1)
			continue
		}
		l.st.forwarded.add(n)
		if rebased {
			// The far end decodes a new stream: it needs a keyframe to start.
			l.requestKeyframe()
		}
	}
}

// forwardAudio hands one audio packet of l's party to the recording, if one
// runs, and to every stream that carries l's party (the mode table decides
// which: see Call.reroute). Each stream gets its own copy of the header, which
// it rewrites; the payload is shared, never changed.
func (l *Leg) forwardAudio(src uint64, p *rtp.Packet, n int) {
	if r := l.call.rec.Load(); r != nil {
		r.write(l, p)
	}
	routes := l.routes.Load()
	sent := false
	if routes != nil {
		for _, dst := range *routes {
			q := *p
			if _, ok := dst.write(l.id, src, &q); ok {
				sent = true
			}
		}
	}
	if !sent {
		l.st.recvDropped.Add(1)
		return
	}
	l.st.forwarded.add(n)
}

// drainRTCP reads the RTCP of one sender of l (the interceptors need it read)
// and passes keyframe requests of l's party to the source of that output.
func (l *Leg) drainRTCP(o *output) {
	buf := make([]byte, 1500)
	for {
		n, _, err := o.sender.Read(buf)
		if err != nil {
			return
		}
		if o.kind != kindVideo {
			continue
		}
		pkts, err := rtcp.Unmarshal(buf[:n])
		if err != nil {
			continue
		}
		for _, pk := range pkts {
			switch pk.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				if peer := l.peer.Load(); peer != nil && o.currentFeeder() == peer.id {
					l.st.keyframeReq.Add(1)
					peer.requestKeyframe()
				}
			}
		}
	}
}

// keyframeInterval bounds how often a source is asked for a keyframe: both
// receivers and rebasing may ask at once, and one keyframe serves them all.
const keyframeInterval = 200 * time.Millisecond

// requestKeyframe sends a PLI for l's incoming video.
func (l *Leg) requestKeyframe() {
	ssrc := l.videoSSRC.Load()
	if ssrc == 0 {
		return
	}
	now := time.Now().UnixNano()
	last := l.lastPLI.Load()
	if now-last < int64(keyframeInterval) || !l.lastPLI.CompareAndSwap(last, now) {
		return
	}
	_ = l.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}})
}
